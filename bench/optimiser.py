"""Every optimiser benchmark in turn (`make bench`): energy, then mobility and time slots
where their benchmarks exist. `--quick` is passed on to each.

    python bench/optimiser.py [--quick]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
NAMES = ("optimiser_energy", "optimiser_mobility", "optimiser_slots")


def run(name: str, quick: bool) -> None:
    path = BENCH / f"{name}.py"
    if not path.exists():
        print(f"== {name}: not present, skipped", flush=True)
        return
    print(f"== {name}", flush=True)
    spec = importlib.util.spec_from_file_location(f"bench.{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    saved = sys.argv
    sys.argv = [str(path), *(["--quick"] if quick else [])]
    try:
        module.main()
    finally:
        sys.argv = saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller runs")
    args = parser.parse_args()
    sys.path.insert(0, str(BENCH.parent))
    for name in NAMES:
        run(name, args.quick)


if __name__ == "__main__":
    main()

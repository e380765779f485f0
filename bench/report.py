"""Record a benchmark's figures in docs/performance.md, each in its own marked section.

A benchmark prints its figures and calls `record(name, markdown)`; the section between
`<!-- bench:NAME -->` and `<!-- /bench:NAME -->` is replaced, the rest of the file kept.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

PERFORMANCE = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
_HEADER = """# Performance

Figures printed by the benchmarks under `bench/`, each section rewritten by its own
benchmark when it runs (`make bench`, or `python bench/NAME.py`). Numbers are from the
machine named in each section; no test asserts on time.
"""


def machine() -> str:
    """One line naming the machine the figures come from."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory_kib = int(Path("/proc/meminfo").read_text().split()[1])
    except OSError:
        memory_kib = 0
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory_kib / 2**20:.0f} GiB, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=PERFORMANCE.parent,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def record(name: str, markdown: str) -> None:
    """Replace (or append) the section `name` of docs/performance.md."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = (
        f"<!-- bench:{name} -->\n{markdown.strip()}\n\n"
        f"_Run {stamp} at commit {_commit()} on {machine()}._\n<!-- /bench:{name} -->"
    )
    text = PERFORMANCE.read_text() if PERFORMANCE.exists() else _HEADER
    pattern = re.compile(
        rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->", re.S
    )
    text = (
        pattern.sub(lambda _: body, text)
        if pattern.search(text)
        else f"{text.rstrip()}\n\n{body}\n"
    )
    PERFORMANCE.parent.mkdir(parents=True, exist_ok=True)
    PERFORMANCE.write_text(text)


def markdown_table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)

"""`territory optimise solve` and `replay` as a user runs them: JSON out, clear errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from territory.shell.cli import app

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "config/examples/energy.json"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_solve_energy_example_prints_a_full_solution() -> None:
    code, out, _ = run("optimise", "solve", "energy", str(EXAMPLE), "--time-limit", "10")
    assert code == 0
    solution = json.loads(out)
    assert solution["status"] == "optimal" and solution["fallback"] is False
    assert {"objective", "best_bound", "kpis", "decisions", "solve_ms"} <= set(solution)
    problem = json.loads(EXAMPLE.read_text())
    for feeder in problem["feeders"]:
        limit = feeder["limit_kw"]
        limits = limit if isinstance(limit, list) else [limit] * problem["horizon_slots"]
        load = solution["decisions"]["feeder_load_kw"][feeder["id"]]
        assert all(x <= y + 1e-3 for x, y in zip(load, limits, strict=True))
    assert solution["kpis"]["slots_over_limit"]["plan"] == 0


def test_greedy_mode_is_flagged_as_fallback() -> None:
    code, out, _ = run("optimise", "solve", "energy", str(EXAMPLE), "--mode", "greedy")
    assert code == 0
    assert json.loads(out)["fallback"] is True


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda p: p["sessions"][1].update(feeder="nowhere"), "sessions[1].feeder"),
        (lambda p: p["sessions"][0].pop("energy_kwh"), "sessions.0.energy_kwh"),
        (lambda p: p["sessions"][2].update(max_power_kw=-3), "sessions.2.max_power_kw"),
        (lambda p: p["feeders"][0].update(pv_kw=[1, 2]), "feeders[0].pv_kw"),
        (lambda p: p.update(colour="blue"), "colour"),
        (lambda p: p["batteries"][0].update(soc_kwh=99), "batteries[0].soc_kwh"),
    ],
)
def test_malformed_problem_names_the_field(tmp_path: Path, change: object, named: str) -> None:
    problem = json.loads(EXAMPLE.read_text())
    change(problem)  # type: ignore[operator]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(problem))
    code, out, err = run("optimise", "solve", "energy", str(path))
    assert code == 2
    assert named in err and "Traceback" not in err + out


def test_unreadable_problem_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    code, _, err = run("optimise", "solve", "energy", str(path))
    assert code == 2 and "not valid JSON" in err
    code, _, err = run("optimise", "solve", "energy", str(tmp_path / "missing.json"))
    assert code == 2 and "cannot read" in err


def test_unknown_mode_names_the_option() -> None:
    code, _, err = run("optimise", "solve", "energy", str(EXAMPLE), "--mode", "fastest")
    assert code == 2 and "mode" in err


def test_domain_not_built_in_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "optimiser.slots", None)
    code, _, err = run("optimise", "solve", "slots", str(EXAMPLE))
    assert code == 2 and "slots optimiser is not installed" in err


def test_replay_prints_online_and_offline(tmp_path: Path) -> None:
    sessions = {
        "slot_minutes": 60,
        "horizon_slots": 8,
        "sessions": [
            {"id": "a", "feeder": "F", "arrival_slot": 0, "departure_slot": 8,
             "energy_kwh": 40, "max_power_kw": 10},
            {"id": "b", "feeder": "F", "arrival_slot": 4, "departure_slot": 6,
             "energy_kwh": 20, "max_power_kw": 10},
        ],
    }  # fmt: skip
    path = tmp_path / "sessions.json"
    path.write_text(json.dumps(sessions))
    code, out, _ = run("optimise", "replay", "energy", str(path), "--limit-kw", "10")
    assert code == 0
    assert "online" in out and "offline" in out and "online / offline energy: 100.000 %" in out
    code, out, _ = run("optimise", "replay", "energy", str(path), "--limit-kw", "10", "--json")
    report = json.loads(out)
    assert report["online"]["delivered_kwh"] == pytest.approx(60)
    code, _, err = run("optimise", "replay", "energy", str(path), "--limit-kw", "-1")
    assert code == 2 and "limit_kw" in err

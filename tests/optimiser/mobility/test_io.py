"""solve_file on the shipped examples, and clear errors on malformed problems."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest
from pydantic import ValidationError

from optimiser.errors import ProblemError
from optimiser.mobility import solve_file
from optimiser.mobility.io import load_problem
from optimiser.mobility.model import DynamicProblem, StaticProblem
from tests.optimiser.mobility.brute import brute_force_optimum
from tests.optimiser.mobility.checks import check_plan, check_static_answer

EXAMPLES = pathlib.Path(__file__).resolve().parents[3] / "config" / "examples"
STATIC = EXAMPLES / "mobility-static.json"
DYNAMIC = EXAMPLES / "mobility-dynamic.json"


def _write(tmp_path: pathlib.Path, data: Any) -> pathlib.Path:
    path = tmp_path / "problem.json"
    path.write_text(json.dumps(data))
    return path


def test_static_example_is_solved_to_the_optimum() -> None:
    answer = solve_file(STATIC, time_limit=5.0, mode=None)
    problem = load_problem(STATIC)
    assert isinstance(problem, StaticProblem)
    optimum = brute_force_optimum(problem.travel_cost, problem.changes, problem.van_capacity)
    assert answer["status"] == "optimal"
    assert check_static_answer(problem, answer) == optimum
    assert answer["best_bound"] == optimum
    assert answer["kpis"]["imbalance_after"] == 0
    json.dumps(answer)  # JSON-able


def test_dynamic_example_gives_a_checked_plan() -> None:
    answer = solve_file(DYNAMIC, time_limit=2.0, mode="dynamic")
    problem = load_problem(DYNAMIC)
    assert isinstance(problem, DynamicProblem)
    answer_fields = {k: v for k, v in answer.items() if k not in ("domain", "type")}
    from optimiser.mobility.model import DynamicPlan

    check_plan(problem, DynamicPlan.model_validate(answer_fields))
    assert answer["type"] == "dynamic"
    json.dumps(answer)


def _static_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(STATIC.read_text())
    return data


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["travel_cost"].pop(), "travel_cost"),
        (lambda d: d["travel_cost"][2].append(5), "travel_cost[2]"),
        (lambda d: d["stations"][1].update(change=40), "stations[1].change"),
        (lambda d: d["stations"][2].update(id="bs-0001"), "stations[2].id"),
        (lambda d: d.update(van_capacity=0), "van_capacity"),
        (lambda d: d.update(colour="red"), "colour"),
        (lambda d: d["travel_cost"][0].__setitem__(1, -3), "travel_cost[0]"),
        (lambda d: d.pop("type"), "type"),
        (lambda d: d.update(type="hourly"), "type"),
    ],
)
def test_malformed_static_problem_names_the_field(
    tmp_path: pathlib.Path, change: Any, field: str
) -> None:
    data = _static_data()
    change(data)
    with pytest.raises((ProblemError, ValidationError)) as caught:
        solve_file(_write(tmp_path, data), time_limit=1.0, mode=None)
    assert field in str(caught.value)


def test_malformed_dynamic_problem_names_the_field(tmp_path: pathlib.Path) -> None:
    data = json.loads(DYNAMIC.read_text())
    data["stations"][3]["returns"] = data["stations"][3]["returns"][:-1]
    with pytest.raises((ProblemError, ValidationError)) as caught:
        solve_file(_write(tmp_path, data), time_limit=1.0, mode=None)
    assert "stations[3].returns" in str(caught.value)
    data = json.loads(DYNAMIC.read_text())
    data["vans"][0]["load"] = 99
    with pytest.raises((ProblemError, ValidationError)) as caught:
        solve_file(_write(tmp_path, data), time_limit=1.0, mode=None)
    assert "vans[0].load" in str(caught.value)


def test_mode_conflict_bad_json_and_missing_file(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ProblemError, match="type"):
        solve_file(STATIC, time_limit=1.0, mode="dynamic")
    with pytest.raises(ProblemError, match="mode"):
        solve_file(STATIC, time_limit=1.0, mode="weekly")
    broken = tmp_path / "broken.json"
    broken.write_text("{ not json")
    with pytest.raises(ProblemError, match="not valid JSON"):
        solve_file(broken, time_limit=1.0, mode=None)
    with pytest.raises(ProblemError, match="cannot read"):
        solve_file(tmp_path / "absent.json", time_limit=1.0, mode=None)
    with pytest.raises(ProblemError, match="time_limit"):
        solve_file(STATIC, time_limit=0.0, mode=None)


def test_mode_fills_a_missing_type(tmp_path: pathlib.Path) -> None:
    data = _static_data()
    data.pop("type")
    answer = solve_file(_write(tmp_path, data), time_limit=2.0, mode="static")
    assert answer["status"] == "optimal"

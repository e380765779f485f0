"""solve_file: the example problems, the plan's shape, and malformed problems."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from optimiser.errors import ProblemError
from optimiser.slots import solve_file
from tests.optimiser.slots.brute import brute_force
from tests.optimiser.slots.checks import check_feasible, check_kpis
from tests.optimiser.slots.highs import highs_optimum

EXAMPLES = Path(__file__).resolve().parents[3] / "config" / "examples"


@pytest.mark.parametrize("name", ["slots.json", "slots-whole.json"])
def test_examples_solve_to_a_proved_optimum(name: str) -> None:
    problem = json.loads((EXAMPLES / name).read_text())
    plan = solve_file(EXAMPLES / name, 20, None)
    json.dumps(plan)  # JSON-able as it is
    assert plan["status"] == "optimal"
    assert plan["fallback"] is False
    assert {"kpis", "solve_ms", "objective", "best_bound", "assignments"} <= plan.keys()
    unassigned, shift = check_feasible(problem, plan)
    best = highs_optimum(problem, integer=True)
    assert unassigned == best.unassigned
    assert shift == pytest.approx(best.weighted_shift, abs=1e-6)
    check_kpis(problem, plan)
    for resource, peak in plan["kpis"]["peak_load_after"].items():
        assert peak <= plan["kpis"]["peak_load_before"][resource]


def test_yaml_problems_are_read_too(tmp_path: Path) -> None:
    problem = {
        "slots": 3,
        "resources": [{"id": "bay", "kind": "charging_bay", "capacity": 2}],
        "groups": [
            {
                "id": "a",
                "size": 2,
                "resources": ["bay"],
                "preferred": 1,
                "latest": 2,
                "whole": True,
            },
            {
                "id": "b",
                "size": 2,
                "resources": ["bay"],
                "preferred": 1,
                "earliest": 0,
                "whole": True,
            },
        ],
    }
    path = tmp_path / "problem.yaml"
    path.write_text(yaml.safe_dump(problem))
    plan = solve_file(path, 10, "cpsat")
    assert check_feasible(problem, plan) == brute_force(problem)


def _problem(**changes: Any) -> dict[str, Any]:
    problem: dict[str, Any] = {
        "slots": 4,
        "resources": [{"id": "tram", "kind": "corridor", "capacity": 10}],
        "groups": [{"id": "g", "size": 5, "resources": ["tram"], "preferred": 1}],
    }
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        target: Any = problem
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(leaf) if leaf.isdigit() else leaf] = value
    return problem


BAD = [
    (_problem(groups__0__resources=["bus"]), "groups[0].resources: unknown resource 'bus'"),
    (_problem(groups__0__latest=9), "groups[0].latest: slot 9 is past the last slot 3"),
    (_problem(groups__0__earliest=2), "groups[0].earliest: slot 2 is after the preferred"),
    (_problem(groups__0__size=0), "groups.0.size"),
    (_problem(groups__0__colour="red"), "groups.0.colour: Extra inputs are not permitted"),
    (_problem(resources__0__capacity=[1, 2]), "resources[0].capacity: 2 values for 4 slots"),
    (_problem(resources__0__background=-1), "resources[0].background: must be finite"),
    (_problem(resources__0__kind="lift"), "resources.0.kind"),
    (_problem(slots=0), "slots"),
    (
        _problem(groups=[{"id": "g", "size": 1, "resources": ["tram"], "preferred": 1}] * 2),
        "groups: duplicate id 'g'",
    ),
    (
        _problem(people={"resource": ["tram", "tram"], "preferred": [1], "latest": [1]}),
        "people.resource: 2 entries for 1 people",
    ),
    (
        _problem(people={"resource": ["tram", "x"], "preferred": [1, 1]}),
        "people.resource[1]: unknown resource 'x'",
    ),
    (
        _problem(people={"resource": ["tram"] * 3, "preferred": [1, 2, 3], "latest": [1, 1, 3]}),
        "people.latest[1]: 1 is before the preferred slot",
    ),
    (
        _problem(people={"resource": ["tram"], "preferred": [1], "weight": [-2.0]}),
        "people.weight[0]",
    ),
]


@pytest.mark.parametrize(("problem", "expected"), BAD)
def test_malformed_problems_name_the_field(
    problem: dict[str, Any], expected: str, tmp_path: Path
) -> None:
    path = tmp_path / "problem.json"
    path.write_text(json.dumps(problem))
    with pytest.raises(ProblemError) as caught:
        solve_file(path, 5, None)
    assert expected in str(caught.value)


def test_unreadable_and_unparsable_files_are_problem_errors(tmp_path: Path) -> None:
    with pytest.raises(ProblemError, match="cannot read"):
        solve_file(tmp_path / "missing.json", 5, None)
    broken = tmp_path / "broken.json"
    broken.write_text('{"slots": 4,')
    with pytest.raises(ProblemError, match="not valid JSON"):
        solve_file(broken, 5, None)
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]")
    with pytest.raises(ProblemError, match="must be a mapping"):
        solve_file(listed, 5, None)


def test_modes_and_time_limits_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "problem.json"
    path.write_text(json.dumps(_problem(groups__0__whole=True)))
    with pytest.raises(ProblemError, match=r"mode: flow needs .*groups\[0\] must be kept whole"):
        solve_file(path, 5, "flow")
    with pytest.raises(ProblemError, match="mode: must be one of flow, cpsat"):
        solve_file(path, 5, "simplex")
    with pytest.raises(ProblemError, match="time_limit"):
        solve_file(path, 0, None)
    assert solve_file(path, 5, "cpsat")["status"] == "optimal"

"""Min-cost flow for groups that use one resource and may be split person by person.

Network: group g (supply = its people) -> (resource r, slot t) for every t in g's window
with room left (capacity = the group's people, unit cost = weight x |t - preferred|)
-> sink (capacity = room left at (r, t)). `solve_max_flow_with_min_cost` places as
many people as the capacities allow and, among those maximum flows, the cheapest one:
the lexicographic objective (fewest unassigned, then least weighted shift), proved
optimal. Flows are integral because the network's constraint matrix is totally
unimodular.
"""

from __future__ import annotations

from dataclasses import dataclass
from time import perf_counter

import numpy as np
from ortools.graph.python import min_cost_flow

from optimiser.slots.assignment import Assignment
from optimiser.slots.instance import Instance


@dataclass(frozen=True)
class FlowResult:
    assignment: Assignment
    optimal: bool
    status: str
    arcs: int
    build_ms: float
    solve_ms: float


@dataclass(frozen=True)
class _Arcs:
    group: np.ndarray
    slot: np.ndarray
    head: np.ndarray
    capacity: np.ndarray
    cost: np.ndarray


def _window_arcs(instance: Instance) -> _Arcs:
    """One arc per (group, slot in its window) whose resource has room at that slot."""
    groups = instance.groups
    width = groups.latest - groups.earliest + 1
    group = np.repeat(np.arange(groups.size, dtype=np.int64), width)
    starts = np.repeat(np.cumsum(width) - width, width)
    slot = groups.earliest[group] + (np.arange(group.size, dtype=np.int64) - starts)
    resource = groups.set_id[group]
    keep = instance.residual[resource, slot] > 0
    group, slot, resource = group[keep], slot[keep], resource[keep]
    cost = groups.weight_milli[group] * np.abs(slot - groups.preferred[group])
    head = groups.size + resource * instance.slots + slot
    return _Arcs(group, slot, head, groups.count[group], cost)


def solve_flow(instance: Instance) -> FlowResult:
    """The proved optimum when every group has one resource and unit 1."""
    started = perf_counter()
    groups = instance.groups
    arcs = _window_arcs(instance)
    resources, slots = instance.residual.shape
    sink = groups.size + resources * slots
    room = np.flatnonzero(instance.residual.reshape(-1) > 0)

    network = min_cost_flow.SimpleMinCostFlow()
    network.add_arcs_with_capacity_and_unit_cost(
        arcs.group.astype(np.int32),
        arcs.head.astype(np.int32),
        arcs.capacity,
        arcs.cost,
    )
    network.add_arcs_with_capacity_and_unit_cost(
        (groups.size + room).astype(np.int32),
        np.full(room.size, sink, dtype=np.int32),
        instance.residual.reshape(-1)[room],
        np.zeros(room.size, dtype=np.int64),
    )
    supplies = np.append(groups.count, -int(groups.count.sum()))
    nodes = np.append(np.arange(groups.size), sink).astype(np.int32)
    network.set_nodes_supplies(nodes, supplies)
    built = perf_counter()

    status = network.solve_max_flow_with_min_cost()
    solved = perf_counter()
    optimal = status == network.OPTIMAL
    assignment = Assignment.empty()
    if optimal:
        flows = network.flows(np.arange(arcs.group.size, dtype=np.int32))
        assignment = Assignment.of(arcs.group, arcs.slot, flows)
    return FlowResult(
        assignment=assignment,
        optimal=optimal,
        status=str(getattr(status, "name", status)),
        arcs=int(arcs.group.size + room.size),
        build_ms=(built - started) * 1000,
        solve_ms=(solved - built) * 1000,
    )

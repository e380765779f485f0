"""The energy linear programme, solved with OR-Tools' GLOP or scipy's HiGHS.

Lexicographic by weights, in one solve: any kWh over a limit (only possible where base
load alone passes it and batteries cannot help) outweighs any kWh delivered, which
outweighs any cost. Then 'cost' minimises energy cost and feeder peaks, 'headroom'
delivers as early as possible with sooner departures first (for model-predictive
control, it keeps later headroom free for vehicles not yet known).

One weighted solve rather than two stages: a second stage needs a dense "deliver at
least stage 1's energy" row over every charging variable, which made HiGHS several
times slower than the whole weighted solve on 5,000 sessions (docs/optimiser.md).
Feeders share nothing, so the caller solves one LP per feeder (much faster than one
LP for all of them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from optimiser.energy.arrays import EnergyArrays
from optimiser.energy.model import BatterySpec

DELIVERY_WEIGHT = 1e3  # per kWh delivered, against prices scaled to at most 1 per kWh
OVERLOAD_WEIGHT = 1e5  # per kWh over a limit
COST_URGENCY = 1e-3  # 'cost': a hint of earliness, well below any price
BATTERY_USE = 1e-4  # per kWh through a battery: no pointless charge-and-discharge cycling
SOLVERS = ("glop", "highs")
# Measured (docs/optimiser.md): dual simplex without presolve solves the 'cost' objective
# 2-4x faster than GLOP's defaults; for 'headroom' the defaults are up to 3x faster.
GLOP_PARAMETERS = {"cost": "use_dual_simplex: true use_preprocessing: false", "headroom": ""}
BLOCKS = ("x", "load", "charge", "discharge", "soc", "overload", "import", "peak")


@dataclass(frozen=True)
class Layout:
    """Where each block of variables sits in the LP's vector."""

    x_session: np.ndarray  # session of each charging variable
    x_slot: np.ndarray  # slot of each charging variable
    sizes: dict[str, int]
    slots: int

    def block(self, name: str) -> slice:
        start = 0
        for key in BLOCKS:
            if key == name:
                return slice(start, start + self.sizes[key])
            start += self.sizes[key]
        raise KeyError(name)

    @property
    def size(self) -> int:
        return sum(self.sizes.values())

    def start(self, name: str) -> int:
        return int(self.block(name).start)


@dataclass(frozen=True)
class LpResult:
    """The LP's plan, or why there is none."""

    status: str  # optimal | failed
    power: np.ndarray | None  # (S, H) kW
    battery: np.ndarray | None  # (B, H) kW, charging positive
    soc: np.ndarray | None  # (B, H) kWh at the end of each slot
    message: str


def solve_lp(
    arrays: EnergyArrays,
    batteries: list[BatterySpec],
    peak_price: float,
    objective: str,
    time_limit: float,
    solver: str = "glop",
) -> LpResult:
    """The plan for these feeders, sessions and batteries within `time_limit` seconds."""
    layout = make_layout(arrays, batteries)
    a_ub, b_ub, a_eq, b_eq = _constraints(arrays, batteries, layout)
    cost = _objective(arrays, layout, peak_price, objective)
    bounds = _bounds(arrays, batteries, layout)
    limit = max(time_limit, 0.01)
    if solver == "glop":
        parameters = GLOP_PARAMETERS.get(objective, "")
        solution, failure = _run_glop(cost, a_ub, b_ub, a_eq, b_eq, bounds, limit, parameters)
    else:
        solution, failure = _run_highs(cost, a_ub, b_ub, a_eq, b_eq, bounds, limit)
    if solution is None:
        return LpResult("failed", None, None, None, failure)
    return _result(solution, arrays, layout)


def _run_highs(
    cost: np.ndarray,
    a_ub: sp.csr_matrix,
    b_ub: np.ndarray,
    a_eq: sp.csr_matrix,
    b_eq: np.ndarray,
    bounds: np.ndarray,
    time_limit: float,
) -> tuple[np.ndarray | None, str]:
    result: Any = linprog(
        cost,
        A_ub=a_ub,
        b_ub=b_ub,
        A_eq=a_eq,
        b_eq=b_eq,
        bounds=bounds,
        method="highs",
        options={"time_limit": time_limit, "presolve": True},
    )
    if result.status != 0 or result.x is None:
        return None, "ran out of time" if result.status == 1 else str(result.message)
    return np.asarray(result.x), ""


def _run_glop(
    cost: np.ndarray,
    a_ub: sp.csr_matrix,
    b_ub: np.ndarray,
    a_eq: sp.csr_matrix,
    b_eq: np.ndarray,
    bounds: np.ndarray,
    time_limit: float,
    parameters: str,
) -> tuple[np.ndarray | None, str]:
    from ortools.linear_solver.python import model_builder_helper as mbh

    model: Any = mbh.ModelBuilderHelper()
    lower = np.concatenate([np.full(len(b_ub), -np.inf), b_eq])
    upper = np.concatenate([b_ub, b_eq])
    matrix = sp.vstack([a_ub, a_eq]).tocsr()
    model.fill_model_from_sparse_data(
        np.ascontiguousarray(bounds[:, 0]),
        np.ascontiguousarray(bounds[:, 1]),
        cost,
        lower,
        upper,
        matrix,
    )
    solver = mbh.ModelSolverHelper("glop")
    solver.set_time_limit_in_seconds(time_limit)
    if parameters:
        solver.set_solver_specific_parameters(parameters)
    solver.solve(model)
    status = solver.status()
    if status != mbh.SolveStatus.OPTIMAL:
        return None, "ran out of time" if "LIMIT" in status.name else status.name.lower()
    return np.asarray(solver.variable_values()), ""


def make_layout(arrays: EnergyArrays, batteries: list[BatterySpec]) -> Layout:
    lengths = np.maximum(arrays.departure - arrays.arrival, 0)
    x_session = np.repeat(np.arange(len(lengths)), lengths)
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    x_slot = np.arange(len(x_session)) - starts + np.repeat(arrays.arrival, lengths)
    f_h = len(arrays.feeder_ids) * arrays.slots
    b_h = len(batteries) * arrays.slots
    sizes = {"x": len(x_session), "load": f_h, "charge": b_h, "discharge": b_h, "soc": b_h}
    sizes |= {"overload": f_h, "import": f_h, "peak": len(arrays.feeder_ids)}
    return Layout(x_session=x_session, x_slot=x_slot, sizes=sizes, slots=arrays.slots)


def _bounds(arrays: EnergyArrays, batteries: list[BatterySpec], layout: Layout) -> np.ndarray:
    bounds = np.zeros((layout.size, 2))
    bounds[:, 1] = np.inf
    cap = np.minimum(arrays.max_power, arrays.energy / arrays.slot_hours)
    bounds[layout.block("x"), 1] = cap[layout.x_session]
    bounds[layout.block("load"), 0] = -np.inf
    bounds[layout.block("peak"), 0] = -np.inf
    h = layout.slots
    for k, b in enumerate(batteries):
        rows = slice(k * h, (k + 1) * h)  # basic slices: views into `bounds`
        bounds[layout.block("charge"), 1][rows] = b.max_charge_kw
        bounds[layout.block("discharge"), 1][rows] = b.max_discharge_kw
        soc = bounds[layout.block("soc")][rows]
        soc[:, 1] = b.capacity_kwh
        soc[-1, 0] = b.soc_kwh if b.final_soc_kwh is None else b.final_soc_kwh
    return bounds


def _constraints(
    arrays: EnergyArrays, batteries: list[BatterySpec], layout: Layout
) -> tuple[sp.csr_matrix, np.ndarray, sp.csr_matrix, np.ndarray]:
    """≤ rows: session energy; limit, import and peak per feeder-slot.
    = rows: feeder-slot flexible load; battery balance."""
    dt, h, n_x = arrays.slot_hours, layout.slots, layout.sizes["x"]
    fh = np.arange(layout.sizes["load"])
    load = layout.start("load") + fh
    energy = sp.csr_matrix(
        (np.full(n_x, dt), (layout.x_session, np.arange(n_x))),
        shape=(len(arrays.session_ids), layout.size),
    )
    ub = [energy]
    for other in (
        layout.start("overload") + fh,
        layout.start("import") + fh,
        layout.start("peak") + fh // h,
    ):
        values = np.concatenate([np.ones(len(fh)), -np.ones(len(fh))])
        rows, cols = np.concatenate([fh, fh]), np.concatenate([load, other])
        ub.append(sp.csr_matrix((values, (rows, cols)), shape=(len(fh), layout.size)))
    fixed = (arrays.base - arrays.pv).ravel()
    b_ub = np.concatenate([arrays.energy, arrays.limit.ravel() - fixed, -fixed, -fixed])
    flex = _flexible_load(arrays, batteries, layout)
    balance = _battery_balance(batteries, layout, dt)
    b_eq = np.zeros(len(fh) + len(batteries) * h)
    for k, b in enumerate(batteries):
        b_eq[len(fh) + k * h] = b.soc_kwh
    return sp.vstack(ub).tocsr(), b_ub, sp.vstack([flex, balance]).tocsr(), b_eq


def _flexible_load(
    arrays: EnergyArrays, batteries: list[BatterySpec], layout: Layout
) -> sp.csr_matrix:
    """EV charging + battery charging − discharging − load = 0, per feeder-slot."""
    h, n_x = layout.slots, layout.sizes["x"]
    fh = np.arange(layout.sizes["load"])
    rows = [arrays.session_feeder[layout.x_session] * h + layout.x_slot, fh]
    cols = [np.arange(n_x), layout.start("load") + fh]
    vals = [np.ones(n_x), -np.ones(len(fh))]
    for k, b in enumerate(batteries):
        feeder_rows = arrays.feeder_ids.index(b.feeder) * h + np.arange(h)
        for name, sign in (("charge", 1.0), ("discharge", -1.0)):
            rows.append(feeder_rows)
            cols.append(layout.start(name) + k * h + np.arange(h))
            vals.append(np.full(h, sign))
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(len(fh), layout.size),
    )


def _battery_balance(batteries: list[BatterySpec], layout: Layout, dt: float) -> sp.csr_matrix:
    """soc[t] − soc[t−1] − eff·dt·charge[t] + dt/eff·discharge[t] = 0 (soc[−1] on the right)."""
    h = layout.slots
    rows, cols, vals = [], [], []
    for k, b in enumerate(batteries):
        r = k * h + np.arange(h)
        rows += [r, r[1:], r, r]
        cols += [
            layout.start("soc") + r,
            layout.start("soc") + r[:-1],
            layout.start("charge") + r,
            layout.start("discharge") + r,
        ]
        vals += [
            np.ones(h),
            -np.ones(h - 1),
            np.full(h, -b.efficiency * dt),
            np.full(h, dt / b.efficiency),
        ]
    if not rows:
        return sp.csr_matrix((0, layout.size))
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(len(batteries) * h, layout.size),
    )


def _objective(
    arrays: EnergyArrays, layout: Layout, peak_price: float, objective: str
) -> np.ndarray:
    dt = arrays.slot_hours
    cost = np.zeros(layout.size)
    # Sooner departures first, earlier slots first: the weight of a kWh grows with its
    # slot and shrinks with how long its session stays (at most 1 per kWh).
    departure = arrays.departure[layout.x_session].astype(float)
    urgency = (layout.x_slot + 1.0) / departure * dt
    cost[layout.block("charge")] = BATTERY_USE * dt
    cost[layout.block("discharge")] = BATTERY_USE * dt
    cost[layout.block("overload")] = OVERLOAD_WEIGHT * dt
    if objective == "headroom":
        cost[layout.block("x")] = urgency - DELIVERY_WEIGHT * dt
        return cost
    scale = max(float(np.max(np.abs(arrays.price))), 1e-9)
    cost[layout.block("import")] = np.tile(arrays.price / scale * dt, len(arrays.feeder_ids))
    cost[layout.block("peak")] = peak_price / scale
    cost[layout.block("x")] = COST_URGENCY * urgency - DELIVERY_WEIGHT * dt
    return cost


def _result(solution: np.ndarray, arrays: EnergyArrays, layout: Layout) -> LpResult:
    power = np.zeros((len(arrays.session_ids), arrays.slots))
    power[layout.x_session, layout.x_slot] = solution[layout.block("x")]
    shape = (layout.sizes["charge"] // max(layout.slots, 1), layout.slots)
    charge = solution[layout.block("charge")].reshape(shape)
    discharge = solution[layout.block("discharge")].reshape(shape)
    soc = solution[layout.block("soc")].reshape(shape)
    return LpResult("optimal", power, charge - discharge, soc, "")

"""Plans that need no solver: the greedy fallback and the uncontrolled baseline."""

from __future__ import annotations

import numpy as np

from optimiser.energy.arrays import EnergyArrays


def greedy_plan(arrays: EnergyArrays) -> np.ndarray:
    """(S, H) kW: slot by slot, earliest departure first, within each feeder's headroom.

    Never breaks a limit: a feeder-slot gets at most its headroom, a session at most
    its max power and what it still needs.
    """
    power = np.zeros((len(arrays.session_ids), arrays.slots))
    if not arrays.session_ids:
        return power
    remaining = arrays.energy.copy()
    headroom = arrays.headroom
    # One stable sort by (feeder, departure) serves every slot: the active sessions of a
    # feeder then appear in earliest-departure order.
    order = np.lexsort((arrays.departure, arrays.session_feeder))
    feeder_sorted = arrays.session_feeder[order]
    for t in range(arrays.slots):
        active = (arrays.arrival[order] <= t) & (arrays.departure[order] > t)
        want = np.where(
            active, np.minimum(arrays.max_power[order], remaining[order] / arrays.slot_hours), 0.0
        )
        given = _fill_in_order(want, feeder_sorted, headroom[:, t])
        power[order, t] = given
        remaining[order] -= given * arrays.slot_hours
    np.maximum(remaining, 0.0, out=remaining)
    return power


def _fill_in_order(want: np.ndarray, feeder: np.ndarray, headroom: np.ndarray) -> np.ndarray:
    """Give each request, in order, what is left of its feeder's headroom."""
    cumulative = np.cumsum(want)
    # Cumulative demand before each request, counted within its own feeder only.
    starts = np.searchsorted(feeder, np.arange(len(headroom)), side="left")
    offset = np.concatenate(([0.0], cumulative))[starts]
    before = cumulative - want - offset[feeder]
    return np.clip(headroom[feeder] - before, 0.0, want)


def uncontrolled_plan(arrays: EnergyArrays) -> np.ndarray:
    """(S, H) kW: every EV at max power from arrival until it has what it asked for."""
    power = np.zeros((len(arrays.session_ids), arrays.slots))
    remaining = arrays.energy.copy()
    for t in range(arrays.slots):
        active = (arrays.arrival <= t) & (arrays.departure > t)
        draw = np.where(active, np.minimum(arrays.max_power, remaining / arrays.slot_hours), 0.0)
        power[:, t] = draw
        remaining -= draw * arrays.slot_hours
    return power

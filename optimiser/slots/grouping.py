"""Merge identical requests into groups with numpy, so a million people become a few
thousand groups before any solver sees them.

Rows are given as integer key columns (one per attribute). When the product of the
columns' ranges fits in 63 bits the key is packed into one int64 (mixed radix) and
grouped by one argsort of that array, several times faster than
`np.unique(axis=0)`, which is kept for keys too wide to pack.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

_PACKABLE = 2**62


@dataclass(frozen=True)
class Grouped:
    """Result of grouping N rows into G groups."""

    first: np.ndarray
    """[G] index of one row of each group (its key is the group's key)."""
    inverse: np.ndarray
    """[N] group of each row."""
    order: np.ndarray
    """[N] the rows sorted by group (a permutation of 0..N-1)."""

    @property
    def size(self) -> int:
        return int(self.first.size)


def _packed(columns: Sequence[np.ndarray]) -> np.ndarray | None:
    """Each row's key packed into one int64, or None if the key is too wide."""
    lows = [int(column.min()) for column in columns]
    spans = [int(column.max()) - low + 1 for column, low in zip(columns, lows, strict=True)]
    capacity = 1
    for span in spans:
        capacity *= span
    if capacity >= _PACKABLE:
        return None
    packed = np.zeros(columns[0].size, dtype=np.int64)
    for column, low, span in zip(columns, lows, spans, strict=True):
        if span == 1:  # a constant column adds nothing to the key
            continue
        packed *= span
        packed += column
        packed -= low
    return packed


def _group_sorted(key: np.ndarray, order: np.ndarray) -> Grouped:
    """Groups from `key` (one comparable value per row) and `order`, which sorts it."""
    ordered = key[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    group_of_sorted = np.cumsum(np.r_[False, ordered[1:] != ordered[:-1]])
    inverse = np.empty(key.size, dtype=np.int64)
    inverse[order] = group_of_sorted
    return Grouped(first=order[starts], inverse=inverse, order=order)


def group_rows(columns: Sequence[np.ndarray]) -> Grouped:
    """Group identical rows; `columns` are K int64 arrays of N entries each."""
    if columns[0].size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Grouped(first=empty, inverse=empty, order=empty)
    packed = _packed(columns)
    if packed is not None:
        # Members of a group are identical, so an unstable sort is as good as a stable one.
        return _group_sorted(packed, np.argsort(packed))
    rows = np.column_stack(columns)
    _, first, inverse = np.unique(rows, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1).astype(np.int64)
    return Grouped(first=first.astype(np.int64), inverse=inverse, order=np.argsort(inverse))


def group_totals(grouped: Grouped, amounts: np.ndarray) -> np.ndarray:
    """[G] sum of the integer `amounts` of the rows in each group."""
    # bincount sums in float64, exact for totals below 2**53 people.
    totals = np.bincount(grouped.inverse, weights=amounts, minlength=grouped.size)
    return np.rint(totals).astype(np.int64)

"""numpy grouping against plain Python dictionaries."""

from __future__ import annotations

import numpy as np
import pytest

from optimiser.slots.grouping import group_rows, group_totals


@pytest.mark.parametrize("wide", [False, True])
def test_groups_match_a_dictionary(wide: bool) -> None:
    rng = np.random.default_rng(3)
    columns = [rng.integers(0, 4, 5000) for _ in range(4)]
    if wide:  # spans whose product overflows 63 bits take the unpacked path
        columns.append(rng.integers(0, 2, 5000) * 2**40)
        columns.append(rng.integers(0, 2, 5000) * 2**40)
    amounts = rng.integers(1, 9, 5000)
    grouped = group_rows(columns)
    rows = list(zip(*(c.tolist() for c in columns), strict=True))
    expected: dict[tuple[int, ...], int] = {}
    for row, amount in zip(rows, amounts.tolist(), strict=True):
        expected[row] = expected.get(row, 0) + amount
    totals = group_totals(grouped, amounts)
    found = {rows[first]: int(total) for first, total in zip(grouped.first, totals, strict=True)}
    assert found == expected
    for n, row in enumerate(rows):  # every row points at a group with its own key
        assert rows[grouped.first[grouped.inverse[n]]] == row
    assert sorted(grouped.order.tolist()) == list(range(5000))
    assert np.all(np.diff(grouped.inverse[grouped.order]) >= 0)


def test_no_rows_no_groups() -> None:
    grouped = group_rows([np.zeros(0, dtype=np.int64)] * 3)
    assert grouped.size == 0

"""`territory query` against a real SQLite file."""

from __future__ import annotations

import json
import time
from pathlib import Path

from typer.testing import CliRunner

from territory.readings import Reading, Rejection, RejectReason
from territory.shell.cli import app
from territory.store.sqlite import SqliteStore

runner = CliRunner()


def test_query_stats_and_latest(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "t.db")
    now = time.time_ns()
    store.write(
        [
            Reading("meter", "north", "m-1", now - 10**9, 1, {"activePower": 1.0}, now),
            Reading("meter", "north", "m-1", now - 5 * 10**9, 2, {"activePower": 5.0}, now),
            Reading("pv", "north", "p-1", now, 1, {"activePower": 3.0}, now),
        ]
    )
    store.write([Reading("meter", "north", "m-1", now - 10**9, 1, {"activePower": 1.0}, now)])
    store.write_rejects([Rejection(RejectReason.OVERSIZE, "t", b"x", now, "big")])
    store.close()
    url = f"sqlite:///{tmp_path}/t.db"

    stats = runner.invoke(app, ["query", "stats", "--store", url])
    assert stats.exit_code == 0, stats.output
    assert json.loads(stats.output) == {
        "readings": 3,
        "devices": 2,
        "rejected": {"oversize": 1},
        "duplicates": 1,
    }

    latest = runner.invoke(app, ["query", "latest", "--kind", "meter", "--store", url])
    assert latest.exit_code == 0, latest.output
    (meter,) = json.loads(latest.output)
    assert (meter["device_id"], meter["seq"], meter["activePower"]) == ("m-1", 1, 1.0)


def test_bad_store_url_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["query", "stats", "--store", "postgres://nowhere/db"])
    assert result.exit_code == 2
    assert "unknown store URL scheme 'postgres'" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)

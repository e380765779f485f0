"""docs/payloads.md stays true: each kind's example decodes under its own topic."""

from __future__ import annotations

import json
import re
from pathlib import Path

from territory.decode import decode
from territory.kinds import KINDS

PAYLOADS = Path(__file__).resolve().parents[2] / "docs" / "payloads.md"


def test_every_kind_has_an_example_that_decodes() -> None:
    text = PAYLOADS.read_text()
    examples = re.findall(
        r"^### (\w+)\n.*?Topic `([^`]+)`:\n\n```json\n(.*?)```", text, re.S | re.M
    )
    assert {kind for kind, _, _ in examples} == set(KINDS)
    for kind, topic, body in examples:
        payload = json.loads(body)
        # The examples carry a fixed date; decode them as if they had just arrived.
        arrival_ns = int(payload["ts"] * 1e9) + 10**9
        decoded = decode(topic, body.encode(), arrival_ns=arrival_ns)
        assert decoded.rejection is None, (kind, decoded.rejection)
        assert decoded.readings[0].kind == kind


def test_every_reject_reason_is_documented() -> None:
    from territory.readings import RejectReason

    text = PAYLOADS.read_text()
    assert all(f"| `{reason.value}` |" in text for reason in RejectReason)


def test_the_architecture_page_names_only_what_exists() -> None:
    import re as regex

    text = (PAYLOADS.parent / "architecture.md").read_text()
    repo = PAYLOADS.parents[1]
    named = set(
        regex.findall(
            r"`((?:territory|ingest|optimiser|dashboard|devices|bridges|tests)/[\w/.{}]*)`", text
        )
    )
    # Files and folders (topics such as territory/plans/energy are not paths).
    named = {path for path in named if "{" not in path and path.endswith((".py", "/"))}
    assert len(named) > 20
    missing = sorted(path for path in named if not (repo / path).exists())
    assert missing == []
    # Every top-level package has its row in the table of rooms.
    for package in ("territory", "ingest", "optimiser", "dashboard", "bridges", "devices"):
        assert f"| `{package}/` |" in text

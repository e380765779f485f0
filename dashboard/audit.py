"""The console's audit log: who signed in or was refused, who triggered what, from where.

Entries go to the store (`Store.append_audit`), so that they outlive the console and are
read back by `GET /api/audit`, and to the log (logger `dashboard.audit`). An entry names a
token by its holder's name, never by the token: a refused token is not written anywhere.
A token's accepted use is written once per address per `sign_in_every_s`, not per request
(a page makes many); every refusal is written, and refusals are themselves bounded per
address by the sign-in limit.
"""

from __future__ import annotations

import asyncio
import logging
import time

from dashboard.reader import StoreReader
from territory.store import AuditEntry, StoreUnavailable

log = logging.getLogger("dashboard.audit")


class AuditLog:
    """Writes audit entries through the console's store; counts the ones it could not."""

    def __init__(self, reader: StoreReader, sign_in_every_s: float, max_remembered: int = 10_000):
        self.reader = reader
        self.sign_in_every_s = sign_in_every_s
        self.max_remembered = max_remembered
        self.errors = 0
        self._last_sign_in: dict[tuple[str, str], float] = {}

    async def record(
        self, action: str, *, client: str, actor: str = "", role: str = "", detail: str = ""
    ) -> None:
        entry = AuditEntry(
            time=time.time(), action=action, actor=actor, role=role, client=client, detail=detail
        )
        log.info(
            "%s actor=%s role=%s client=%s %s",
            entry.action,
            entry.actor or "-",
            entry.role or "-",
            entry.client,
            entry.detail,
        )
        try:
            await asyncio.to_thread(self.reader.append_audit, entry)
        except StoreUnavailable as exc:
            # The request goes on: a store that is down already shows on /healthz, and the
            # entry is in the log above.
            self.errors += 1
            log.warning("audit entry %s not stored: %s", entry.action, exc)

    async def signed_in(self, actor: str, role: str, client: str) -> None:
        """A token accepted from `client`: written unless it was lately from there."""
        now = time.monotonic()
        key = (actor, client)
        last = self._last_sign_in.get(key)
        if last is not None and now - last < self.sign_in_every_s:
            return
        if len(self._last_sign_in) >= self.max_remembered:
            self._last_sign_in.clear()  # at worst a few extra entries
        self._last_sign_in[key] = now
        await self.record("signin.succeeded", client=client, actor=actor, role=role)

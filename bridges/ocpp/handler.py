"""What the OCPP 1.6 and 2.0.1 handlers share: the connection's state, the answers that
are the same in both versions (BootNotification, Heartbeat), and the bookkeeping of
connector readings and transactions.

`ChargerHandler` sits between a version's handler and the `ocpp` package's common
`ChargePoint`: `class CentralSystem16(ChargerHandler[int], ocpp.v16.ChargePoint)`. The
package routes a message to the methods decorated with `@on`, looked up by attribute on
the instance, so the handlers defined here serve both versions; they answer with the
version's own `call_result` classes (`_call_result`, set by the version's `ChargePoint`).
What differs between the versions (field names, transactions) stays in `v16` and `v201`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from ocpp.charge_point import ChargePoint
from ocpp.routing import after, on

from bridges.ocpp import clock
from bridges.ocpp.station import Station
from bridges.ocpp.telemetry import ConnectorState, samples

# 1.6 numbers its transactions (given by the central system), 2.0.1 names them (given
# by the charger).
TransactionId = TypeVar("TransactionId", int, str)

Publish = Callable[[ConnectorState], None]

# The action names are the same strings in both versions' `Action` enums.
BOOT_NOTIFICATION = "BootNotification"
HEARTBEAT = "Heartbeat"


def now_iso() -> str:
    """The bridge's clock as OCPP writes a time: UTC, to the second."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(clock.now()))


class ChargerHandler(ChargePoint, Generic[TransactionId]):
    """The bridge's end of one connection, whatever its version."""

    version = ""

    def __init__(
        self,
        station: Station,
        connection: Any,
        publish: Publish,
        *,
        heartbeat_s: int,
        call_timeout_s: float,
    ) -> None:
        super().__init__(station.id, connection, response_timeout=call_timeout_s)
        self.station = station
        self.publish = publish
        self.heartbeat_s = heartbeat_s
        self.transactions: dict[TransactionId, int] = {}  # transaction id → connector id

    # -- calls to the charger --------------------------------------------------------------

    async def send_profile(self, payload: dict[str, Any]) -> Any:
        """SetChargingProfile with `payload` (the version's own, from `ProfileRequest`)."""
        # Built by `profiles` to the schema (the tests' chargers validate it); the charger
        # validates what it receives: checking it here again costs the plan's time.
        return await self.call(
            self._call.SetChargingProfile(**payload), suppress=False, skip_schema_validation=True
        )

    # -- messages from the charger that both versions answer alike ------------------------

    @on(BOOT_NOTIFICATION)
    def on_boot(self, **_: Any) -> Any:
        return self._call_result.BootNotification(
            current_time=now_iso(), interval=self.heartbeat_s, status="Accepted"
        )

    @after(BOOT_NOTIFICATION)
    def after_boot(self, **_: Any) -> None:
        self.station.rebooted()

    @on(HEARTBEAT)
    def on_heartbeat(self, **_: Any) -> Any:
        self.station.heard_from()
        return self._call_result.Heartbeat(current_time=now_iso())

    # -- what the versions' handlers do with what they are told ----------------------------

    def heard_from(self, connector_id: int) -> ConnectorState | None:
        """The charger spoke about `connector_id`: its state, if the inventory has it."""
        self.station.heard_from()
        return self.station.connectors.get(connector_id)

    def record_meter_values(self, connector_id: int, meter_value: list[dict[str, Any]]) -> None:
        """MeterValues for one connector: its samples kept, its reading published."""
        state = self.heard_from(connector_id)
        if state is not None:
            for sample in samples(meter_value):
                state.add_sample(sample)
            self.publish(state)

    def by_transaction(self, transaction_id: TransactionId) -> ConnectorState | None:
        """The connector of a transaction: the one it started on, or, for a transaction
        started before a reconnection, the one that still holds its id."""
        connector_id = self.transactions.get(transaction_id)
        if connector_id is not None:
            return self.station.connectors.get(connector_id)
        return next(
            (
                state
                for state in self.station.connectors.values()
                if state.transaction_id == str(transaction_id)
            ),
            None,
        )

"""OCPP 1.6J: the central system's side of one charge point's connection.

Messages from the charger become calls on its `Station` and connector states, and a
reading published for each change; calls to the charger (GetConfiguration,
SetChargingProfile) are made by the station's pusher through `read_config` and
`set_profile`, never from inside a handler (the handler's answer would wait on them).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action

from bridges.ocpp import clock
from bridges.ocpp.profiles import ChargerConfig, ProfileRequest
from bridges.ocpp.station import Station
from bridges.ocpp.telemetry import STATUS, ConnectorState, parse_time, samples

SUBPROTOCOL = "ocpp1.6"
STACK_LEVEL_KEY = "ChargeProfileMaxStackLevel"
RATE_UNIT_KEY = "ChargingScheduleAllowedChargingRateUnit"
# 1.6 transaction ids are given by the central system, as 32-bit integers: counted from a
# start that differs from one run of the bridge to the next.
_TRANSACTION_IDS = itertools.count(int(time.time()) % 1_000_000_000)

Publish = Callable[[ConnectorState], None]


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(clock.now()))


class CentralSystem16(ChargePoint):
    """The bridge's end of a 1.6 connection."""

    version = "1.6"

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
        self.transactions: dict[int, int] = {}  # transaction id → connector id

    # -- calls to the charger --------------------------------------------------------------

    async def read_config(self) -> ChargerConfig:
        answer = await self.call(call.GetConfiguration(key=[STACK_LEVEL_KEY, RATE_UNIT_KEY]))
        values = {
            item["key"]: item.get("value")
            for item in (getattr(answer, "configuration_key", None) or [])
        }
        return ChargerConfig.parse(values.get(STACK_LEVEL_KEY), values.get(RATE_UNIT_KEY))

    async def set_profile(self, profile: ProfileRequest) -> tuple[str, dict[str, Any]]:
        # Built by `profiles` to the schema (the tests' chargers validate it); the charger
        # validates what it receives: checking it here again costs the plan's time.
        answer = await self.call(
            call.SetChargingProfile(**profile.v16()), suppress=False, skip_schema_validation=True
        )
        return str(answer.status), {"status": str(answer.status)}

    # -- messages from the charger -------------------------------------------------------

    @on(Action.boot_notification)
    def on_boot(self, **_: Any) -> call_result.BootNotification:
        return call_result.BootNotification(
            current_time=_now_iso(), interval=self.heartbeat_s, status="Accepted"
        )

    @after(Action.boot_notification)
    def after_boot(self, **_: Any) -> None:
        self.station.rebooted()

    @on(Action.heartbeat)
    def on_heartbeat(self) -> call_result.Heartbeat:
        self.station.heard_from()
        return call_result.Heartbeat(current_time=_now_iso())

    @on(Action.authorize)
    def on_authorize(self, id_tag: str, **_: Any) -> call_result.Authorize:
        # Who may charge is the charger operator's business: the bridge only manages power.
        return call_result.Authorize(id_tag_info={"status": "Accepted"})

    @on(Action.status_notification)
    def on_status(
        self, connector_id: int, status: str, timestamp: str | None = None, **_: Any
    ) -> call_result.StatusNotification:
        self.station.heard_from()
        state = self.station.connectors.get(connector_id)
        if state is not None and status in STATUS:
            state.set_status(STATUS[status], parse_time(timestamp))
            self.publish(state)
        return call_result.StatusNotification()

    @on(Action.meter_values)
    def on_meter_values(
        self, connector_id: int, meter_value: list[dict[str, Any]], **_: Any
    ) -> call_result.MeterValues:
        self.station.heard_from()
        state = self.station.connectors.get(connector_id)
        if state is not None:
            for sample in samples(meter_value):
                state.add_sample(sample)
            self.publish(state)
        return call_result.MeterValues()

    @on(Action.start_transaction)
    def on_start_transaction(
        self, connector_id: int, meter_start: int, timestamp: str, **_: Any
    ) -> call_result.StartTransaction:
        self.station.heard_from()
        transaction_id = next(_TRANSACTION_IDS)
        state = self.station.connectors.get(connector_id)
        if state is not None:
            self.transactions[transaction_id] = connector_id
            state.start_transaction(str(transaction_id), parse_time(timestamp), meter_start / 1e3)
            self.publish(state)
            self.station.transaction_changed()
        return call_result.StartTransaction(
            transaction_id=transaction_id, id_tag_info={"status": "Accepted"}
        )

    @on(Action.stop_transaction)
    def on_stop_transaction(
        self, transaction_id: int, meter_stop: int, timestamp: str, **_: Any
    ) -> call_result.StopTransaction:
        self.station.heard_from()
        connector_id = self.transactions.pop(transaction_id, None)
        state = self._by_transaction(transaction_id, connector_id)
        if state is not None:
            state.stop_transaction(parse_time(timestamp), meter_stop / 1e3)
            self.publish(state)
            self.station.transaction_changed()
        return call_result.StopTransaction(id_tag_info={"status": "Accepted"})

    def _by_transaction(
        self, transaction_id: int, connector_id: int | None
    ) -> ConnectorState | None:
        if connector_id is not None:
            return self.station.connectors.get(connector_id)
        # Started before a reconnection: found by the id the connector still holds.
        return next(
            (
                s
                for s in self.station.connectors.values()
                if s.transaction_id == str(transaction_id)
            ),
            None,
        )

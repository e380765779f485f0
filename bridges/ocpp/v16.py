"""OCPP 1.6J: the central system's side of one charge point's connection.

Messages from the charger become calls on its `Station` and connector states, and a
reading published for each change; calls to the charger (GetConfiguration,
SetChargingProfile) are made by the station's pusher through `read_config` and
`set_profile`, never from inside a handler (the handler's answer would wait on them).
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action

from bridges.ocpp.handler import ChargerHandler
from bridges.ocpp.profiles import ChargerConfig, ProfileRequest
from bridges.ocpp.telemetry import STATUS, parse_time

SUBPROTOCOL = "ocpp1.6"
STACK_LEVEL_KEY = "ChargeProfileMaxStackLevel"
RATE_UNIT_KEY = "ChargingScheduleAllowedChargingRateUnit"
# 1.6 transaction ids are given by the central system, as 32-bit integers: counted from a
# start that differs from one run of the bridge to the next.
_TRANSACTION_IDS = itertools.count(int(time.time()) % 1_000_000_000)


class CentralSystem16(ChargerHandler[int], ChargePoint):
    """The bridge's end of a 1.6 connection (BootNotification and Heartbeat answered by
    `ChargerHandler`)."""

    version = "1.6"

    # -- calls to the charger --------------------------------------------------------------

    async def read_config(self) -> ChargerConfig:
        answer = await self.call(call.GetConfiguration(key=[STACK_LEVEL_KEY, RATE_UNIT_KEY]))
        values = {
            item["key"]: item.get("value")
            for item in (getattr(answer, "configuration_key", None) or [])
        }
        return ChargerConfig.parse(values.get(STACK_LEVEL_KEY), values.get(RATE_UNIT_KEY))

    async def set_profile(self, profile: ProfileRequest) -> tuple[str, dict[str, Any]]:
        answer = await self.send_profile(profile.v16())
        return str(answer.status), {"status": str(answer.status)}

    # -- messages from the charger -------------------------------------------------------

    @on(Action.authorize)
    def on_authorize(self, id_tag: str, **_: Any) -> call_result.Authorize:
        # Who may charge is the charger operator's business: the bridge only manages power.
        return call_result.Authorize(id_tag_info={"status": "Accepted"})

    @on(Action.status_notification)
    def on_status(
        self, connector_id: int, status: str, timestamp: str | None = None, **_: Any
    ) -> call_result.StatusNotification:
        state = self.heard_from(connector_id)
        if state is not None and status in STATUS:
            state.set_status(STATUS[status], parse_time(timestamp))
            self.publish(state)
        return call_result.StatusNotification()

    @on(Action.meter_values)
    def on_meter_values(
        self, connector_id: int, meter_value: list[dict[str, Any]], **_: Any
    ) -> call_result.MeterValues:
        self.record_meter_values(connector_id, meter_value)
        return call_result.MeterValues()

    @on(Action.start_transaction)
    def on_start_transaction(
        self, connector_id: int, meter_start: int, timestamp: str, **_: Any
    ) -> call_result.StartTransaction:
        transaction_id = next(_TRANSACTION_IDS)
        state = self.heard_from(connector_id)
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
        state = self.by_transaction(transaction_id)
        self.transactions.pop(transaction_id, None)
        if state is not None:
            state.stop_transaction(parse_time(timestamp), meter_stop / 1e3)
            self.publish(state)
            self.station.transaction_changed()
        return call_result.StopTransaction(id_tag_info={"status": "Accepted"})

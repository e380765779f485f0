"""OCPP 2.0.1: the CSMS's side of one charging station's connection.

As for 1.6 (see `bridges.ocpp.v16`), with TransactionEvent for transactions and meter
values, the smart-charging configuration read with GetVariables, and
NotifyEVChargingNeeds (ISO 15118) giving what the vehicle really wants.
"""

from __future__ import annotations

from typing import Any

from ocpp.routing import after, on
from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import Action

from bridges.ocpp import clock
from bridges.ocpp.handler import ChargerHandler
from bridges.ocpp.profiles import ChargerConfig, ProfileRequest
from bridges.ocpp.telemetry import CHARGING_STATE, STATUS, ConnectorState, parse_time, samples

SUBPROTOCOL = "ocpp2.0.1"
SMART_CHARGING = "SmartChargingCtrlr"
STACK_LEVEL_VARIABLE = "ProfileStackLevel"
RATE_UNIT_VARIABLE = "RateUnit"


class CentralSystem201(ChargerHandler[str], ChargePoint):
    """The bridge's end of a 2.0.1 connection (BootNotification and Heartbeat answered by
    `ChargerHandler`)."""

    version = "2.0.1"

    # -- calls to the charger --------------------------------------------------------------

    async def read_config(self) -> ChargerConfig:
        asked = [
            {"component": {"name": SMART_CHARGING}, "variable": {"name": name}}
            for name in (STACK_LEVEL_VARIABLE, RATE_UNIT_VARIABLE)
        ]
        answer = await self.call(call.GetVariables(get_variable_data=asked))
        values = {
            result["variable"]["name"]: result.get("attribute_value")
            for result in (getattr(answer, "get_variable_result", None) or [])
            if result.get("attribute_status") == "Accepted"
        }
        return ChargerConfig.parse(values.get(STACK_LEVEL_VARIABLE), values.get(RATE_UNIT_VARIABLE))

    async def set_profile(self, profile: ProfileRequest) -> tuple[str, dict[str, Any]]:
        answer = await self.send_profile(profile.v201())
        found: dict[str, Any] = {"status": str(answer.status)}
        if answer.status_info:
            found["statusInfo"] = answer.status_info
        return str(answer.status), found

    # -- messages from the charger -------------------------------------------------------

    @on(Action.authorize)
    def on_authorize(self, **_: Any) -> call_result.Authorize:
        # Who may charge is the operator's business: the bridge only manages power.
        return call_result.Authorize(id_token_info={"status": "Accepted"})

    @on(Action.status_notification)
    def on_status(
        self, evse_id: int, connector_status: str, timestamp: str, **_: Any
    ) -> call_result.StatusNotification:
        state = self.heard_from(evse_id)
        if state is not None and connector_status in STATUS:
            status = STATUS[connector_status]
            # Occupied with a transaction drawing is charging; TransactionEvent says which.
            if status == "occupied" and state.status == "charging":
                status = "charging"
            state.set_status(status, parse_time(timestamp))
            self.publish(state)
        return call_result.StatusNotification()

    @on(Action.meter_values)
    def on_meter_values(
        self, evse_id: int, meter_value: list[dict[str, Any]], **_: Any
    ) -> call_result.MeterValues:
        self.record_meter_values(evse_id, meter_value)
        return call_result.MeterValues()

    @on(Action.transaction_event)
    def on_transaction_event(
        self,
        event_type: str,
        timestamp: str,
        transaction_info: dict[str, Any],
        evse: dict[str, Any] | None = None,
        meter_value: list[dict[str, Any]] | None = None,
        id_token: dict[str, Any] | None = None,
        **_: Any,
    ) -> call_result.TransactionEvent:
        self.station.heard_from()
        transaction_id = str(transaction_info["transaction_id"])
        if evse is not None:
            self.transactions[transaction_id] = int(evse["id"])
        state = self.by_transaction(transaction_id)
        if state is not None:
            self._apply_event(state, event_type, timestamp, transaction_info, meter_value or [])
            self.publish(state)
        accepted = {"id_token_info": {"status": "Accepted"}} if id_token is not None else {}
        return call_result.TransactionEvent(**accepted)

    @on(Action.notify_ev_charging_needs)
    def on_charging_needs(
        self, evse_id: int, charging_needs: dict[str, Any], **_: Any
    ) -> call_result.NotifyEVChargingNeeds:
        state = self.heard_from(evse_id)
        parameters = (
            charging_needs.get("ac_charging_parameters")
            or charging_needs.get("dc_charging_parameters")
            or {}
        )
        energy_wh = parameters.get("energy_amount")
        if state is None or energy_wh is None:
            return call_result.NotifyEVChargingNeeds(status="Rejected")
        departure = charging_needs.get("departure_time")
        state.charging_needs(
            float(energy_wh) / 1e3,
            parse_time(departure) if departure else None,
            clock.now(),
        )
        self.publish(state)
        return call_result.NotifyEVChargingNeeds(status="Accepted")

    @after(Action.notify_ev_charging_needs)
    def after_charging_needs(self, **_: Any) -> None:
        # The spec expects a SetChargingProfile next: the pusher sends the limit in force.
        self.station.transaction_changed()

    def _apply_event(
        self,
        state: ConnectorState,
        event_type: str,
        timestamp: str,
        info: dict[str, Any],
        meter_value: list[dict[str, Any]],
    ) -> None:
        ts = parse_time(timestamp)
        transaction_id = str(info["transaction_id"])
        for sample in samples(meter_value):
            state.add_sample(sample)
        if event_type == "Ended":
            self.transactions.pop(transaction_id, None)
            state.stop_transaction(ts, None)
            self.station.transaction_changed()
            return
        if state.transaction_id != transaction_id:
            state.start_transaction(transaction_id, ts, state.energy_kwh)
            self.station.transaction_changed()
        charging = CHARGING_STATE.get(info.get("charging_state") or "")
        if charging is not None:
            state.set_status(charging, ts)

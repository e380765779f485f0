"""The optimiser's charger set-point, as it publishes it on a connector's `cmd` topic.

`{"ts": 1795300000, "setpoint": 7.4, "valid_until": 1795300120, "plan": "energy-..."}`:
draw at most `setpoint` kW until `valid_until` (docs/payloads.md, Commands and plans).
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from territory.documents import describe


class SetpointError(ValueError):
    """A command payload that is not a set-point; the message says why."""


class Setpoint(BaseModel):
    """Draw at most `setpoint` kW until `valid_until`, then charge as the charger would."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    ts: float = Field(description="When the command was issued, epoch seconds.")
    setpoint: float = Field(ge=0, le=1000, description="Highest power to draw, kW.")
    valid_until: float = Field(description="Epoch seconds after which the set-point lapses.")
    plan: str = Field(default="", max_length=200, description="Plan the command comes from.")

    @model_validator(mode="after")
    def _lapses_after_issue(self) -> Setpoint:
        if not (math.isfinite(self.ts) and self.valid_until > self.ts):
            raise ValueError("valid_until must come after ts")
        return self


def parse_setpoint(payload: bytes | bytearray) -> Setpoint:
    try:
        return Setpoint.model_validate_json(payload)
    except ValidationError as exc:
        raise SetpointError(describe(exc)) from exc

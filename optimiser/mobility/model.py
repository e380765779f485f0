"""Problem and solution formats for mobility rebalancing (static night run and dynamic day run)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from optimiser.errors import ProblemError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


# --------------------------------------------------------------------------- static


class StaticStation(_Strict):
    """A station to be visited once during the night run."""

    id: str = Field(min_length=1, description="Station device id.")
    change: int = Field(
        description="Required change: > 0 pick up that many vehicles, < 0 deliver that many."
    )


class StaticProblem(_Strict):
    """Night rebalancing: every station visited once, loads within [0, van_capacity]."""

    type: Literal["static"] = Field(default="static", description="Problem type.")
    depot: str = Field(default="depot", min_length=1, description="Id of the depot (node 0).")
    van_capacity: int = Field(ge=1, description="Vehicles a van carries at most.")
    fleet_size: int | None = Field(
        default=None, ge=1, description="Vans available; null means as many as useful."
    )
    stations: list[StaticStation] = Field(
        min_length=1, description="Stations, node i+1 in travel_cost is stations[i]."
    )
    travel_cost: list[list[int]] = Field(
        description="Integer cost matrix, row/column 0 the depot; asymmetric allowed, >= 0."
    )

    @model_validator(mode="after")
    def _consistent(self) -> StaticProblem:
        size = len(self.stations) + 1
        if len(self.travel_cost) != size:
            raise ProblemError(f"travel_cost: expected {size} rows (depot + stations)")
        for i, row in enumerate(self.travel_cost):
            if len(row) != size:
                raise ProblemError(f"travel_cost[{i}]: expected {size} columns")
            if any(c < 0 for c in row):
                raise ProblemError(f"travel_cost[{i}]: costs must be >= 0")
        seen: set[str] = {self.depot}
        for i, station in enumerate(self.stations):
            if station.id in seen:
                raise ProblemError(f"stations[{i}].id: duplicate id {station.id!r}")
            seen.add(station.id)
            if abs(station.change) > self.van_capacity:
                raise ProblemError(
                    f"stations[{i}].change: |{station.change}| exceeds van_capacity "
                    f"{self.van_capacity}"
                )
        return self

    @property
    def changes(self) -> list[int]:
        """q per node, the depot (node 0) first with 0."""
        return [0] + [s.change for s in self.stations]


class StaticStop(_Strict):
    """One visit of a static route."""

    station: str = Field(description="Station id.")
    node: int = Field(description="Node index in travel_cost.")
    load: int = Field(description="+n picked up, -n dropped off.")
    van_load_after: int = Field(description="Vehicles in the van after the visit.")


class StaticRoute(_Strict):
    """One van's night route, depot to depot."""

    van: int = Field(description="Van number, 0-based.")
    start_load: int = Field(description="Vehicles loaded at the depot before leaving.")
    stops: list[StaticStop] = Field(description="Visits in order.")
    cost: int = Field(description="Travel cost of the route, depot to depot.")


# --------------------------------------------------------------------------- dynamic


class DynamicStation(_Strict):
    """A station with its state now and its demand forecast."""

    id: str = Field(min_length=1, description="Station device id.")
    x: float = Field(description="Easting, km.")
    y: float = Field(description="Northing, km.")
    capacity: int = Field(ge=1, description="Docks (vehicles the station holds at most).")
    inventory: int = Field(ge=0, description="Vehicles at the station now.")
    pickups: list[float] = Field(description="Expected pickups per interval over the horizon.")
    returns: list[float] = Field(description="Expected returns per interval over the horizon.")


class DynamicVan(_Strict):
    """A van available for rebalancing."""

    id: str = Field(min_length=1, description="Van id.")
    x: float = Field(description="Current easting, km.")
    y: float = Field(description="Current northing, km.")
    capacity: int = Field(ge=1, description="Vehicles the van carries at most.")
    load: int = Field(ge=0, description="Vehicles in the van now.")
    time_available_s: float = Field(
        gt=0, description="Seconds of work left from now (driving and handling)."
    )


class DynamicProblem(_Strict):
    """Day rebalancing: choose stops and load changes to cut expected unmet demand."""

    type: Literal["dynamic"] = Field(default="dynamic", description="Problem type.")
    interval_s: float = Field(default=900.0, gt=0, description="Length of a forecast interval, s.")
    speed_kmh: float = Field(default=25.0, gt=0, description="Van speed on the road, km/h.")
    road_factor: float = Field(
        default=1.3, ge=1.0, description="Road distance over straight-line distance."
    )
    stop_s: float = Field(default=120.0, ge=0, description="Fixed time per stop, s.")
    handling_s: float = Field(
        default=20.0, ge=0, description="Time per vehicle loaded or unloaded, s."
    )
    driving_weight: float = Field(
        default=2.0, ge=0, description="Cost of one hour of driving, in unmet trips."
    )
    stations: list[DynamicStation] = Field(min_length=1, description="Stations.")
    vans: list[DynamicVan] = Field(min_length=1, description="Vans.")

    @model_validator(mode="after")
    def _consistent(self) -> DynamicProblem:
        horizon = len(self.stations[0].pickups)
        if horizon == 0:
            raise ProblemError("stations[0].pickups: the forecast needs at least one interval")
        seen: set[str] = set()
        for i, st in enumerate(self.stations):
            if st.id in seen:
                raise ProblemError(f"stations[{i}].id: duplicate id {st.id!r}")
            seen.add(st.id)
            if st.inventory > st.capacity:
                raise ProblemError(f"stations[{i}].inventory: exceeds capacity {st.capacity}")
            for name, series in (("pickups", st.pickups), ("returns", st.returns)):
                if len(series) != horizon:
                    raise ProblemError(f"stations[{i}].{name}: expected {horizon} intervals")
                if any(v < 0 for v in series):
                    raise ProblemError(f"stations[{i}].{name}: values must be >= 0")
        vans: set[str] = set()
        for i, van in enumerate(self.vans):
            if van.id in vans:
                raise ProblemError(f"vans[{i}].id: duplicate id {van.id!r}")
            vans.add(van.id)
            if van.load > van.capacity:
                raise ProblemError(f"vans[{i}].load: exceeds capacity {van.capacity}")
        return self

    @property
    def horizon(self) -> int:
        """Forecast intervals."""
        return len(self.stations[0].pickups)


class DynamicStop(_Strict):
    """One planned visit."""

    station: str = Field(description="Station id.")
    load: int = Field(description="+n picked up from the station, -n dropped off.")
    arrival_s: float = Field(description="Planned arrival, seconds from now.")
    service_s: float = Field(
        description="Time booked at the stop (fixed time + handling), s; the next leg starts after."
    )
    van_load_after: int = Field(description="Vehicles in the van after the stop.")
    inventory_after: float = Field(description="Expected vehicles at the station after the stop.")


class DynamicRoute(_Strict):
    """One van's plan."""

    van: str = Field(description="Van id.")
    stops: list[DynamicStop] = Field(description="Visits in order.")
    driving_s: float = Field(description="Driving time of the route, s.")
    busy_s: float = Field(description="Driving plus handling time, s.")


class DynamicPlan(_Strict):
    """The day plan: routes, objective and KPIs against doing nothing."""

    status: Literal["optimal", "feasible", "fallback", "failed"] = Field(
        description="How the plan was obtained."
    )
    fallback: bool = Field(description="True when the greedy fallback plan was returned.")
    objective: float = Field(description="Expected unmet demand + driving_weight x driving hours.")
    best_bound: float = Field(description="A proved lower bound on the objective.")
    unmet_demand: float = Field(description="Expected unmet trips over the horizon with the plan.")
    driving_s: float = Field(description="Total driving time, s.")
    routes: list[DynamicRoute] = Field(description="One route per van (possibly empty).")
    kpis: dict[str, float] = Field(description="KPIs against the do-nothing baseline.")
    solve_ms: int = Field(description="Wall time of the solve, ms.")

"""The optimiser's own live domains as a compare-run policy.

`--policy devices.optimiser_policy:live_domains` puts in the loop exactly what the
optimiser's timer runs: each call writes the readings observed since the last call
into a real SQLite store (as ingest would), asks every domain of
`optimiser.timer.live_domains` to build its problem from that store and solve it, and
turns the MQTT commands it would publish into the twin's typed commands.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from devices.commands import Command, parse_command
from devices.observe import Observation
from devices.policies import Policy
from devices.scenario import Scenario
from territory.readings import Reading

TICK_S = 60.0  # the optimiser's notion of its tick: set-points hold for two of them
DEADLINE_S = 5.0


def live_domains(scenario: Scenario) -> Policy:
    import yaml

    from optimiser.runner import Tick
    from optimiser.timer import live_domains as optimiser_domains
    from territory.settings import load_settings
    from territory.store.sqlite import SqliteStore

    folder = tempfile.TemporaryDirectory(prefix=f"compare-{scenario.name}-")
    store = SqliteStore(Path(folder.name) / "observed.db")
    # The domains read what telemetry does not carry (stations' places, corridors'
    # capacities) from the scenario file: give them the one being compared.
    scenario_file = Path(folder.name) / "scenario.yaml"
    scenario_file.write_text(yaml.safe_dump(scenario.model_dump(mode="json")))
    settings = load_settings().model_copy(update={"territory_file": scenario_file})
    domains = optimiser_domains(settings)
    written: dict[str, int] = {}

    def policy(observation: Observation) -> list[Command]:
        fresh: list[Reading] = []
        for reading in observation.readings.values():
            if written.get(reading.device_id) != reading.ts_ns:
                written[reading.device_id] = reading.ts_ns
                fresh.append(reading)
        if fresh:
            store.write(fresh)
        commands: list[Command] = []
        for domain in domains:
            problem = domain.build(store, observation.now)
            if problem is None:
                continue
            tick = Tick(observation.now, TICK_S, DEADLINE_S, f"{domain.name}-{observation.now:.0f}")
            for command in domain.solve(problem, tick).commands:
                commands += parse_command(command.topic, json.dumps(command.payload).encode())
        return commands

    policy.folder = folder  # type: ignore[attr-defined]  # keeps the store's folder alive
    return policy

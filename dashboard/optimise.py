"""Optimiser runs triggered from the console: one subprocess per run, one run per domain.

The command is a template from the console configuration (by default the optimiser's own
`territory optimise --once`), so that switching to another way of running a tick is a
configuration change. A run's output tail and exit status are kept for /api/optimise/runs;
the plan it makes reaches the pages through the store like any other plan.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sys
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OUTPUT_TAIL_CHARS = 4000


class AlreadyRunning(RuntimeError):
    """A run of this domain has not finished yet."""


@dataclass
class Run:
    id: int
    domain: str
    command: list[str]
    requested_by: str
    requested_from: str = ""  # the client's address: for the audit log, not the API
    started: float = field(default_factory=time.time)
    finished: float | None = None
    exit_code: int | None = None
    state: str = "running"  # running | succeeded | failed | timed_out
    output: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "domain": self.domain,
            "requested_by": self.requested_by,
            "state": self.state,
            "started": self.started,
            "finished": self.finished,
            "exit_code": self.exit_code,
            "output": self.output,
        }


class OptimiserRuns:
    """Starts runs in the background and remembers the last `history` of them."""

    def __init__(
        self,
        command: list[str],
        *,
        store_url: str,
        mqtt_url: str | None,
        timeout_s: float,
        inventory_file: Path | None = None,
        history: int = 50,
        on_finish: Callable[[Run], Awaitable[None]] | None = None,
    ) -> None:
        self.command = command
        self.store_url = store_url
        self.mqtt_url = mqtt_url or ""
        # Absolute: a run may start in another working folder than the console's.
        self.inventory_file = str(inventory_file.resolve()) if inventory_file else ""
        self.timeout_s = timeout_s
        self.on_finish = on_finish
        self.runs: deque[Run] = deque(maxlen=history)
        self._running: dict[str, asyncio.Task[None]] = {}
        self._ids = itertools.count(1)
        self.totals: Counter[tuple[str, str]] = Counter()  # (domain, final state) -> runs

    def command_for(self, domain: str) -> list[str]:
        values = {
            "python": sys.executable,
            "domain": domain,
            "store": self.store_url,
            "mqtt": self.mqtt_url,
            "inventory": self.inventory_file,
        }
        # Plain replacement rather than str.format: other braces in the command stay as they are.
        filled = []
        for part in self.command:
            for name, value in values.items():
                part = part.replace("{" + name + "}", value)
            filled.append(part)
        return filled

    def start(self, domain: str, requested_by: str, requested_from: str = "") -> Run:
        if domain in self._running:
            raise AlreadyRunning(f"a {domain} run is already under way")
        run = Run(next(self._ids), domain, self.command_for(domain), requested_by, requested_from)
        self.runs.appendleft(run)
        task = asyncio.create_task(self._run(run), name=f"optimise-{domain}")
        self._running[domain] = task
        task.add_done_callback(lambda _: self._running.pop(domain, None))
        return run

    async def _run(self, run: Run) -> None:
        await self._execute(run)
        if self.on_finish is not None:
            await self.on_finish(run)

    async def _execute(self, run: Run) -> None:
        try:
            process = await asyncio.create_subprocess_exec(
                *run.command,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                stdin=asyncio.subprocess.DEVNULL,
            )
        except OSError as exc:
            self._finish(run, "failed", None, f"cannot start {run.command[0]}: {exc}")
            return
        try:
            output, _ = await asyncio.wait_for(process.communicate(), self.timeout_s)
        except (TimeoutError, asyncio.CancelledError) as exc:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            self._finish(run, "timed_out", process.returncode, f"stopped after {self.timeout_s} s")
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        text = output.decode("utf-8", errors="replace")
        state = "succeeded" if process.returncode == 0 else "failed"
        self._finish(run, state, process.returncode, text)

    def _finish(self, run: Run, state: str, exit_code: int | None, output: str) -> None:
        run.state, run.exit_code, run.finished = state, exit_code, time.time()
        run.output = output[-OUTPUT_TAIL_CHARS:]
        self.totals[(run.domain, state)] += 1

    async def stop(self) -> None:
        """Stop every run still under way (the console is shutting down)."""
        for task in list(self._running.values()):
            task.cancel()
        for task in list(self._running.values()):
            with contextlib.suppress(asyncio.CancelledError):
                await task

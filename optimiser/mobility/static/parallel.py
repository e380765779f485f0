"""Searches for the night run: a plan's searches in turn, and a second process for them.

The time limit is wall time, and the searches are single-threaded: a second process
running its own searches (other first solutions for the routing start, other seeds)
costs no wall time and, as the searches' results depend much on their start, the best
of four is markedly better than the best of two. The process is started at once,
searches until a wall-clock deadline a little before the caller's, and sends its
routes through a pipe.
The caller waits at most until the deadline plus a grace period, then ends the process
(terminate, then kill), so no process outlives the solve even if the worker hangs.

Where the solving process runs no other thread, the worker is forked (no start-up cost);
otherwise it is spawned (a fresh interpreter, about a second of imports), as forking a
threaded process can copy a lock some other thread holds.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import ForkContext, SpawnContext
from types import TracebackType

from optimiser.mobility.routes import cheaper
from optimiser.mobility.static.fast_search import fast_search, warm_up
from optimiser.mobility.static.routing import RoutingConfig, RoutingModel

_SEND_MARGIN_S = 0.1  # the worker stops this long before the deadline to send its routes
_GRACE_S = 1.0  # the caller waits this long past the deadline before ending the worker


@dataclass(frozen=True)
class SearchInstance:
    """The problem every search of one solve works on."""

    cost: Sequence[Sequence[int]]
    changes: Sequence[int]
    capacity: int
    vehicles: int  # routes a solution may have


@dataclass(frozen=True)
class SearchPlan:
    """What one process runs: for each routing start in turn, an equal share of the time,
    the routing search first, then the giant-tour search from its routes."""

    starts: tuple[RoutingConfig, ...]
    routing_share: float  # of each search's time for its routing start
    seed: int
    slack: float
    split_share: float = 0.0


def usable_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def run_search(
    instance: SearchInstance, plan: SearchPlan, deadline: float
) -> list[list[int]] | None:
    """The plan's searches until `deadline` (time.time()); the cheapest routes found, or
    None if no routing start found any."""
    cost, changes, capacity, vehicles = (
        instance.cost, instance.changes, instance.capacity, instance.vehicles
    )  # fmt: skip
    best: list[list[int]] | None = None
    for number, start in enumerate(plan.starts):
        ends = time.time() + (deadline - time.time()) / (len(plan.starts) - number)
        model = RoutingModel(cost, changes, capacity, vehicles)
        routes = model.solve(start, plan.routing_share * (ends - time.time()))
        if routes is None:
            continue
        left = ends - time.time()
        if left > 0:
            routes, _ = fast_search(
                cost, changes, capacity, routes, left, plan.seed + number, vehicles,
                plan.slack, plan.split_share,
            )  # fmt: skip
        best = cheaper(cost, best, routes)
    return best


def _worker(conn: Connection, instance: SearchInstance, plan: SearchPlan, deadline: float) -> None:
    try:
        warm_up()  # a spawned worker loads the compiled search before its clock matters
        conn.send(run_search(instance, plan, deadline - _SEND_MARGIN_S))
    finally:
        conn.close()


class SecondSearch:
    """A search in another process; `result()` collects it, leaving the block ends it."""

    def __init__(self, instance: SearchInstance, plan: SearchPlan, deadline: float) -> None:
        self.deadline = deadline
        fork = threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()
        self.start_method = "fork" if fork else "spawn"
        context: ForkContext | SpawnContext = (
            multiprocessing.get_context("fork") if fork else multiprocessing.get_context("spawn")
        )
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_worker,
            args=(send, instance, plan, deadline),
            daemon=True,
        )
        self._process.start()
        send.close()  # the child holds its own end; EOF here once it exits

    def result(self) -> list[list[int]] | None:
        """The worker's routes, or None if it found none or did not answer in time."""
        try:
            wait = max(0.0, self.deadline - time.time()) + _GRACE_S
            if self._receive.poll(wait):
                routes: list[list[int]] | None = self._receive.recv()
                return routes
        except (EOFError, OSError):
            pass  # the worker died without sending: the caller's own search stands
        return None

    def close(self) -> None:
        """End the worker if it still runs, and reap it."""
        self._receive.close()
        self._process.join(0.2)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(1.0)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._process.close()

    def __enter__(self) -> SecondSearch:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

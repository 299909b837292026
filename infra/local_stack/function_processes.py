"""Runs the app's Lambda handlers in worker processes, apart from the emulated AWS services.

AWS runs each function in environments of its own, apart from the services and the other
functions (no shared module state; each is cold once per environment). `FunctionProcesses` has
LambdaInvoker's interface, but `invoke` runs in *spawned* processes (never forked: the parent
has running server threads), each of which loads `.chalice/config.json` and `app.py` as the
stack does and calls the handler with a plain LambdaInvoker. A child inherits the parent's
environment as it is when it starts, so start the processes once the environment is final.

As Lambda keeps containers per function, each function has its own processes, a *lane*: an SQS
handler as many as its queues' concurrency, the REST API `API_WORKERS`, and the schedule
handlers one together (the scheduler fires one at a time), which also runs any other function.
A function is therefore cold (first imports, lazily built clients) at most once per process of
its own lane, never in the processes of the others.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import signal
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from infra.local_stack.lambda_invoker import LambdaInvoker

if TYPE_CHECKING:
    from infra.local_stack.queue_runner import SqsSubscription

log = logging.getLogger("roster.local_stack.functions")

_CHILD_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [function process %(process)d]: %(message)s"
_invoker: LambdaInvoker | None = None  # in a child: the app, loaded by _start_worker


API_WORKERS = 2  # the API's lane: REST calls in flight at once
# Lane names that no handler can have (not Python identifiers); an SQS handler's lane is its name.
API_LANE = "<api>"
SCHEDULES_LANE = "<schedules>"


def worker_count(concurrencies: list[int], schedules: int, api: bool = False) -> int:
    """Enough workers for every queue poller to have an invocation in flight, plus one for the
    scheduler (which fires one handler at a time) when there are schedules, plus API_WORKERS
    when the API runs in them too; at least one. `Lanes.sizes()` divides them among the lanes."""
    return max(1, sum(concurrencies) + (1 if schedules else 0) + (API_WORKERS if api else 0))


@dataclass(frozen=True)
class Lanes:
    """Which processes run which function, as Lambda keeps containers per function.

    Each SQS handler has a lane of `queue_functions[name]` processes (the concurrency of the
    queues it consumes, summed); the API, when `api`, a lane of API_WORKERS; the schedule
    handlers share SCHEDULES_LANE, one process, which also runs any function without a lane of
    its own. That lane exists when there are schedules or no other lane, so the total is
    `worker_count(...)`.
    """

    queue_functions: Mapping[str, int] = field(default_factory=dict)
    schedule_functions: frozenset[str] = frozenset()
    api: bool = False

    @classmethod
    def of(cls, subscriptions: Iterable[SqsSubscription], schedule_functions: Iterable[str],
           api: bool = False) -> Lanes:
        """The lanes of an app with these SQS subscriptions and schedule handlers."""
        concurrency: dict[str, int] = {}
        for subscription in subscriptions:
            name = subscription.function_name
            concurrency[name] = concurrency.get(name, 0) + subscription.concurrency
        return cls(concurrency, frozenset(schedule_functions), api)

    def sizes(self) -> dict[str, int]:
        """`{lane name: number of processes}`."""
        sizes = dict(self.queue_functions)
        if self.api:
            sizes[API_LANE] = API_WORKERS
        if self.schedule_functions or not sizes:
            sizes[SCHEDULES_LANE] = 1
        return sizes

    def lane_of(self, function_name: str) -> str:
        """The lane that runs handler `function_name`."""
        return function_name if function_name in self.queue_functions else SCHEDULES_LANE


class ApiApp:
    """The app as chalice's local API Gateway sees it (routes, binary types, ...), whose REST
    invocations run in the function processes once `run_in` names them, as the API's Lambda
    runs apart from the services in AWS; until then (or in-process stacks) in this process."""

    def __init__(self, app: Any):
        self._app = app
        self._functions: "FunctionProcesses | None" = None

    def run_in(self, functions: "FunctionProcesses") -> None:
        self._functions = functions

    def __getattr__(self, name: str) -> Any:
        return getattr(self._app, name)

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        if self._functions is None:
            return self._app(event, context)
        return self._functions.invoke_api(event)


class FunctionProcesses(LambdaInvoker):
    """A LambdaInvoker whose `invoke` runs in a spawned process of the function's lane (`Lanes`).

    The handler's result comes back as it is (plain data); an exception it raises is raised here
    (a RuntimeError with its repr if it cannot cross the process boundary). While a child runs
    an invocation its thread carries the calling thread's name (the bench attributes calls by it).
    A child that dies (os._exit, a crash) fails its invocation and its lane is replaced; the
    other lanes keep their processes.
    """

    def __init__(self, app: Any, stage: str, config: Any, project_dir: str, lanes: Lanes):
        super().__init__(app, stage, config)
        self._lanes = lanes
        spawn = _spawner(project_dir, stage)
        self._pools = {name: _Lane(name, size, spawn) for name, size in lanes.sizes().items()}

    @property
    def lanes(self) -> Lanes:
        return self._lanes

    @property
    def workers(self) -> int:
        """The number of processes, all lanes together."""
        return sum(lane.size for lane in self._pools.values())

    def start(self, timeout: float = 60.0) -> None:
        """Starts every lane's processes and waits until each has loaded the app (raises if one
        could not)."""
        ready = [future for lane in self._pools.values() for future in lane.start()]
        for future in ready:
            future.result(timeout)

    def worker_pids(self) -> list[int]:
        """The process ids of the current workers of every lane."""
        return [pid for lane in self._pools.values() for pid in lane.pids()]

    def lane_pids(self, lane: str) -> list[int]:
        """The process ids of the current workers of `lane` (a handler's name, API_LANE or
        SCHEDULES_LANE)."""
        return self._pools[lane].pids()

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        """Calls handler `name` with `event` in a process of its lane; its exception is raised here."""
        return self._lane(self._lanes.lane_of(name)).run(_invoke_in_worker, threading.current_thread().name,
                                                         name, event)

    def invoke_api(self, event: dict[str, Any]) -> Any:
        """Calls the app's REST handler (API Gateway's proxy event) in a process of the API's lane."""
        return self._lane(API_LANE).run(_invoke_api_in_worker, threading.current_thread().name, event)

    def stop(self, timeout: float = 15.0) -> bool:
        """Cancels what has not started, lets the invocations in flight finish and ends every
        worker of every lane; True if all ended within `timeout` (the others are killed)."""
        deadline = time.monotonic() + timeout
        shutdowns = [lane.shut_down() for lane in self._pools.values()]
        return all([shutdown.finish(deadline) for shutdown in shutdowns])

    def _lane(self, name: str) -> _Lane:
        lane = self._pools.get(name)
        if lane is None:
            raise LookupError(f"no function process lane {name!r} (lanes: {', '.join(self._pools)})")
        return lane


def _spawner(project_dir: str, stage: str) -> Callable[[int], ProcessPoolExecutor]:
    """Makes pools of `size` spawned processes that load the project as the stack does."""

    def spawn(size: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=size, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_start_worker,
                                   initargs=(project_dir, stage, logging.getLogger().level))

    return spawn


class _Lane:
    """One lane's pool of processes, replaced by a new one when one of them dies."""

    def __init__(self, name: str, size: int, spawn: Callable[[int], ProcessPoolExecutor]):
        self.name = name
        self.size = size
        self._spawn = spawn
        self._lock = threading.Lock()
        self._stopped = False
        self._pool = spawn(size)

    def start(self) -> list[Future]:
        """Starts the processes; each future ends once a process has loaded the app."""
        return [self._pool.submit(_ready) for _ in range(self.size)]

    def pids(self) -> list[int]:
        with self._lock:
            return [process.pid for process in (self._pool._processes or {}).values()]

    def run(self, function: Callable[..., Any], *args: Any) -> Any:
        """`function(*args)` in one of the processes; a BrokenProcessPool if that process died."""
        pool = self._pool
        try:
            return pool.submit(function, *args).result()
        except BrokenProcessPool:
            self._replace(pool)
            raise

    def shut_down(self) -> _Shutdown:
        """Cancels what has not started; no replacement after this. `finish` waits for the rest."""
        with self._lock:
            self._stopped = True
            pool = self._pool
            # Gone from the pool once it shuts down. The pool's manager thread joins (reaps) the
            # workers; joining them here too would race with it, so wait for that thread instead.
            shutdown = _Shutdown(self.name, pool, list((pool._processes or {}).values()),
                                 pool._executor_manager_thread)
        pool.shutdown(wait=False, cancel_futures=True)
        return shutdown

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is broken and not self._stopped:
                log.error("a function process of lane %s died; starting %d new ones", self.name, self.size)
                broken.shutdown(wait=False, cancel_futures=True)
                self._pool = self._spawn(self.size)


@dataclass
class _Shutdown:
    """A lane's pool that was told to shut down, with the processes it had then."""

    lane: str
    pool: ProcessPoolExecutor
    processes: list[multiprocessing.process.BaseProcess]
    manager: threading.Thread | None

    def finish(self, deadline: float) -> bool:
        """Waits until the processes have ended, up to `deadline` (time.monotonic); kills them
        after it. True if they ended in time."""
        if self.manager is not None:
            self.manager.join(max(0.0, deadline - time.monotonic()))
        stuck = self.manager is not None and self.manager.is_alive()
        if stuck:
            log.warning("function processes of lane %s still busy at the stop's deadline; killing them", self.lane)
            for process in self.processes:
                process.kill()
        self.pool.shutdown(wait=True)
        return not stuck


# --- in the child -------------------------------------------------------------------------------
def _start_worker(project_dir: str, stage: str, log_level: int) -> None:
    """Once per child: loads the project as the stack does (chalice_project)."""
    global _invoker
    # Ctrl-C signals the whole process group; the parent stops the workers when it stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, name="parent-watch", daemon=True).start()
    logging.basicConfig(level=log_level, format=_CHILD_LOG_FORMAT)
    from infra.local_stack.chalice_project import load_app, load_config

    config = load_config(project_dir, stage)
    _invoker = LambdaInvoker(load_app(config), stage, config)


def _exit_with_parent() -> None:
    """A parent that died without stopping the pool (SIGKILL) leaves no worker behind."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        parent.join()
        os._exit(1)


def _ready() -> int:
    return os.getpid()


def _invoke_in_worker(thread_name: str, name: str, event: dict[str, Any]) -> Any:
    assert _invoker is not None, "the worker's initializer did not run"
    thread = threading.current_thread()
    own_name, thread.name = thread.name, thread_name
    try:
        return _invoker.invoke(name, event)
    except Exception as error:
        if _crosses_processes(error):
            raise
        raise RuntimeError(repr(error)) from error
    finally:
        thread.name = own_name


def _invoke_api_in_worker(thread_name: str, event: dict[str, Any]) -> Any:
    from chalice.local import LambdaContext

    assert _invoker is not None, "the worker's initializer did not run"
    thread = threading.current_thread()
    own_name, thread.name = thread.name, thread_name
    try:
        context = LambdaContext(_invoker.app.app_name, memory_size=128,
                                max_runtime_ms=_invoker.timeout_seconds("api_handler") * 1000)
        return _invoker.app(event, context)
    finally:
        thread.name = own_name


def _crosses_processes(error: BaseException) -> bool:
    """Whether `error` survives pickling both ways (an exception that does not would break the pool)."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return False
    return True

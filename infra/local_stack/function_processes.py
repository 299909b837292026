"""Runs the app's Lambda handlers in worker processes, apart from the emulated AWS services.

In one process moto, the API, the queue runner and the handlers share one GIL, so the stack
used one core; AWS runs each function apart from the services. `FunctionProcesses` has
LambdaInvoker's interface, but `invoke` runs in a pool of *spawned* processes (never forked: the
parent has running server threads), each of which loads `.chalice/config.json` and `app.py`
as the stack does and calls the handler with a plain LambdaInvoker. A child inherits the
parent's environment as it is when the pool starts, so start it once the environment is final.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import signal
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from infra.local_stack.lambda_invoker import LambdaInvoker

log = logging.getLogger("roster.local_stack.functions")

_CHILD_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [function process %(process)d]: %(message)s"
_invoker: LambdaInvoker | None = None  # in a child: the app, loaded by _start_worker


API_WORKERS = 2  # REST calls in flight at once besides the queues' and the scheduler's


def worker_count(concurrencies: list[int], schedules: int, api: bool = False) -> int:
    """Enough workers for every queue poller to have an invocation in flight, plus one for the
    scheduler (which fires one handler at a time) when there are schedules, plus API_WORKERS
    when the API runs in them too; at least one."""
    return max(1, sum(concurrencies) + (1 if schedules else 0) + (API_WORKERS if api else 0))


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
    """A LambdaInvoker whose `invoke` runs in one of `workers` spawned processes.

    The handler's result comes back as it is (plain data); an exception it raises is raised here
    (a RuntimeError with its repr if it cannot cross the process boundary). While a child runs
    an invocation its thread carries the calling thread's name (the bench attributes calls by it).
    A child that dies (os._exit, a crash) fails its invocation and the pool is replaced.
    """

    def __init__(self, app: Any, stage: str, config: Any, project_dir: str, workers: int):
        super().__init__(app, stage, config)
        self._project_dir = project_dir
        self._workers = workers
        self._lock = threading.Lock()
        self._stopped = False
        self._pool = self._new_pool()

    @property
    def workers(self) -> int:
        return self._workers

    def start(self, timeout: float = 60.0) -> None:
        """Starts the workers and waits until each has loaded the app (raises if one could not)."""
        ready = [self._pool.submit(_ready) for _ in range(self._workers)]
        for future in ready:
            future.result(timeout)

    def worker_pids(self) -> list[int]:
        """The process ids of the current workers."""
        with self._lock:
            return [process.pid for process in (self._pool._processes or {}).values()]

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        """Calls handler `name` with `event` in a worker; its exception is raised here."""
        pool = self._pool
        try:
            return pool.submit(_invoke_in_worker, threading.current_thread().name, name, event).result()
        except BrokenProcessPool:
            self._replace(pool)
            raise

    def invoke_api(self, event: dict[str, Any]) -> Any:
        """Calls the app's REST handler (API Gateway's proxy event) in a worker."""
        pool = self._pool
        try:
            return pool.submit(_invoke_api_in_worker, threading.current_thread().name, event).result()
        except BrokenProcessPool:
            self._replace(pool)
            raise

    def stop(self, timeout: float = 15.0) -> bool:
        """Cancels what has not started, lets the invocations in flight finish and ends every
        worker; True if all ended within `timeout` (the others are killed)."""
        with self._lock:
            self._stopped = True
            pool = self._pool
            # Gone from the pool once it shuts down. The pool's manager thread joins (reaps) the
            # workers; joining them here too would race with it, so wait for that thread instead.
            processes, manager = list((pool._processes or {}).values()), pool._executor_manager_thread
        pool.shutdown(wait=False, cancel_futures=True)
        if manager is not None:
            manager.join(timeout)
        stuck = manager is not None and manager.is_alive()
        if stuck:
            log.warning("function processes still busy after %.0fs; killing them", timeout)
            for process in processes:
                process.kill()
        pool.shutdown(wait=True)
        return not stuck

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self._workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_start_worker,
                                   initargs=(self._project_dir, self._stage, logging.getLogger().level))

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is broken and not self._stopped:
                log.error("a function process died; starting %d new ones", self._workers)
                broken.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool()


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

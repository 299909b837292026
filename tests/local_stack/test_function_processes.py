"""Lambda handlers in worker processes: a spawned child loads a small chalice project from disk
(as the stack loads app.py) and runs the handler; results and exceptions come back."""
from __future__ import annotations

import importlib.util
import json
import os
import threading
import time
import uuid
from concurrent.futures.process import BrokenProcessPool

import pytest

from chalicelib.resources import Resources

from infra.local_stack.chalice_project import load_config
from infra.local_stack.function_processes import ApiApp, FunctionProcesses, worker_count
from infra.local_stack.queue_runner import QueueRunner, discover_subscriptions

QUEUE = f"procs-{uuid.uuid4().hex[:10]}"
PARENT_ENV = "ROSTER_TEST_FROM_THE_PARENT"
APP_PY = '''
import os
import threading
import time

from chalice import Chalice

app = Chalice(app_name="procs", configure_logs=False)


class TwoArgs(Exception):
    def __init__(self, first, second):
        super().__init__(f"{first} and {second}")  # unpickled as TwoArgs("a and b"): a TypeError


@app.lambda_function()
def echo(event, context):
    return {"pid": os.getpid(), "thread": threading.current_thread().name, "event": event,
            "env": os.environ.get(PARENT_ENV), "function": context.function_name,
            "remaining_ms": context.get_remaining_time_in_millis()}


@app.route("/where/{name}")
def where(name):
    return {"pid": os.getpid(), "thread": threading.current_thread().name, "name": name,
            "query": app.current_request.query_params}


@app.lambda_function()
def fail(event, context):
    raise ValueError(event["why"])


@app.lambda_function()
def fail_oddly(event, context):
    raise TwoArgs("a", "b")


@app.lambda_function()
def crash(event, context):
    os._exit(3)


@app.lambda_function()
def sleep(event, context):
    time.sleep(event["seconds"])


@app.on_sqs_message(queue=QUEUE, batch_size=5)
def work(event):
    if any(record.body == "fail" for record in event):
        raise ValueError("a failing body")
'''
CONFIG = {"version": "2.0", "app_name": "procs", "stages": {"dev": {"lambda_timeout": 7}}}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("procs")
    (root / "app.py").write_text(APP_PY.replace("PARENT_ENV", repr(PARENT_ENV)).replace("QUEUE", repr(QUEUE)))
    (root / ".chalice").mkdir()
    (root / ".chalice" / "config.json").write_text(json.dumps(CONFIG))
    return root


@pytest.fixture(scope="module")
def parent_app(project):
    """The same app in this process, under another module name (`app` is the project's own)."""
    spec = importlib.util.spec_from_file_location("procs_app", project / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.app


def start_processes(project, parent_app, workers: int) -> FunctionProcesses:
    processes = FunctionProcesses(parent_app, "dev", load_config(str(project)), str(project), workers)
    processes.start()
    return processes


@pytest.fixture(scope="module")
def processes(project, parent_app):
    os.environ[PARENT_ENV] = "set before the pool started"
    try:
        processes = start_processes(project, parent_app, workers=2)
        yield processes
        pids = processes.worker_pids()
        assert processes.stop(timeout=10)
        assert not [pid for pid in pids if running(pid)]
    finally:
        del os.environ[PARENT_ENV]


def running(pid: int, within: float = 5.0) -> bool:
    """Whether `pid` still exists after up to `within` seconds (a dead child is reaped asynchronously)."""
    deadline = time.monotonic() + within
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        if time.monotonic() > deadline:
            return True
        time.sleep(0.05)


def invoke_in_thread(processes: FunctionProcesses, thread_name: str, name: str, event: dict) -> dict:
    results = []
    thread = threading.Thread(target=lambda: results.append(processes.invoke(name, event)), name=thread_name)
    thread.start()
    thread.join(30)
    return results[0]


def test_the_handler_runs_in_a_worker_process_and_its_result_comes_back(processes):
    result = processes.invoke("echo", {"n": 1, "nested": {"list": [1, "two"]}})

    assert result["pid"] != os.getpid() and result["pid"] in processes.worker_pids()
    assert result["event"] == {"n": 1, "nested": {"list": [1, "two"]}}
    assert result["function"] == "procs-dev-echo"
    assert 6000 < result["remaining_ms"] <= 7000  # the stage's lambda_timeout, read in the child
    assert len(processes.worker_pids()) == 2


def test_the_worker_sees_the_parents_environment(processes):
    assert processes.invoke("echo", {})["env"] == "set before the pool started"


def test_the_worker_runs_under_the_calling_threads_name(processes):
    assert invoke_in_thread(processes, "sqs-echo", "echo", {})["thread"] == "sqs-echo"
    assert invoke_in_thread(processes, "scheduler", "echo", {})["thread"] == "scheduler"


def test_the_handlers_exception_is_raised_in_the_parent(processes):
    with pytest.raises(ValueError, match="no good reason"):
        processes.invoke("fail", {"why": "no good reason"})


def test_an_exception_that_cannot_cross_is_a_runtime_error_and_the_pool_survives(processes):
    workers = processes.worker_pids()

    with pytest.raises(RuntimeError, match=r"TwoArgs\('a and b'\)"):
        processes.invoke("fail_oddly", {})

    assert processes.invoke("echo", {})["pid"] in workers
    assert processes.worker_pids() == workers


def test_an_exception_in_the_worker_fails_the_whole_batch(processes, parent_app, sqs):
    url = sqs.create_queue(QueueName=QUEUE, Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
    runner = QueueRunner(processes, discover_subscriptions(parent_app, Resources(tables=())), sqs)
    [subscription] = runner.subscriptions
    try:
        sqs.send_message(QueueUrl=url, MessageBody="ok")
        delivered = runner.poll_once(subscription)
        sqs.send_message(QueueUrl=url, MessageBody="fail")
        failed = runner.poll_once(subscription)
        time.sleep(1.2)
        again = runner.poll_once(subscription)
    finally:
        sqs.delete_queue(QueueUrl=url)

    assert len(delivered.message_ids) == 1 and delivered.failed_ids == [] and delivered.error is None
    assert "a failing body" in failed.error and failed.failed_ids == failed.message_ids
    assert again.message_ids == failed.message_ids  # it stayed on the queue


def test_a_dead_worker_fails_its_invocation_and_stop_kills_a_stuck_one(project, parent_app):
    processes = start_processes(project, parent_app, workers=1)
    first = processes.worker_pids()

    with pytest.raises(BrokenProcessPool):
        processes.invoke("crash", {})
    assert processes.invoke("echo", {})["pid"] not in first  # a new pool took over
    second = processes.worker_pids()
    outcome = []

    def invoke_a_sleeper():
        try:
            outcome.append(processes.invoke("sleep", {"seconds": 60}))
        except BrokenProcessPool as error:
            outcome.append(error)

    stuck = threading.Thread(target=invoke_a_sleeper)
    stuck.start()
    time.sleep(0.3)
    stopped_cleanly = processes.stop(timeout=0.5)
    stuck.join(10)

    assert not stopped_cleanly
    assert not stuck.is_alive() and isinstance(outcome[0], BrokenProcessPool)
    assert not [pid for pid in first + second if running(pid)]


def test_the_pool_has_a_worker_per_poller_and_one_for_the_schedules():
    assert worker_count([2, 1, 1], schedules=4) == 5
    assert worker_count([3], schedules=0) == 3
    assert worker_count([], schedules=0) == 1
    assert worker_count([2, 1, 1], schedules=4, api=True) == 7


def test_rest_calls_through_chalices_local_gateway_run_in_a_worker(processes, parent_app, project):
    """The stack's API server holds an ApiApp: once it runs in the pool, each REST call does."""
    import requests

    from infra.local_stack.chalice_project import create_api_server
    from infra.local_stack.server_thread import ServerThread

    api_app = ApiApp(parent_app)
    server = create_api_server(parent_app, load_config(str(project)), "127.0.0.1", 0, api_app)
    thread = ServerThread(server, "api-test")
    thread.start()
    try:
        url = f"http://127.0.0.1:{thread.port}/where/here?x=1"
        session = requests.Session()
        session.trust_env = False
        before = session.get(url, timeout=30).json()
        assert before["pid"] == os.getpid()  # not yet handed to the pool: in this process
        api_app.run_in(processes)
        answer = session.get(url, timeout=30).json()
        assert answer["pid"] != os.getpid() and answer["pid"] in processes.worker_pids()
        assert (answer["name"], answer["query"]) == ("here", {"x": "1"})
        assert answer["thread"] == before["thread"]  # the gateway thread's name, carried over
        assert session.get(f"http://127.0.0.1:{thread.port}/nowhere", timeout=30).status_code in (403, 404)
    finally:
        thread.stop()

"""Lambda handlers in worker processes: a spawned child loads a small chalice project from disk
(as the stack loads app.py) and runs the handler; results and exceptions come back. Each function
runs only in the processes of its own lane, as Lambda keeps containers per function."""
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
from infra.local_stack.function_processes import (API_LANE, API_WORKERS, SCHEDULES_LANE, ApiApp, FunctionProcesses,
                                                   Lanes, worker_count)
from infra.local_stack.queue_runner import QueueRunner, SqsSubscription, discover_subscriptions
from infra.local_stack.scheduler import Scheduler

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
    time.sleep(float((app.current_request.query_params or {}).get("sleep", 0)))
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


@app.on_sqs_message(queue="fan-queue", batch_size=1)
def fan(event):
    for record in event:
        time.sleep(float(record.body))
    return {"pid": os.getpid()}


@app.schedule("rate(1 hour)")
def tick(event):
    return {"pid": os.getpid(), "thread": threading.current_thread().name}
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


# fan 2, work 1, the API's API_WORKERS, tick (and every lambda_function) 1
LANES = Lanes({"fan": 2, "work": 1}, frozenset({"tick"}), api=True)


def start_processes(project, parent_app, lanes: Lanes) -> FunctionProcesses:
    processes = FunctionProcesses(parent_app, "dev", load_config(str(project)), str(project), lanes)
    processes.start()
    return processes


@pytest.fixture(scope="module")
def processes(project, parent_app):
    os.environ[PARENT_ENV] = "set before the pool started"
    try:
        processes = start_processes(project, parent_app, LANES)
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


def at_once(calls: int, call) -> list:
    """The results of `call()` run in `calls` threads at the same time."""
    results = []
    threads = [threading.Thread(target=lambda: results.append(call())) for _ in range(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == calls
    return results


def fan_event(seconds: float) -> dict:
    return {"Records": [{"body": str(seconds), "receiptHandle": "handle"}]}


def test_the_handler_runs_in_a_worker_process_and_its_result_comes_back(processes):
    result = processes.invoke("echo", {"n": 1, "nested": {"list": [1, "two"]}})

    assert result["pid"] != os.getpid() and result["pid"] in processes.worker_pids()
    assert result["event"] == {"n": 1, "nested": {"list": [1, "two"]}}
    assert result["function"] == "procs-dev-echo"
    assert 6000 < result["remaining_ms"] <= 7000  # the stage's lambda_timeout, read in the child
    assert len(processes.worker_pids()) == processes.workers == 2 + 1 + API_WORKERS + 1


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
    lane = processes.lane_pids(SCHEDULES_LANE)

    with pytest.raises(RuntimeError, match=r"TwoArgs\('a and b'\)"):
        processes.invoke("fail_oddly", {})

    assert processes.invoke("echo", {})["pid"] in lane
    assert processes.worker_pids() == workers


def test_an_exception_in_the_worker_fails_the_whole_batch(processes, parent_app, sqs):
    url = sqs.create_queue(QueueName=QUEUE, Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
    runner = QueueRunner(processes, discover_subscriptions(parent_app, Resources(tables=())), sqs)
    [subscription] = [s for s in runner.subscriptions if s.function_name == "work"]
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


def test_a_queue_function_runs_only_in_its_lane_in_at_most_its_concurrency_of_processes(processes):
    lane = processes.lane_pids("fan")

    results = at_once(8, lambda: processes.invoke("fan", fan_event(0.2)))

    assert len(lane) == 2
    assert {result["pid"] for result in results} <= set(lane)
    assert processes.lane_pids("fan") == lane


def test_schedule_handlers_and_functions_without_a_lane_run_in_the_schedules_lane(processes):
    lane = processes.lane_pids(SCHEDULES_LANE)

    fired = Scheduler(processes).fire("tick")

    assert len(lane) == 1 and not set(lane) & set(processes.lane_pids("fan") + processes.lane_pids(API_LANE))
    assert fired.error is None and fired.result["pid"] in lane
    assert processes.invoke("echo", {})["pid"] in lane


def test_a_function_without_a_lane_fails_when_there_is_no_schedules_lane(project, parent_app):
    processes = FunctionProcesses(parent_app, "dev", load_config(str(project)), str(project), Lanes({"fan": 1}))
    try:
        with pytest.raises(LookupError, match="no function process lane '<schedules>'"):
            processes.invoke("echo", {})
        with pytest.raises(LookupError, match="no function process lane '<api>'"):
            processes.invoke_api({})
    finally:
        assert processes.stop(timeout=10)


def test_a_dead_worker_fails_its_invocation_only_its_lane_is_replaced_and_stop_kills_a_stuck_one(project, parent_app):
    processes = start_processes(project, parent_app, Lanes({"fan": 1}, frozenset({"tick"})))
    fan, first = processes.lane_pids("fan"), processes.lane_pids(SCHEDULES_LANE)
    in_the_other_lane = []
    other = threading.Thread(target=lambda: in_the_other_lane.append(processes.invoke("fan", fan_event(1))))
    other.start()
    time.sleep(0.2)

    with pytest.raises(BrokenProcessPool):
        processes.invoke("crash", {})
    other.join(30)
    assert in_the_other_lane == [{"pid": fan[0]}]  # unaffected by the crash in the schedules' lane
    assert processes.invoke("echo", {})["pid"] not in first  # a new pool took over that lane
    assert processes.lane_pids("fan") == fan and processes.invoke("fan", fan_event(0)) == {"pid": fan[0]}
    second = processes.lane_pids(SCHEDULES_LANE)
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
    assert not [pid for pid in fan + first + second if running(pid)]


def test_the_pool_has_a_worker_per_poller_and_one_for_the_schedules():
    assert worker_count([2, 1, 1], schedules=4) == 5
    assert worker_count([3], schedules=0) == 3
    assert worker_count([], schedules=0) == 1
    assert worker_count([2, 1, 1], schedules=4, api=True) == 7


def test_lanes_give_each_queue_function_its_concurrency_the_schedules_one_and_the_api_its_workers():
    subscriptions = [SqsSubscription("mail", "roster-mail", 10, 4), SqsSubscription("feedback", "roster-feedback", 10),
                     SqsSubscription("mail", "roster-mail-bulk", 10, 2)]

    lanes = Lanes.of(subscriptions, ["cleanup", "digest"], api=True)

    assert lanes.sizes() == {"mail": 6, "feedback": 1, API_LANE: API_WORKERS, SCHEDULES_LANE: 1}
    assert [lanes.lane_of(name) for name in ("mail", "feedback", "cleanup", "digest", "anything_else")] \
        == ["mail", "feedback", SCHEDULES_LANE, SCHEDULES_LANE, SCHEDULES_LANE]
    assert Lanes().sizes() == {SCHEDULES_LANE: 1}
    assert Lanes.of(subscriptions, [], api=False).sizes() == {"mail": 6, "feedback": 1}


@pytest.mark.parametrize("queues", [0, 1, 3])
@pytest.mark.parametrize("schedules", [[], ["cleanup"], ["cleanup", "digest"]])
@pytest.mark.parametrize("api", [False, True])
def test_the_lanes_together_have_worker_count_processes(queues, schedules, api):
    subscriptions = [SqsSubscription(f"consumer{n % 2}", f"queue{n}", 10, n + 1) for n in range(queues)]

    sizes = Lanes.of(subscriptions, schedules, api).sizes()

    assert sum(sizes.values()) == worker_count([s.concurrency for s in subscriptions], len(schedules), api)


def test_rest_calls_through_chalices_local_gateway_run_in_the_apis_lane(processes, parent_app, project):
    """The stack's API server holds an ApiApp: once it runs in the processes, each REST call
    does, in the API's lane."""
    from infra.local_stack.chalice_project import create_api_server
    from infra.local_stack.server_thread import ServerThread

    api_app = ApiApp(parent_app)
    server = create_api_server(parent_app, load_config(str(project)), "127.0.0.1", 0, api_app)
    thread = ServerThread(server, "api-test")
    thread.start()
    try:
        url = f"http://127.0.0.1:{thread.port}/where/here?x=1"
        session = no_proxy_session()
        before = session.get(url, timeout=30).json()
        assert before["pid"] == os.getpid()  # not yet handed to the processes: in this one
        api_app.run_in(processes)
        lane = processes.lane_pids(API_LANE)
        answer = session.get(url, timeout=30).json()
        assert answer["pid"] in lane and len(lane) == API_WORKERS
        assert (answer["name"], answer["query"]) == ("here", {"x": "1"})
        assert answer["thread"] == before["thread"]  # the gateway thread's name, carried over
        at_the_same_time = at_once(6, lambda: no_proxy_session().get(url + "&sleep=0.2", timeout=30).json())
        assert {answer["pid"] for answer in at_the_same_time} <= set(lane)
        assert session.get(f"http://127.0.0.1:{thread.port}/nowhere", timeout=30).status_code == 404
    finally:
        thread.stop()


def no_proxy_session():
    import requests

    session = requests.Session()
    session.trust_env = False
    return session

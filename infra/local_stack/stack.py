"""Starts and stops the whole local stack in order: AWS, resources, app, runners, servers."""
from __future__ import annotations

import logging
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Callable

from infra.local_stack import ses_bulk_status, ses_capture, ses_feedback
from infra.local_stack.chalice_project import create_api_server, load_app, load_config, warn_about_function_environments
from infra.local_stack.dev_console import create_console_server
from infra.local_stack.dynamodb_process import DynamoDbProcess
from infra.local_stack.embedded_aws import EmbeddedAws
from infra.local_stack.fake_aws import apply_fake_aws_environment, aws_client
from infra.local_stack.function_processes import ApiApp, FunctionProcesses, Lanes
from infra.local_stack.lambda_invoker import LambdaInvoker
from infra.local_stack.provisioning import ProvisioningReport, create_resources
from infra.local_stack.queue_runner import QueueRunner, SqsSubscription, discover_subscriptions
from infra.local_stack.scheduler import Scheduler, discover_schedules
from infra.local_stack.server_thread import ServerThread
from infra.local_stack.token_issuer import LOCAL_AUDIENCE, TokenIssuer

log = logging.getLogger("roster.local_stack")

_ANSWER_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class StackSettings:
    project_dir: str
    platform_key: str
    api_port: int = 8000
    console_port: int = 8001
    aws_port: int = 8002
    dynamodb_port: int = 8003
    host: str = "127.0.0.1"
    stage: str = "dev"
    # Lambda handlers run in spawned worker processes (function_processes.py), not in this one.
    function_processes: bool = False


@dataclass(frozen=True)
class StackUrls:
    api: str
    console: str
    aws: str
    dynamodb: str


@dataclass
class LocalStack:
    """Owns every component; `start()` brings them up, `stop()` tears them down in reverse."""

    settings: StackSettings
    provisioning: ProvisioningReport | None = None
    queue_runner: QueueRunner | None = None
    scheduler: Scheduler | None = None
    invoker: LambdaInvoker | None = None
    _stoppers: list[tuple[str, Callable[[], bool | None]]] = field(default_factory=list)

    def start(self) -> StackUrls:
        """Starts everything and waits until each server answers; on failure stops what started."""
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> list[str]:
        """Stops in reverse start order; returns the components that did not stop in time."""
        stuck = []
        while self._stoppers:
            name, stop = self._stoppers.pop()
            try:
                if stop() is False:
                    stuck.append(name)
            except Exception:
                log.exception("stopping %s failed", name)
                stuck.append(name)
        return stuck

    def _start(self) -> StackUrls:
        settings = self.settings
        apply_fake_aws_environment(os.environ)  # before any botocore client exists
        # Before moto serves: mails to SES's mailbox simulator (bounce@…, complaint@…) then
        # publish the notification SES would (real message id and recipient, bulk sends too).
        ses_feedback.install()
        ses_bulk_status.install()  # each bulk destination answers its Status, as SES does
        aws = EmbeddedAws(settings.aws_port, settings.host)
        aws_url = aws.start()
        self._stoppers.append(("aws", aws.stop))
        dynamodb = DynamoDbProcess(settings.dynamodb_port, settings.host, settings.project_dir)
        dynamodb_url = dynamodb.start()
        self._stoppers.append(("dynamodb", dynamodb.stop))
        apply_fake_aws_environment(os.environ, aws_url, dynamodb_url)
        ses_capture.install()

        config = load_config(settings.project_dir, settings.stage)
        os.environ.update(config.environment_variables)  # names below must be the ones the app will use
        # The console is bound now (its port may be 0) so the app's OIDC settings can name it: the
        # issuer, and the JWKS URL the app fetches over HTTP, as it fetches Cognito's in AWS.
        console_server = create_console_server(settings.host, settings.console_port, None)
        self._stoppers.append(("console socket", console_server.server_close))
        console_url = f"http://{settings.host}:{console_server.server_address[1]}"
        console_server.token_issuer = TokenIssuer(issuer=console_url, audience=LOCAL_AUDIENCE)
        os.environ.update(console_server.token_issuer.environment(console_url + "/.well-known/jwks.json"))
        self.provisioning = self._provision(aws_url, dynamodb_url)
        app = load_app(config)
        warn_about_function_environments(config, app, settings.stage)
        api_app = ApiApp(app)
        api_server = create_api_server(app, config, settings.host, settings.api_port, api_app)
        self._stoppers.append(("api socket", api_server.server_close))
        # Invitation links name the API as bound (its port may be 0), unless configured otherwise;
        # the app reads its settings lazily, so nothing has cached the default yet.
        if "ROSTER_PUBLIC_BASE_URL" not in os.environ:
            os.environ["ROSTER_PUBLIC_BASE_URL"] = f"http://{settings.host}:{api_server.server_address[1]}"
            from chalicelib import bootstrap
            bootstrap.reset()

        # The environment is final from here on: function processes inherit it as it is now.
        subscriptions = discover_subscriptions(app)
        self.invoker = self._invoker(app, config, subscriptions)
        if isinstance(self.invoker, FunctionProcesses):
            api_app.run_in(self.invoker)
        self.queue_runner = QueueRunner(self.invoker, subscriptions, aws_client("sqs", aws_url))
        self.queue_runner.start()
        self._stoppers.append(("queue runner", self.queue_runner.stop))
        self.scheduler = Scheduler(self.invoker)
        self.scheduler.start()
        self._stoppers.append(("scheduler", self.scheduler.stop))

        api = self._serve("api", api_server)
        console_server.scheduler = self.scheduler
        console = self._serve("console", console_server)
        urls = StackUrls(api=f"http://{settings.host}:{api.port}", console=f"http://{settings.host}:{console.port}",
                         aws=aws_url, dynamodb=dynamodb_url)
        for url in (urls.api + "/health", urls.console + "/health"):
            _wait_until_answers(url)
        return urls

    def _invoker(self, app: Any, config: Any, subscriptions: list[SqsSubscription]) -> LambdaInvoker:
        """In-process, or (`function_processes`) worker processes in a lane per function, sized so
        that every poller, the scheduler and the API can have an invocation in flight; started
        before it returns."""
        settings = self.settings
        if not settings.function_processes:
            return LambdaInvoker(app, settings.stage, config)
        lanes = Lanes.of(subscriptions, discover_schedules(app), api=True)
        processes = FunctionProcesses(app, settings.stage, config, settings.project_dir, lanes)
        self._stoppers.append(("function processes", processes.stop))
        processes.start()
        log.info("%d function processes ready (%s)", processes.workers,
                 ", ".join(f"{lane} {size}" for lane, size in lanes.sizes().items()))
        return processes

    def _provision(self, aws_url: str, dynamodb_url: str) -> ProvisioningReport:
        from chalicelib.resources import PLATFORM_KEY, RESOURCES

        return create_resources(RESOURCES, aws_url, {PLATFORM_KEY.logical_id: self.settings.platform_key},
                                dynamodb_url=dynamodb_url)

    def _serve(self, name: str, server: Any) -> ServerThread:
        thread = ServerThread(server, name)
        thread.start()
        self._stoppers.append((name, thread.stop))
        return thread


def _wait_until_answers(url: str, timeout: float = _ANSWER_TIMEOUT_SECONDS) -> None:
    """Returns once `url` gives any HTTP response; raises TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while True:
        try:
            with opener.open(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not answer within {timeout:.0f}s") from None
            time.sleep(0.1)

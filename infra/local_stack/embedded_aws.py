"""moto's ThreadedMotoServer on 127.0.0.1: every AWS API the app uses, in memory."""
from __future__ import annotations

import logging
import threading


class EmbeddedAws:
    """Starts and stops the in-process moto server; `url` is its endpoint once started."""

    def __init__(self, port: int = 8002, host: str = "127.0.0.1"):
        self._host = host
        self._port = port
        self._server = None
        self.url: str | None = None

    def start(self) -> str:
        """Starts the server (port 0 picks a free one) and returns its URL."""
        from moto.server import ThreadedMotoServer

        from infra.local_stack import moto_transactions

        moto_transactions.install()  # a cancelled transaction restores its own items, not a copy of the table
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one log line per AWS call is noise
        self._server = ThreadedMotoServer(ip_address=self._host, port=self._port, verbose=False)
        self._server.start()
        wsgi = self._server._server
        wsgi.app = one_request_at_a_time(wsgi.app)
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        return self.url

    def stop(self) -> None:
        """Shuts the server down and joins its thread."""
        if self._server is not None:
            self._server.stop()
            self._server = None


def one_request_at_a_time(app):
    """DynamoDB applies each request atomically; moto does not: a TransactWriteItems applies its
    items one after the other and rolls back afterwards, so a concurrent read could see half a
    transaction and a concurrent write could interleave with it. The API, the queue runner and
    the scheduler call moto from several threads, so moto serves one DynamoDB request at a
    time, like the tests' `atomic_moto`. Other services are left concurrent (SQS long polls must not hold a lock)."""
    lock = threading.Lock()

    def serve(environ, start_response):
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB"):
            return app(environ, start_response)
        with lock:
            return list(app(environ, start_response))

    return serve

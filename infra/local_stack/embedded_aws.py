"""moto's ThreadedMotoServer on 127.0.0.1: every AWS API the app uses, in memory."""
from __future__ import annotations

import gc
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

        from infra.local_stack import (
            moto_dispatch, moto_expressions, moto_item_size, moto_keys, moto_projection, moto_queries,
            moto_request_parsing, moto_responses, moto_ses_bulk, moto_sqs, moto_transactions, moto_update_validation,
        )

        keep_full_collections_short()
        moto_transactions.install()  # TransactWriteItems copies the items it writes, not the table
        moto_queries.install()  # Query reads its page of a kept, sorted partition, not the whole table
        moto_sqs.install()  # receives and sends read the attribute they need, not every queue attribute
        moto_responses.install()  # DynamoDB items are written once, straight from moto's values
        moto_dispatch.install()  # the server finds a request's service without listing its package
        moto_projection.install()  # a projection of top-level names shares their values and knows its size
        moto_item_size.install()  # a new item's 400 KB check sums its attributes once, in one pass each
        moto_keys.install()  # key values hash without moto's type tests; empty and duplicate keys found in one pass
        moto_request_parsing.install()  # DynamoDB requests are loaded as JSON, only blobs and numbers converted
        moto_expressions.install()  # an update expression is parsed once per text and copied cheaply
        moto_update_validation.install()  # its name and key checks kept per tree, conditions parsed once per text
        moto_ses_bulk.install()  # SES sends: the form parsed and the ids drawn in C, no per-destination walk
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


def keep_full_collections_short() -> None:
    """After each full garbage collection, freezes what survived it (gc.freeze), so the next
    full collection walks only what was allocated since (idempotent).

    moto keeps every item as many small Python objects: with the notice benchmark's ~70,000
    items a full collection walked millions of them, 270 ms each, three of them during one
    10,000-recipient run (a tenth of moto's time). Frozen objects are still freed by reference
    counting; only cyclic garbage among them is never collected, which a development stack
    can afford."""
    if _freeze_after_full_collection not in gc.callbacks:
        gc.callbacks.append(_freeze_after_full_collection)


def _freeze_after_full_collection(phase: str, info: dict) -> None:
    if phase == "stop" and info.get("generation") == 2:
        gc.freeze()


def one_request_at_a_time(app):
    """DynamoDB applies each request atomically; moto does not: a TransactWriteItems applies its
    items one after the other and rolls back afterwards, so a concurrent read can see half a
    transaction and a concurrent write can interleave with it (moto's own whole-table backup,
    replaced by `moto_transactions`, also crashed with "dictionary changed size during
    iteration" or lost writes). The API, the queue runner and the scheduler call moto from
    several threads, so moto serves one DynamoDB request at a time, like the tests'
    `atomic_moto`. Other services are left concurrent (SQS long polls must not hold a lock)."""
    lock = threading.Lock()

    def serve(environ, start_response):
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB"):
            return app(environ, start_response)
        with lock:
            return list(app(environ, start_response))

    return serve

"""The local API server (chalice's local API Gateway, api_gateway.py) over real sockets: answers
to HEAD carry no body, an unknown path answers the deployed API's 404 without echoing any
header, and a burst of connections is held until the server accepts them."""
from __future__ import annotations

import http.client
import json
import socket

import pytest
from chalice import Chalice, Response
from chalice.config import Config

from infra.local_stack.chalice_project import create_api_server
from infra.local_stack.server_thread import ServerThread
from infra.sam import gateway_responses


def small_app() -> Chalice:
    app = Chalice(app_name="gatewaytest", configure_logs=False)

    @app.route("/health")
    def health():
        return {"status": "ok"}

    @app.route("/things", methods=["POST"])
    def add_thing():
        return {"added": True}

    @app.route("/page", methods=["GET", "HEAD"])
    def page():  # answers HEAD with a body, as an app may forget not to
        return Response(body="<p>hello</p>", headers={"Content-Type": "text/html"})

    return app


@pytest.fixture
def server():
    return create_api_server(small_app(), Config.create(app_name="gatewaytest", chalice_stage="dev"), "127.0.0.1", 0)


@pytest.fixture
def api(server):
    thread = ServerThread(server, "api-test")
    thread.start()
    yield thread.port
    assert thread.stop(timeout=5)


def test_answers_to_head_have_no_body_and_the_connection_reads_the_next_answer(api):
    connection = http.client.HTTPConnection("127.0.0.1", api, timeout=5)
    try:
        for path, status in (("/things", 405), ("/nowhere", 404), ("/page", 200), ("/health", 405)):
            connection.request("HEAD", path)
            head = connection.getresponse()
            assert (head.status, head.read(), head.getheader("Content-Length")) == (status, b"", "0"), path
            # the same keep-alive connection: a body left behind would be read as this status line
            connection.request("GET", "/health")
            after = connection.getresponse()
            assert (after.status, json.loads(after.read())) == (200, {"status": "ok"}), path
    finally:
        connection.close()


def test_an_unknown_path_answers_the_deployed_apis_404_and_echoes_no_header(api):
    secret = "rk_live_very-secret-key"
    connection = http.client.HTTPConnection("127.0.0.1", api, timeout=5)
    try:
        connection.request("GET", "/no/such/route?x=1", headers={"Authorization": f"Bearer {secret}",
                                                                 "X-Other": "also-private"})
        answer = connection.getresponse()
        raw = answer.read()
    finally:
        connection.close()
    deployed = gateway_responses()["MISSING_AUTHENTICATION_TOKEN"]
    assert answer.status == int(deployed["statusCode"]) == 404
    assert answer.getheader("Content-Type") == "application/json"
    assert json.loads(raw) == json.loads(deployed["responseTemplates"]["application/json"]) == {
        "error": {"code": "not_found", "message": "No such resource.", "details": []}}
    everything = raw.decode() + "".join(f"{name}: {value}" for name, value in answer.getheaders())
    assert secret not in everything and "also-private" not in everything


def test_a_burst_of_connections_waits_for_the_server_instead_of_being_turned_away(server):
    """32 clients connect while the server accepts none (it is busy); each is answered once it serves."""
    clients = []
    try:
        for _ in range(32):
            clients.append(socket.create_connection(server.server_address, timeout=2))
        thread = ServerThread(server, "api-test")
        thread.start()
        try:
            for client in clients:
                client.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            answers = [_read_all(client) for client in clients]
        finally:
            assert thread.stop(timeout=5)
    finally:
        for client in clients:
            client.close()
        server.server_close()
    assert [answer.split(b"\r\n", 1)[0] for answer in answers] == [b"HTTP/1.1 200 OK"] * 32
    assert all(answer.endswith(b'{"status":"ok"}') for answer in answers)


def _read_all(client: socket.socket) -> bytes:
    chunks = []
    while chunk := client.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)

"""Runs a socketserver-based HTTP server in a background thread and stops it cleanly."""
from __future__ import annotations

import threading
from socketserver import BaseServer

# Connections the kernel holds for a server that is busy accepting (socketserver's default, 5,
# turned clients of a burst away); werkzeug's servers (moto's) use the same.
LISTEN_BACKLOG = 128


class ServerThread:
    """`start()` serves in a daemon thread; `stop()` shuts down, closes the socket, joins."""

    def __init__(self, server: BaseServer, name: str):
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name=name, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]  # type: ignore[attr-defined]

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> bool:
        """True if the serving thread ended within `timeout` seconds."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout)
        self._server.server_close()
        return not self._thread.is_alive()

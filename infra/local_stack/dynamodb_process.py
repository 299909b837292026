"""DynamoDB's moto in a process of its own, as DynamoDB is a service of its own in AWS.

This process runs an `EmbeddedAws` (one DynamoDB request at a time) that only DynamoDB's
clients reach: the stack gives the app `AWS_ENDPOINT_URL_DYNAMODB`, botocore's endpoint for
that one service, so the app must find each service through botocore's configuration as in
AWS, and SES, SQS and SNS requests in the stack's process do not take the GIL from DynamoDB's.

`python -m infra.local_stack.dynamodb_process HOST PORT` prints `ready <url>` and serves until
its standard input closes, so it ends with the stack even when the stack is killed.
"""
from __future__ import annotations

import select
import subprocess
import sys

_READY = "ready "


class DynamoDbProcess:
    """Starts and stops the child process; `url` is its endpoint once started."""

    def __init__(self, port: int = 8003, host: str = "127.0.0.1", cwd: str | None = None):
        self._port, self._host, self._cwd = port, host, cwd
        self._process: subprocess.Popen | None = None
        self.url: str | None = None

    def start(self, timeout: float = 30.0) -> str:
        """Starts the process (port 0 picks a free one) and returns its URL once it serves."""
        self._process = subprocess.Popen(
            [sys.executable, "-m", "infra.local_stack.dynamodb_process", self._host, str(self._port)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=self._cwd)
        # moto's server thread does not report a port it cannot bind: its start waits for ever
        answered, _, _ = select.select([self._process.stdout], [], [], timeout)
        line = self._process.stdout.readline() if answered else ""
        if not line.startswith(_READY):
            self.stop(timeout=0)
            raise RuntimeError(f"DynamoDB's moto did not start: {line!r}")
        self.url = line[len(_READY):].strip()
        return self.url

    def stop(self, timeout: float = 10.0) -> bool:
        """Closes its standard input and waits; kills it if it is still running after `timeout`."""
        process, self._process = self._process, None
        if process is None:
            return True
        process.stdin.close()
        try:
            process.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            return False


def main(host: str, port: int) -> None:
    import signal

    from infra.local_stack.embedded_aws import EmbeddedAws

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the stack stops it

    aws = EmbeddedAws(port, host)
    print(_READY + aws.start(), flush=True)
    sys.stdout = sys.stderr  # nobody reads the pipe any more: a full one would block this process
    sys.stdin.read()  # until the stack closes it (or dies)
    aws.stop()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))

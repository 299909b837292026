"""Calls the app's non-HTTP handlers the way Lambda would: raw event plus a Lambda context."""
from __future__ import annotations

from typing import Any

from infra.local_stack.fake_aws import ACCOUNT_ID, REGION


class LambdaInvoker:
    """Invokes `app.handler_map[name]` with a chalice LambdaContext sized from the stage config."""

    def __init__(self, app: Any, stage: str = "dev", config: Any = None, region: str = REGION):
        self._app = app
        self._stage = stage
        self._config = config
        self._region = region

    @property
    def app(self) -> Any:
        return self._app

    @property
    def region(self) -> str:
        return self._region

    def function_name(self, name: str) -> str:
        """The deployed Lambda name chalice gives the handler `name`."""
        return f"{self._app.app_name}-{self._stage}-{name}"

    def rule_name(self, name: str) -> str:
        """The EventBridge rule name chalice gives the schedule of handler `name`."""
        return f"{self.function_name(name)}-event"

    def timeout_seconds(self, name: str) -> int:
        """The configured Lambda timeout of `name` (chalice's default when there is no config)."""
        scoped = self._scoped(name)
        return (scoped.lambda_timeout if scoped is not None else None) or 60

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        """Calls handler `name` with `event`; exceptions propagate like a failed invocation."""
        from chalice.local import LambdaContext

        scoped = self._scoped(name)
        context = LambdaContext(
            self.function_name(name),
            memory_size=(scoped.lambda_memory_size if scoped is not None else None) or 128,
            max_runtime_ms=self.timeout_seconds(name) * 1000,
        )
        context.invoked_function_arn = f"arn:aws:lambda:{self._region}:{ACCOUNT_ID}:function:{self.function_name(name)}"
        return self._app.handler_map[name](event, context)

    def _scoped(self, name: str) -> Any:
        return None if self._config is None else self._config.scope(self._stage, name)

"""The Chalice project on disk: its stage config, its environment and its app object."""
from __future__ import annotations

import logging
import os
from typing import Any

log = logging.getLogger("roster.local_stack")


def load_config(project_dir: str, stage: str = "dev") -> Any:
    """chalice's Config for `stage`, read from .chalice/config.json (the app is loaded lazily)."""
    from chalice.cli.factory import CLIFactory

    return CLIFactory(project_dir, environ=os.environ).create_config_obj(chalice_stage_name=stage)


def load_app(config: Any) -> Any:
    """Imports app.py the way `chalice local` does and checks its routes would deploy."""
    from chalice.deploy.validate import validate_routes

    app = config.chalice_app
    validate_routes(app.routes)
    return app


def warn_about_function_environments(config: Any, app: Any, stage: str) -> None:
    """All handlers share this process's environment: say so when a function's env differs."""
    shared = config.environment_variables
    for name in app.handler_map:
        own = config.scope(stage, name).environment_variables
        if own != shared:
            log.warning("function %s has its own environment variables in .chalice/config.json; the local "
                        "stack runs every handler with the stage's variables", name)


def create_api_server(app: Any, config: Any, host: str, port: int, gateway_app: Any = None) -> Any:
    """chalice's own local API Gateway emulation (threaded HTTP server, api_gateway.py) for `app`;
    its requests call `gateway_app` (an ApiApp over `app`, see function_processes) instead, when given."""
    import functools

    from infra.local_stack.api_gateway import GatewayRequestHandler, create_gateway_server

    server = create_gateway_server(app, config, host, port)
    if gateway_app is not None:
        server.RequestHandlerClass = functools.partial(GatewayRequestHandler, app_object=gateway_app, config=config)
    return server

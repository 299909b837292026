"""Registers every blueprint and the HTTP middleware on the app."""
from __future__ import annotations

from chalice import Chalice


def register(app: Chalice) -> None:
    from chalicelib.handlers import health, middleware

    app.register_middleware(middleware.observe_and_normalise, "http")
    for module in (health,):
        app.register_blueprint(module.bp)

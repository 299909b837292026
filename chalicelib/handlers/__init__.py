"""Registers every blueprint and the HTTP middleware on the app."""
from __future__ import annotations

from chalice import Chalice


def register(app: Chalice) -> None:
    from chalicelib.handlers import (
        accounts, api_keys, contacts, health, housekeeping, invitations, mail, me, middleware, notice_delivery, notices,
        openapi, people, preferences, tenants,
    )

    app.register_middleware(middleware.observe_and_normalise, "http")
    for module in (health, tenants, api_keys, accounts, contacts, people, me, housekeeping, mail, invitations,
                   preferences, notices, notice_delivery, openapi):
        app.register_blueprint(module.bp)

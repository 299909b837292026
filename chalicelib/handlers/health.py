"""GET /health: no auth, no I/O; says the process is up."""
from chalice import Blueprint

from chalicelib.handlers.http import route

bp = Blueprint(__name__)


@route(bp, "/health", auth="public")
def health(call):
    return {"status": "ok"}

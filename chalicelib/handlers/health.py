"""GET /health: no auth, no I/O; says the process is up."""
from chalice import Blueprint

from chalicelib.handlers.http import route
from chalicelib.handlers.responses import HEALTH

bp = Blueprint(__name__)


@route(bp, "/health", auth="public", responses={200: HEALTH})
def health(call):
    return {"status": "ok"}

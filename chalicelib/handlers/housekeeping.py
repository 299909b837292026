"""Scheduled housekeeping: finishes person erasures that a crash interrupted."""
from chalice import Blueprint

from chalicelib import bootstrap

bp = Blueprint(__name__)


@bp.schedule("rate(5 minutes)", name="housekeeping")
def housekeeping(event):
    finished = bootstrap.get_people_service().resume_erasures()
    bootstrap.get_logger().info("housekeeping", extra={"erasures_finished": finished})
    return {"erasures_finished": finished}

"""Physical names of the resources in chalicelib.resources: env var `name_env` if set, else the default."""
from __future__ import annotations

import os
from typing import Mapping, Protocol

from chalicelib.resources import Queue


class Named(Protocol):
    name_env: str
    default_name: str


def physical_name(resource: Named, environ: Mapping[str, str] | None = None) -> str:
    """The name the app will use for `resource` in this environment."""
    environ = os.environ if environ is None else environ
    return environ.get(resource.name_env) or resource.default_name


def dead_letter_queue_name(queue: Queue, environ: Mapping[str, str] | None = None) -> str:
    """The DLQ follows its queue's name (`Queue.dlq_default_name` when no override is set)."""
    name = physical_name(queue, environ)
    return queue.dlq_default_name if name == queue.default_name else f"{name}-dlq"

"""The moto version the local stack's patches of moto were written for (docs/local-stack.md)."""
from __future__ import annotations

from importlib.metadata import version

MOTO_VERSION = "5.2.5"


def check_moto_version(patch: str) -> None:
    """Raises unless the installed moto is MOTO_VERSION: on another one, a patch may be needless
    or wrong. Its defect test (tests/local_stack) shows whether moto still has the defect."""
    installed = version("moto")
    if installed != MOTO_VERSION:
        raise RuntimeError(f"{patch} patches moto {MOTO_VERSION}, not {installed}: run its defect test "
                           "on the new moto, then drop the patch or update it and MOTO_VERSION")

"""moto's server without listing its own package directory on every request.

For each request, moto 5.2.5's `DomainDispatcherApplication.get_backend_for_host` asks
`moto.backends.list_of_moto_modules()`, which lists moto's package directory and calls
`os.path.isdir` on each of its ~250 entries. A profile of the local stack during the notices
benchmark (py-spy) put about 11 % of the whole process there. The installed package does not
change while the stack runs, so `install()` answers from the first listing.
Installed by the local stack with the other moto patches.
"""
from __future__ import annotations

_installed = False


def install() -> None:
    """Remembers the list of moto's service modules (idempotent)."""
    global _installed
    if _installed:
        return
    from moto import backends

    listing = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: listing
    _installed = True


def installed() -> bool:
    return _installed

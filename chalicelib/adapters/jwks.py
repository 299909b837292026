"""The identity provider's signing keys (JWKS): fetched over HTTP, cached, refetched when a
token names a key id the cache does not know (key rotation)."""
from __future__ import annotations

import json
import threading
import time
import urllib.request
from typing import Callable

Fetch = Callable[[str], dict]


def http_fetch(url: str, timeout: float = 3.0) -> dict:
    """GETs a JWKS document (stdlib only: no requests in the Lambda package)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}) if url.startswith("http://127.") else
                                         urllib.request.ProxyHandler())
    with opener.open(urllib.request.Request(url, headers={"Accept": "application/json"}), timeout=timeout) as reply:
        return json.loads(reply.read(1024 * 1024))


class JwksCache:
    """Keys by `kid`. An unknown kid refetches the document, at most once per `min_refetch_seconds`
    (a flood of tokens with made-up kids cannot turn into a flood of fetches)."""

    def __init__(self, url: str, fetch: Fetch = http_fetch, max_age_seconds: float = 3600,
                 min_refetch_seconds: float = 30, monotonic: Callable[[], float] = time.monotonic):
        self._url = url
        self._fetch = fetch
        self._max_age = max_age_seconds
        self._min_refetch = min_refetch_seconds
        self._now = monotonic
        self._keys: dict[str, dict] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()
        self.fetches = 0

    def key(self, kid: str) -> dict | None:
        """The JWK (a dict) with this kid, or None if the provider does not publish it."""
        with self._lock:
            now = self._now()
            stale = self._fetched_at is None or now - self._fetched_at > self._max_age
            may_refetch = self._fetched_at is None or now - self._fetched_at >= self._min_refetch
            if stale or (kid not in self._keys and may_refetch):
                self._refresh(now)
            return self._keys.get(kid)

    def _refresh(self, now: float) -> None:
        document = self._fetch(self._url)
        self.fetches += 1
        self._keys = {k["kid"]: k for k in document.get("keys", []) if isinstance(k, dict) and "kid" in k}
        self._fetched_at = now

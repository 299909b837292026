"""Domain errors. Handlers map each kind to one HTTP status; services only raise them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(frozen=True)
class Problem:
    """What is wrong with one field of a request (`field`), in words (`problem`)."""

    field: str
    problem: str


@dataclass
class DomainError(Exception):
    """A failure a service reports; the handlers answer it with `status` and `code`."""

    message: str
    details: list[Problem] = field(default_factory=list)
    code: str = "error"
    status: int = 400

    def __str__(self) -> str:
        return self.message


class InvalidInput(DomainError):
    def __init__(self, message: str, details: list[Problem] | None = None, code: str = "invalid_request"):
        super().__init__(message, details or [], code, 400)


class Unauthenticated(DomainError):
    def __init__(self, message: str = "Missing or invalid credentials."):
        super().__init__(message, [], "unauthenticated", 401)


class Forbidden(DomainError):
    def __init__(self, message: str = "Not allowed.", details: list[Problem] | None = None):
        super().__init__(message, details or [], "forbidden", 403)


class NotFound(DomainError):
    def __init__(self, what: str):
        super().__init__(f"{what} not found.", [], "not_found", 404)


class Conflict(DomainError):
    def __init__(self, message: str, code: str = "conflict", details: list[Problem] | None = None):
        super().__init__(message, details or [], code, 409)


class VersionConflict(Conflict):
    def __init__(self, what: str):
        super().__init__(f"{what} was changed by someone else; fetch it and retry.", "version_conflict")


class Contention(Conflict):
    """Another write touched the same items at the same moment; the caller may retry."""

    def __init__(self) -> None:
        super().__init__("The items changed concurrently; retry the request.", "concurrent_update")


def retry_on_contention(attempts: int, action: Callable[[], Any]) -> Any:
    """Runs a read-compute-write step again when its conditional write lost a race."""
    for attempt in range(attempts):
        try:
            return action()
        except Contention:
            if attempt == attempts - 1:
                raise


class RuleViolation(DomainError):
    def __init__(self, message: str, details: list[Problem] | None = None, code: str = "rule_violation"):
        super().__init__(message, details or [], code, 422)


class RateLimited(DomainError):
    """429 with Retry-After: a limit that protects people from mail floods (docs/api.md)."""

    def __init__(self, message: str, retry_after: int, details: list[Problem] | None = None):
        super().__init__(message, details or [], "rate_limited", 429)
        self.retry_after = max(1, int(retry_after))


class PayloadTooLarge(DomainError):
    def __init__(self, limit: int):
        super().__init__(f"Body is larger than {limit} bytes.", [Problem("body", "too_large")], "payload_too_large", 413)


class UnsupportedMediaType(DomainError):
    def __init__(self, content_type: str):
        super().__init__(
            f"Content-Type {content_type!r} is not supported; send application/json.",
            [Problem("Content-Type", "unsupported")], "unsupported_media_type", 415,
        )


class Unavailable(DomainError):
    def __init__(self, message: str, code: str = "unavailable"):
        super().__init__(message, [], code, 503)

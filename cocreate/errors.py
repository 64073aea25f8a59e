"""The base of every business-rule error.

A service raises a ``DomainError`` (or a subclass) when a request breaks a rule. Its message is written for
the person who made the request and is safe to show: views turn it into a form error or a message, the API
into a JSON error with ``status_code``.
"""

from __future__ import annotations


class DomainError(Exception):
    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class PermissionDeniedError(DomainError):
    status_code = 403
    code = "permission_denied"


class NotFoundError(DomainError):
    status_code = 404
    code = "not_found"


class ConflictError(DomainError):
    status_code = 409
    code = "conflict"


class RateLimitedError(DomainError):
    status_code = 429
    code = "rate_limited"

"""The two ways a call fails inside the emulator.

ApiError     Telegram would answer this call with an error; carries the HTTP status,
             which python-telegram-bot maps to its exception (400 BadRequest, 401/404
             InvalidToken, 403 Forbidden, 409 Conflict, 429 RetryAfter, else NetworkError)
ParamError   a parameter is missing or has the wrong type; becomes ApiError(400)
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answer: `{"ok": false, "error_code": status, "description": ...}`."""

    def __init__(
        self, status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {description}")
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


def forbidden(detail: str) -> ApiError:
    return ApiError(403, f"Forbidden: {detail}")


class ParamError(Exception):
    """A parameter does not fit the specification; the message is Telegram-style detail."""

"""Failures injected on demand: 5xx answers, stalled requests, 429 storms, full outages,
and calls refused for good (400) in one chat.

Rules are consumed in the order they were added; each matching call uses up one. They act
like the network and Telegram's front end, so they apply before the call is validated or
carried out: a faulted call never creates a message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from http import HTTPStatus


class FaultKind(Enum):
    SERVER_ERROR = "server_error"
    TIMEOUT = "timeout"
    FLOOD = "flood"
    REFUSE = "refuse"


@dataclass
class FaultRule:
    kind: FaultKind
    remaining: int
    methods: frozenset[str] | None  # lower-case names; None: every method but getUpdates
    status: int = 500
    seconds: float = 0.0
    retry_after: int = 0
    text: str = ""  # the description, when not the status's own phrase
    chat_id: int | None = None  # only calls to this chat

    def matches(self, method: str, chat_id: object = None) -> bool:
        if self.chat_id is not None and chat_id != self.chat_id:
            return False
        name = method.lower()
        if self.methods is None:
            return name != "getupdates"
        return name in self.methods

    @property
    def description(self) -> str:
        if self.text:
            return self.text
        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return "Internal Server Error"


def _names(methods: str | Iterable[str] | None) -> frozenset[str] | None:
    if methods is None:
        return None
    if isinstance(methods, str):
        methods = [methods]
    return frozenset(m.lower() for m in methods)


class Faults:
    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._rules: list[FaultRule] = []
        self._outage_until: datetime | None = None

    def server_error(
        self, n: int = 1, status: int = 500, methods: str | Iterable[str] | None = None
    ) -> None:
        """The next n matching calls answer HTTP `status` (PTB: NetworkError)."""
        self._rules.append(FaultRule(FaultKind.SERVER_ERROR, n, _names(methods), status=status))

    def timeout(
        self, n: int = 1, seconds: float = 30.0, methods: str | Iterable[str] | None = None
    ) -> None:
        """The next n matching calls stall `seconds`, then fail unprocessed (PTB: TimedOut)."""
        self._rules.append(
            FaultRule(FaultKind.TIMEOUT, n, _names(methods), status=504, seconds=seconds)
        )

    def flood(
        self, n: int = 1, retry_after: int = 3, methods: str | Iterable[str] | None = None
    ) -> None:
        """The next n matching calls get 429 with parameters.retry_after (PTB: RetryAfter)."""
        self._rules.append(
            FaultRule(FaultKind.FLOOD, n, _names(methods), status=429, retry_after=retry_after)
        )

    def refuse(
        self,
        n: int = 1,
        description: str = "Bad Request: chat not found",
        methods: str | Iterable[str] | None = "sendMessage",
        chat_id: int | None = None,
    ) -> None:
        """The next n matching calls (to `chat_id`, if given) are refused for good: 400
        with `description`, as Telegram refuses a call it will never accept."""
        self._rules.append(
            FaultRule(
                FaultKind.REFUSE, n, _names(methods), status=400, text=description, chat_id=chat_id
            )
        )

    def outage(self, seconds: float) -> None:
        """Every call, getUpdates included, answers 502 until the emulator clock moves on."""
        self._outage_until = self._clock() + timedelta(seconds=seconds)

    def clear(self) -> None:
        self._rules.clear()
        self._outage_until = None

    def in_outage(self) -> bool:
        if self._outage_until is None:
            return False
        if self._clock() >= self._outage_until:
            self._outage_until = None
            return False
        return True

    def take(self, method: str, chat_id: object = None) -> FaultRule | None:
        for rule in self._rules:
            if rule.remaining > 0 and rule.matches(method, chat_id):
                rule.remaining -= 1
                if rule.remaining == 0:
                    self._rules.remove(rule)
                return rule
        return None

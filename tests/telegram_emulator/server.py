"""The Emulator: an aiohttp server speaking the Bot API, and the handle tests hold.

A request goes through the same stages as at Telegram: the network (latency, injected
faults, outages), the front end (token, method name), parameter validation against the
specification, then the method itself. Every request is recorded in `calls`, failed ones
included, so a test can assert on what the bot tried as well as on what it achieved.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from aiohttp import web

from tests.telegram_emulator import api_edits, api_messages, api_misc
from tests.telegram_emulator.errors import ApiError
from tests.telegram_emulator.faults import FaultKind, FaultRule, Faults
from tests.telegram_emulator.limits import FloodLimits
from tests.telegram_emulator.people import SimGroup, SimUser
from tests.telegram_emulator.spec import ApiSpec, load_spec
from tests.telegram_emulator.state import Chat, ChatType, Clock, Profile, World
from tests.telegram_emulator.validation import RawValue, Upload, decode_params
from tests.telegram_emulator.views import Call

Handler = Callable[[World, dict[str, Any]], Awaitable[Any]]
Predicate = Callable[[], Any]

# wait_for wakes on every emulator change; this slower re-check covers predicates that
# read state the emulator cannot see change, such as the bot's own database.
_RECHECK = 0.2


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _error(status: int, description: str) -> tuple[int, dict[str, Any]]:
    return status, ApiError(status, description).body()


class Emulator:
    def __init__(
        self,
        token: str = "123456:TEST-token",  # noqa: S107 - a fake token for a fake server
        bot_username: str = "nabat_test_bot",
        bot_id: int | None = None,
        *,
        clock: Clock | None = None,
        latency: float = 0.0,
        spec_path: str | os.PathLike[str] | None = None,
        limits: bool = True,
        chat_rate: float = 1.0,
        chat_burst: int = 3,
        global_rate: float = 30.0,
        global_burst: int = 30,
        group_per_minute: int = 20,
        bot_first_name: str = "Nabat",
    ) -> None:
        prefix = token.split(":", 1)[0]
        self.token = token
        self.bot_username = bot_username
        self.bot_id = bot_id if bot_id is not None else int(prefix) if prefix.isdigit() else 123456
        self.spec: ApiSpec = load_spec(spec_path)
        self._clock: Clock = clock or _utc_now
        bot = Profile(
            self.bot_id,
            bot_first_name,
            is_bot=True,
            username=bot_username,
            extra=(
                ("can_join_groups", True),
                ("can_read_all_group_messages", False),
                ("supports_inline_queries", False),
                ("can_connect_to_business", False),
                ("has_main_web_app", False),
            ),
        )
        flood = (
            FloodLimits(chat_rate, chat_burst, global_rate, global_burst, group_per_minute)
            if limits
            else None
        )
        self._world = World(bot, self._clock, flood)
        self.faults = Faults(self._clock)
        self._latency = latency
        self._calls: list[Call] = []
        self._users: dict[int, SimUser] = {}
        self._groups: dict[int, SimGroup] = {}
        self._handlers: dict[str, Handler] = {
            **api_messages.HANDLERS,
            **api_edits.HANDLERS,
            **api_misc.HANDLERS,
        }
        self._runner: web.AppRunner | None = None
        self._stopping: asyncio.Event | None = None
        self.port = 0

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        # Room for the largest file Telegram takes from a bot (sendDocument checks it):
        # aiohttp's own limit, 1 MiB, would refuse an upload long before Telegram does.
        app = web.Application(client_max_size=api_messages.MAX_UPLOAD + 2**20)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/file/bot{token}/{path:.*}", self._no_file)
        # handler_cancellation: when the bot hangs up (read timeout), the stalled handler is
        # cancelled instead of finishing the call behind the bot's back.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=0.5
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._stopping = asyncio.Event()
        self._world.closing = False

    async def stop(self) -> None:
        self._world.closing = True
        self._world.touch()
        if self._stopping is not None:
            self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """PTB's base_url form: PTB appends the token and the method."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    def pace_on(self, monotonic: Callable[[], float]) -> None:
        """Count Telegram's flood limits on `monotonic` (the bot's pacing clock in a test
        on a fake clock) instead of real time, so that a bot that keeps its own pace on
        that clock is held to exactly that pace. Callback answer windows stay real."""
        limits = self._world.limits
        if limits is not None:
            self._world.limits = limits.on_clock(monotonic)

    def set_latency(self, seconds: float) -> None:
        self._latency = seconds

    # -- people --------------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
    ) -> SimUser:
        """The same id always gives the same SimUser; its private chat id is user_id."""
        if user_id in self._users:
            return self._users[user_id]
        if user_id <= 0 or user_id == self.bot_id:
            raise ValueError(f"user ids are positive and not the bot's: {user_id}")
        profile = Profile(
            user_id,
            first_name or f"User{user_id}",
            last_name=last_name,
            username=username,
            language_code=language_code,
        )
        chat = Chat(user_id, ChatType.PRIVATE, user=profile)
        self._world.chats[user_id] = chat
        self._users[user_id] = SimUser(self._world, profile, chat)
        return self._users[user_id]

    def group(self, chat_id: int, title: str = "Group") -> SimGroup:
        """A group the bot is a member of; -100… ids are supergroups, like Telegram's."""
        if chat_id in self._groups:
            return self._groups[chat_id]
        if chat_id >= 0:
            raise ValueError(f"group chat ids are negative: {chat_id}")
        kind = ChatType.SUPERGROUP if str(chat_id).startswith("-100") else ChatType.GROUP
        chat = Chat(chat_id, kind, title=title)
        self._world.chats[chat_id] = chat
        self._groups[chat_id] = SimGroup(self._world, chat)
        return self._groups[chat_id]

    # -- what happened -------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        return list(self._calls)

    def calls_to(self, chat_id: int | str) -> list[Call]:
        return [c for c in self._calls if c.params.get("chat_id") == chat_id]

    def sent(self, chat_id: int | str | None = None) -> list[Call]:
        """Successful calls that created a message (send*, copyMessage, forwardMessage)."""
        return [
            c
            for c in self._calls
            if c.ok
            and c.method in api_messages.MESSAGE_CREATING
            and (chat_id is None or c.params.get("chat_id") == chat_id)
        ]

    @property
    def violations(self) -> list[str]:
        """Calls Telegram would accept but a test must not: unknown parameters and the like."""
        return [*self._world.violations, *self._world.stale_callbacks()]

    @property
    def pending_updates(self) -> int:
        return self._world.updates.pending_count

    @property
    def update_ids(self) -> list[int]:
        """Ids of every update created for the bot, in order, delivered or not."""
        return self._world.updates.ids()

    def push_raw_update(self, fields: dict[str, Any]) -> int:
        """Queue an update exactly as given, with the next update_id; returns that id.

        Nothing is checked: `{"message": {...no date...}}` goes out as it is, the way a
        proxy or a local Bot API server could send it. Its id counts in `update_ids`.
        """
        return self._world.push_raw_update(fields)

    def redeliver(self, update_id: int) -> None:
        """Send an update again with the same id, as Telegram does after a crash."""
        self._world.updates.redeliver(update_id)
        self._world.touch()

    async def wait_for(
        self,
        predicate: Predicate,
        timeout: float = 5.0,  # noqa: ASYNC109 - the public API the end-to-end tests use
        what: str = "condition",
    ) -> Any:
        """Wait until predicate() (sync or async) is truthy; returns its value."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            signal = self._world.changes.current()
            result = predicate()
            if inspect.isawaitable(result):
                result = await result
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            try:
                async with asyncio.timeout(min(remaining, _RECHECK)):
                    await signal.wait()
            except TimeoutError:
                pass

    # -- HTTP ----------------------------------------------------------------------------

    async def _no_file(self, request: web.Request) -> web.Response:
        return web.json_response(ApiError(404, "Not Found").body(), status=404)

    async def _handle(self, request: web.Request) -> web.Response:
        call = Call(request.match_info["method"], {}, 0, {}, self._world.now())
        self._calls.append(call)
        self._world.touch()
        try:
            status, body = await self._answer(request, call)
        except asyncio.CancelledError:
            if call.status == 0:
                call.status = 499
                call.response = ApiError(499, "client closed the connection").body()
            self._world.touch()
            raise
        call.status, call.response = status, body
        self._world.touch()
        return web.json_response(body, status=status)

    async def _answer(self, request: web.Request, call: Call) -> tuple[int, dict[str, Any]]:
        try:
            raw = await _read_params(request)
        except ValueError as exc:
            return _error(400, f"Bad Request: can't parse request: {exc}")
        call.params = {k: v if isinstance(v, Upload) else _loose(v) for k, v in raw.items()}
        if self._latency > 0:
            await asyncio.sleep(self._latency)
        if self.faults.in_outage():
            return _error(502, "Bad Gateway")
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = self.spec.method(call.method)
        if method is None:
            return _error(404, "Not Found: method not found")
        call.method = method.name
        decoded = decode_params(self.spec, method, raw)
        call.params = decoded.params
        self._world.violations.extend(decoded.violations)
        fault = self.faults.take(method.name, decoded.params.get("chat_id"))
        if fault is not None:
            return await self._fault(fault, call)
        if decoded.error is not None:
            return _error(400, f"Bad Request: {decoded.error}")
        handler = self._handlers.get(method.name)
        if handler is None:
            self._world.violations.append(f"{method.name} is in the Bot API but not emulated")
            return _error(400, f"Bad Request: {method.name} is not emulated")
        try:
            result = await handler(self._world, decoded.params)
        except ApiError as exc:
            return exc.status, exc.body()
        return 200, {"ok": True, "result": result}

    async def _fault(self, fault: FaultRule, call: Call) -> tuple[int, dict[str, Any]]:
        if fault.kind is FaultKind.FLOOD:
            retry = fault.retry_after
            error = ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})
            return 429, error.body()
        if fault.kind is FaultKind.TIMEOUT:
            # Recorded now: the bot will hang up long before this answer would come.
            call.status, call.response = _error(504, "Gateway Timeout")
            self._world.touch()
            if self._stopping is not None:
                try:
                    async with asyncio.timeout(fault.seconds):
                        await self._stopping.wait()
                except TimeoutError:
                    pass
            return call.status, call.response
        return _error(fault.status, fault.description)


def _loose(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


async def _read_params(request: web.Request) -> dict[str, RawValue]:
    """Query string and body merged; every value as text, the way the real server sees it."""
    params: dict[str, RawValue] = dict(request.query)
    if not request.body_exists:
        return params
    if request.content_type == "application/json":
        data = await request.json()
        if not isinstance(data, dict):
            raise ValueError("a JSON body must be an object")
        for key, value in data.items():
            if value is not None:
                params[key] = value if isinstance(value, str) else json.dumps(value)
        return params
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, web.FileField):
            params[key] = Upload(value.filename, value.content_type, value.file.read())
        else:
            params[key] = str(value)
    return params

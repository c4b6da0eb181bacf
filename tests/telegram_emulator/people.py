"""Simulated people: they write to the bot, share locations, press buttons, block it.

Every action a real client could not perform (pressing a button that is not there, editing
someone else's live location) raises AssertionError: it is a bug in the test, not
something the bot should have to handle. Forged callbacks, which a modified client can
send, have their own method.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tests.telegram_emulator.formatting import command_entities
from tests.telegram_emulator.state import Chat, PendingCallback, Profile, StoredMessage, World
from tests.telegram_emulator.views import BotMessage


class _ChatView:
    _world: World
    _chat: Chat

    @property
    def chat_id(self) -> int:
        return self._chat.id

    @property
    def messages(self) -> list[BotMessage]:
        """Messages the bot sent to this chat, in order, deleted ones included."""
        return [BotMessage.of(m) for m in self._chat.ordered() if m.from_bot]

    @property
    def visible(self) -> list[BotMessage]:
        return [m for m in self.messages if not m.deleted]

    @property
    def last(self) -> BotMessage:
        visible = self.visible
        if not visible:
            raise AssertionError(f"chat {self._chat.id} has no visible message from the bot")
        return visible[-1]

    @property
    def history(self) -> list[BotMessage]:
        """Every message in the chat, both sides, in order (`from_bot` tells them apart)."""
        return [BotMessage.of(m) for m in self._chat.ordered()]

    async def _post(self, sender: Profile, kind: str, content: dict[str, Any]) -> dict[str, Any]:
        message = self._chat.add(sender, self._world.now(), kind, content)
        body = message.to_json()
        self._world.push_update("message", body)
        await asyncio.sleep(0)  # let a waiting long poll pick it up, as a network hop would
        return body

    async def _press(self, user: Profile, message_id: int, data: str, forged: bool) -> str:
        message = self._chat.messages.get(message_id)
        if not forged:
            _assert_pressable(self._chat, message, data)
        world = self._world
        query_id = world.new_callback_id()
        if message is not None and not message.deleted:
            shown: dict[str, Any] = message.to_json()
        else:  # what Telegram sends for a message the bot can no longer see
            shown = {"chat": self._chat.to_json(), "message_id": message_id, "date": 0}
        created = world.push_update(
            "callback_query",
            {
                "id": query_id,
                "from": user.to_json(),
                "message": shown,
                "chat_instance": str(abs(self._chat.id) * 7919 + world.bot.id),
                "data": data,
            },
        )
        if created is not None:  # only a query the bot receives must be answered
            world.callbacks[query_id] = PendingCallback(
                query_id, user, self._chat.id, message_id, data, world.now(), world.monotonic()
            )
        await asyncio.sleep(0)
        return query_id


def _assert_pressable(chat: Chat, message: StoredMessage | None, data: str) -> None:
    where = f"message {message.message_id if message else '?'} in chat {chat.id}"
    if message is None:
        raise AssertionError(f"no such message in chat {chat.id}")
    if not message.from_bot:
        raise AssertionError(f"{where} is not the bot's; it has no inline buttons to press")
    if message.deleted:
        raise AssertionError(f"{where} was deleted; its buttons are gone")
    markup = message.inline_markup or {}
    offered = [b.get("callback_data") for row in markup.get("inline_keyboard", []) for b in row]
    if data not in offered:
        raise AssertionError(f"{where} has no button with callback_data {data!r}; it has {offered}")


class SimUser(_ChatView):
    """A person in a private chat with the bot; the chat id is the user id."""

    def __init__(self, world: World, profile: Profile, chat: Chat) -> None:
        self._world = world
        self._chat = chat
        self.profile = profile

    def __repr__(self) -> str:
        return f"SimUser({self.profile.id}, {self.profile.first_name!r})"

    @property
    def id(self) -> int:
        return self.profile.id

    user_id = id

    @property
    def first_name(self) -> str:
        return self.profile.first_name

    @property
    def username(self) -> str | None:
        return self.profile.username

    @property
    def blocked(self) -> bool:
        return self._chat.blocked

    @property
    def started(self) -> bool:
        return self._chat.started

    def open_chat(self) -> None:
        """The user wrote to the bot some time ago: the bot may message them (no update now)."""
        self._chat.started = True

    @property
    def callback_answers(self) -> list[dict[str, Any]]:
        """answerCallbackQuery parameters for this user's presses, in order."""
        return list(self._world.callback_answers.get(self.id, []))

    async def _send(self, kind: str, content: dict[str, Any]) -> dict[str, Any]:
        if self._chat.blocked:
            raise AssertionError(f"{self!r} has blocked the bot; call unblock() first")
        self._chat.started = True
        return await self._post(self.profile, kind, content)

    async def send(self, text: str) -> dict[str, Any]:
        """A text message; commands get bot_command entities, as Telegram adds them."""
        content: dict[str, Any] = {"text": text}
        entities = command_entities(text)
        if entities:
            content["entities"] = entities
        return await self._send("text", content)

    async def send_location(
        self, latitude: float, longitude: float, live_period: int | None = None
    ) -> dict[str, Any]:
        location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
        if live_period is not None:
            location["live_period"] = live_period
        return await self._send("location", {"location": location})

    async def edit_live_location(
        self, message_id: int, latitude: float, longitude: float
    ) -> dict[str, Any]:
        """Move a live location this user shares: an edited_message update."""
        message = self._chat.messages.get(message_id)
        location = message.content.get("location") if message else None
        if message is None or message.sender != self.profile or not location:
            raise AssertionError(f"message {message_id} is not {self!r}'s location")
        if "live_period" not in location:
            raise AssertionError(f"message {message_id} is a static location, not a live one")
        message.content = {"location": {**location, "latitude": latitude, "longitude": longitude}}
        message.edit_date = self._world.now()
        body = message.to_json()
        self._world.push_update("edited_message", body)
        await asyncio.sleep(0)
        return body

    async def send_voice(self, file_id: str = "VOICE1", duration: int = 3) -> dict[str, Any]:
        voice = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "duration": duration,
            "mime_type": "audio/ogg",
        }
        return await self._send("voice", {"voice": voice})

    async def send_photo(
        self, file_id: str = "PHOTO1", caption: str | None = None
    ) -> dict[str, Any]:
        sizes = [
            {
                "file_id": f"{file_id}-s",
                "file_unique_id": f"u{file_id}-s",
                "width": 320,
                "height": 240,
            },
            {"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 1280, "height": 960},
        ]
        content: dict[str, Any] = {"photo": sizes}
        if caption is not None:
            content["caption"] = caption
        return await self._send("photo", content)

    async def press(self, message_id: int, callback_data: str) -> str:
        """Press an inline button the bot showed; returns the callback query id."""
        return await self._press(self.profile, message_id, callback_data, forged=False)

    async def press_button(self, text: str) -> str:
        """Press the button labelled `text` (exact, else containing) on the newest message."""
        for message in reversed(self.visible):
            labelled = [b for b in message.buttons if b[1]]
            match = next((b for b in labelled if b[0] == text), None) or next(
                (b for b in labelled if text in b[0]), None
            )
            if match is not None:
                return await self.press(message.message_id, match[1])
        offered = [b[0] for m in self.visible for b in m.buttons]
        raise AssertionError(
            f"no visible button labelled {text!r} for {self!r}; there are {offered}"
        )

    async def forge_press(self, message_id: int, data: str) -> str:
        """A callback query with any data, as a modified client could send."""
        return await self._press(self.profile, message_id, data, forged=True)

    def block(self, *, notify: bool = True) -> None:
        """From now on the bot gets 403 for this chat, and a my_chat_member update.

        `notify=False`: the bot never hears of it (Telegram drops updates a bot does not
        fetch within 24 hours), so it learns only when a message is refused.
        """
        if not self._chat.blocked:
            self._chat.blocked = True
            if notify:
                self._member_update("member", "kicked")

    def unblock(self) -> None:
        if self._chat.blocked:
            self._chat.blocked = False
            self._member_update("kicked", "member")

    def _member_update(self, old: str, new: str) -> None:
        bot = self._world.bot.to_json()

        def member(status: str) -> dict[str, Any]:
            body: dict[str, Any] = {"status": status, "user": bot}
            if status == "kicked":
                body["until_date"] = 0
            return body

        self._world.push_update(
            "my_chat_member",
            {
                "chat": self._chat.to_json(),
                "from": self.profile.to_json(),
                "date": int(self._world.now().timestamp()),
                "old_chat_member": member(old),
                "new_chat_member": member(new),
            },
        )


class SimGroup(_ChatView):
    """A group with the bot in it; its members can write there and press buttons."""

    def __init__(self, world: World, chat: Chat) -> None:
        self._world = world
        self._chat = chat

    def __repr__(self) -> str:
        return f"SimGroup({self._chat.id}, {self._chat.title!r})"

    @property
    def title(self) -> str:
        return self._chat.title or ""

    @property
    def members(self) -> list[int]:
        return list(self._chat.members)

    def add_member(self, user: SimUser) -> None:
        self._chat.members[user.id] = user.profile

    def add_bot(self, by: SimUser) -> None:
        """`by` adds the bot to this group: Telegram sends it a my_chat_member update."""
        self.add_member(by)
        self._bot_update(by, "left", "member")

    def remove_bot(self, by: SimUser) -> None:
        self._bot_update(by, "member", "left")

    def _bot_update(self, by: SimUser, old: str, new: str) -> None:
        bot = self._world.bot.to_json()
        self._world.push_update(
            "my_chat_member",
            {
                "chat": self._chat.to_json(),
                "from": by.profile.to_json(),
                "date": int(self._world.now().timestamp()),
                "old_chat_member": {"status": old, "user": bot},
                "new_chat_member": {"status": new, "user": bot},
            },
        )

    def _member(self, user: SimUser) -> Profile:
        if user.id not in self._chat.members:
            raise AssertionError(f"{user!r} is not a member of {self!r}")
        return user.profile

    async def send(self, user: SimUser, text: str) -> dict[str, Any]:
        content: dict[str, Any] = {"text": text}
        entities = command_entities(text)
        if entities:
            content["entities"] = entities
        return await self._post(self._member(user), "text", content)

    async def press(self, user: SimUser, message_id: int, callback_data: str) -> str:
        return await self._press(self._member(user), message_id, callback_data, forged=False)

    async def forge_press(self, user: SimUser, message_id: int, data: str) -> str:
        """A press with any data, as a modified client can send."""
        return await self._press(self._member(user), message_id, data, forged=True)

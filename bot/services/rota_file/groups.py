"""Group chats as a rota file names them: "group:<title>" when the title is the group's
alone, else "group:#<id>".

The id is the group chat's number in nabat (group_chats.id), not Telegram's chat id. Export
writes "#<id>" when another group has the same title, when the title is empty, has spaces
at either end (the file's targets are read stripped) or itself looks like "#<number>", so
the file it writes always imports back to the same groups. Import accepts either form for
any group.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.domain.models import GroupChat
from bot.services.rota_file.problems import _Table

_ID_REF = re.compile(r"#(\d{1,12})", re.ASCII)  # \d alone matches '１' and '٣' too
_ADD_FIRST = "add the bot to the group first (a coordinator must add it)"


class _Groups:
    def __init__(self, groups: Sequence[GroupChat]) -> None:
        self.by_id = {g.id: g for g in groups}
        self._by_title: dict[str, list[GroupChat]] = {}
        for g in groups:
            self._by_title.setdefault(g.title, []).append(g)

    def ref(self, group_id: int) -> str:
        """What follows "group:" in the file for this group."""
        group = self.by_id.get(group_id)
        if group is None:
            return f"#{group_id}"
        title = group.title
        if not title or title != title.strip() or _ID_REF.fullmatch(title):
            return f"#{group_id}"
        return title if len(self._by_title[title]) == 1 else f"#{group_id}"

    def resolve(self, ref: str) -> GroupChat | str:
        """The group chat `ref` (a title or "#<id>") names, or what is wrong with it."""
        if number := _ID_REF.fullmatch(ref.strip()):
            found = self.by_id.get(int(number.group(1)))
            return found if found else f"no group chat #{number.group(1)}; {_ADD_FIRST}"
        same = self._by_title.get(ref, [])
        if len(same) == 1:
            return same[0]
        if same:
            ids = " or ".join(f"'group:#{g.id}'" for g in same)
            return f"{len(same)} group chats are titled {ref!r}: write {ids}"
        close = [g for g in self.by_id.values() if g.title.strip().casefold() == ref.casefold()]
        if close:
            hint = " or ".join(f"'group:{self.ref(g.id)}'" for g in close)
            return f"no group chat titled {ref!r} (did you mean {hint}?)"
        return f"no group chat titled {ref!r}; {_ADD_FIRST}"

    def group(self, table: _Table, key: str, ref: str) -> int | None:
        """Resolve a group chat target; report why not otherwise."""
        found = self.resolve(ref)
        if isinstance(found, str):
            table.error(key, found)
            return None
        return found.id

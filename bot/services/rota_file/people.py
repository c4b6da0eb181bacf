"""People as a rota file names them: by display name when it is unique, else "#<id>"."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.domain.models import Person, Role
from bot.services.rota_file.problems import _Table

_ID_REF = re.compile(r"#(\d{1,12})", re.ASCII)  # \d alone matches '１' and '٣' too


class _People:
    """People as the file names them: display name when unique, else "#<id>"."""

    def __init__(self, people: Sequence[Person]) -> None:
        self.by_id = {p.id: p for p in people}
        self._by_name: dict[str, list[Person]] = {}
        for p in people:
            self._by_name.setdefault(p.name, []).append(p)

    def ref(self, person_id: int) -> str:
        person = self.by_id.get(person_id)
        if person is None or _ID_REF.fullmatch(person.name.strip()) or not person.name.strip():
            return f"#{person_id}"
        return person.name if len(self._by_name[person.name]) == 1 else f"#{person_id}"

    def resolve(self, ref: str) -> Person | str:
        """The person `ref` names, or what is wrong with it."""
        if number := _ID_REF.fullmatch(ref.strip()):
            found = self.by_id.get(int(number.group(1)))
            return found if found else f"no person #{number.group(1)}"
        same = self._by_name.get(ref, [])
        if len(same) == 1:
            return same[0]
        if same:
            ids = " or ".join(f"#{p.id}" for p in same)
            return f"{len(same)} people are named {ref!r}: use {ids}"
        close = sorted(
            {p.name for p in self.by_id.values() if p.name.strip().casefold() == ref.casefold()}
        )
        return f"no person named {ref!r}" + (f" (did you mean {close[0]!r}?)" if close else "")

    def staff(self, table: _Table, key: str, ref: str) -> int | None:
        """Resolve someone who can be on call or paged; report why not otherwise."""
        found = self.resolve(ref)
        if isinstance(found, str):
            table.error(key, found)
            return None
        if not found.is_staff:
            table.error(key, f"{ref!r} is a contact; only responders and coordinators go on call")
            return None
        return found.id


def listed_contact(
    table: _Table,
    people: _People,
    seen: dict[int, int],
    *,
    kind: str,
    only: str,
    already: str,
) -> Person | None:
    """The contact a `[[checkin]]` or `[[case]]` table names, once per file; problems are
    reported on the table (`kind` heads them, `only` ends "is not a contact: ...",
    `already` follows "already has")."""
    ref = table.text("contact")
    if ref is None:
        return None
    table.where = f'{kind} "{ref}"'
    found = people.resolve(ref)
    if isinstance(found, str):
        table.error("contact", found)
        return None
    if not found.has(Role.CONTACT):
        table.error("contact", f"{ref!r} is not a contact: {only}")
        return None
    if found.id in seen:
        table.error("contact", f"{ref!r} already has {already} at line {seen[found.id]}")
        return None
    seen[found.id] = table.problems.lines.line(table.path, "contact")
    return found

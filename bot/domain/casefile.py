"""A contact's case file: what a lawyer needs for an urgent application, filled in ahead.

Every field may be empty. Names come in the scripts that matter (Latin, Cyrillic,
Korean); documents, addresses and proceedings are lists. Limits keep a case file inside
one export page set and a Telegram message or two; `check` says which field is wrong.

A field is named as the coordinator types it: `name_korean`, `birth_date`, and a part
of a list item by its number from 1, `documents.1.number`, `addresses.2.text`
(`documents[1].number` is read the same). `with_value` and `without` change one field
by that name, for the one-line form, the guided flow and the case file TOML alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from datetime import date
from typing import Any, TypeVar

MAX_FIELD = 500  # characters in one value
MAX_RISK = 2000  # the risk, in a few lines
MAX_ITEMS = 10  # documents, addresses, proceedings
DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_PATH = re.compile(r"([a-z_]+)(?:\.(\d{1,3})(?:\.([a-z_]+))?)?", re.ASCII)


class CaseFileError(ValueError):
    """A value the rules refuse; `field` names it (e.g. 'documents.2.number').

    `kind` says which rule, for a translated message (`case.problem.<kind>`), with
    `params`; `problem` is the same in English, for the command line."""

    def __init__(
        self, field_name: str, problem: str, kind: str = "invalid", **params: object
    ) -> None:
        super().__init__(f"{field_name}: {problem}")
        self.field = field_name
        self.problem = problem
        self.kind = kind
        self.params = params


@dataclass(frozen=True, slots=True)
class Document:
    kind: str = ""  # passport, residence permit, refugee certificate...
    number: str = ""
    issued: str = ""  # YYYY-MM-DD, or empty
    expires: str = ""  # YYYY-MM-DD, or empty


@dataclass(frozen=True, slots=True)
class Address:
    kind: str = ""  # home, work
    text: str = ""


@dataclass(frozen=True, slots=True)
class Proceeding:
    kind: str = ""  # refugee application, court case, decision
    number: str = ""
    date: str = ""  # YYYY-MM-DD, or empty
    note: str = ""  # the decision, the court, what is pending


Item = Document | Address | Proceeding
# The list fields and the type of their items.
LISTS: dict[str, type[Document] | type[Address] | type[Proceeding]] = {
    "documents": Document,
    "addresses": Address,
    "proceedings": Proceeding,
}
# The parts of a list item that hold a date.
ITEM_DATES = frozenset({"issued", "expires", "date"})


@dataclass(frozen=True, slots=True)
class CaseFile:
    name_latin: str = ""
    name_cyrillic: str = ""
    name_korean: str = ""
    birth_date: str = ""  # YYYY-MM-DD, or empty
    nationality: str = ""
    documents: tuple[Document, ...] = ()
    addresses: tuple[Address, ...] = ()
    risk: str = ""  # why return would endanger them
    proceedings: tuple[Proceeding, ...] = ()
    trusted_person: str = ""  # family or someone to call, and how
    lawyer: str = ""  # the lawyer who knows the case, and how to reach them
    notes: str = ""

    def check(self) -> None:
        """Raise CaseFileError naming the first field the rules refuse."""
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, str):
                _text(f.name, value, limit_of(f.name))
            else:
                if len(value) > MAX_ITEMS:
                    raise CaseFileError(
                        f.name, f"at most {MAX_ITEMS} items", "too_many", max=MAX_ITEMS
                    )
                for i, item in enumerate(value):
                    for g in fields(item):
                        _text(f"{f.name}.{i + 1}.{g.name}", getattr(item, g.name), MAX_FIELD)
        for name, value in self.dates():
            check_date(name, value)

    def dates(self) -> list[tuple[str, str]]:
        out = [("birth_date", self.birth_date)]
        for i, d in enumerate(self.documents, start=1):
            out += [(f"documents.{i}.issued", d.issued), (f"documents.{i}.expires", d.expires)]
        out += [(f"proceedings.{i}.date", p.date) for i, p in enumerate(self.proceedings, 1)]
        return out

    @property
    def empty(self) -> bool:
        return self == CaseFile()

    # -- one field at a time -------------------------------------------------------------

    def with_value(self, path: str, value: str) -> CaseFile:
        """This case file with the field `path` set to `value` (checked, CaseFileError
        otherwise). A list item one past the last is added; an item emptied is dropped."""
        name, index, part = parse_path(path)
        value = value.strip()
        if index is None:
            if name in LISTS:
                raise _whole_list(name)
            changed = _set(self, name, value)
        else:
            items = list(getattr(self, name))
            if part is None:
                raise _whole_item(name, index)
            if index > len(items) + 1:
                raise CaseFileError(
                    f"{name}.{index}",
                    f"number the items from 1; the next new one is {name}.{len(items) + 1}",
                    "item",
                    next=f"{name}.{len(items) + 1}",
                )
            if index == len(items) + 1:
                items.append(LISTS[name]())
            items[index - 1] = _set(items[index - 1], part, value)
            changed = _set(self, name, _tidy(items))
        changed.check()
        return changed

    def without(self, path: str) -> CaseFile:
        """This case file with the field, list item (`documents.2`) or list `path` emptied."""
        name, index, part = parse_path(path)
        if index is None:
            return _set(self, name, () if name in LISTS else "")
        items = list(getattr(self, name))
        if index > len(items):
            raise CaseFileError(
                f"{name}.{index}",
                f"there is no {name}.{index}: the case file has {len(items)}",
                "no_item",
                count=len(items),
            )
        if part is None:
            del items[index - 1]
        else:
            items[index - 1] = _set(items[index - 1], part, "")
        return _set(self, name, _tidy(items))

    def value_of(self, name: str) -> str:
        """A text field's value ('' for a list field)."""
        value = getattr(self, name)
        return value if isinstance(value, str) else ""

    def added(self, name: str, item: Item) -> CaseFile:
        """A new last item of the list `name` (checked)."""
        changed = _set(self, name, (*getattr(self, name), item))
        changed.check()
        return changed

    # -- plain values, for storage and drafts ---------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Only what is filled in: the smallest JSON, and a new field needs no migration."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, str):
                if value:
                    out[f.name] = value
            elif value:
                out[f.name] = [
                    {g.name: getattr(i, g.name) for g in fields(i) if getattr(i, g.name)}
                    for i in value
                ]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CaseFile:
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = data.get(f.name)
            if raw is None:
                continue
            if f.name in LISTS:
                kind = LISTS[f.name]
                known = {g.name for g in fields(kind)}
                values[f.name] = tuple(
                    kind(**{k: str(v) for k, v in item.items() if k in known}) for item in raw
                )
            else:
                values[f.name] = str(raw)
        return cls(**values)


def parse_path(path: str) -> tuple[str, int | None, str | None]:
    """`documents.2.number` -> ('documents', 2, 'number'); CaseFileError if no such field."""
    shown = path.strip()[:60]
    cleaned = shown.lower().replace("[", ".").replace("]", "")
    found = _PATH.fullmatch(cleaned)
    if found is None or found.group(1) not in CASE_FIELDS:
        raise CaseFileError(
            shown or "-",
            f"no such field; the fields are {', '.join(CASE_FIELDS)}",
            "unknown",
            fields=", ".join(CASE_FIELDS),
        )
    name, number, part = found.group(1), found.group(2), found.group(3)
    if number is None:
        return name, None, None
    if name not in LISTS:
        raise CaseFileError(shown, f"{name} is not a list: write just {name}", "not_list")
    index = int(number)
    if index < 1:
        raise CaseFileError(shown, "number the items from 1", "item", next=f"{name}.1")
    if part is not None and part not in ITEM_FIELDS[name]:
        raise _whole_item(name, index)
    return name, index, part


def limit_of(name: str) -> int:
    return MAX_RISK if name in ("risk", "notes") else MAX_FIELD


def check_date(name: str, value: str) -> None:
    if not value:
        return
    problem = CaseFileError(name, "write a date as YYYY-MM-DD, e.g. 1990-05-31", "date")
    if not DATE.fullmatch(value):
        raise problem
    try:
        date.fromisoformat(value)
    except ValueError:
        raise problem from None


_T = TypeVar("_T", "CaseFile", Document, Address, Proceeding)


def _set(value: _T, name: str, new: Any) -> _T:
    """`value` with one field replaced, the field named at run time."""
    changes: dict[str, Any] = {name: new}
    return replace(value, **changes)


def _tidy(items: list[Any]) -> tuple[Any, ...]:
    return tuple(i for i in items if i != type(i)())


def _whole_list(name: str) -> CaseFileError:
    parts = ", ".join(f"{name}.1.{p}" for p in ITEM_FIELDS[name])
    return CaseFileError(name, f"name an item's part: {parts}", "parts", parts=parts)


def _whole_item(name: str, index: int) -> CaseFileError:
    parts = ", ".join(f"{name}.{index}.{p}" for p in ITEM_FIELDS[name])
    return CaseFileError(f"{name}.{index}", f"name a part: {parts}", "parts", parts=parts)


def _text(name: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise CaseFileError(name, f"longer than {limit} characters", "too_long", max=limit)
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in value):
        raise CaseFileError(name, "has a control character", "control")


CASE_FIELDS = tuple(f.name for f in fields(CaseFile))
TEXT_FIELDS = tuple(name for name in CASE_FIELDS if name not in LISTS)
ITEM_FIELDS: dict[str, tuple[str, ...]] = {
    name: tuple(f.name for f in fields(kind)) for name, kind in LISTS.items()
}

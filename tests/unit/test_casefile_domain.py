"""A case file changed one field at a time, by the names coordinators type, and `/case`'s
words read into a command."""

from __future__ import annotations

import pytest

from bot.domain.casefile import MAX_ITEMS, CaseFile, CaseFileError, Document
from bot.services.casefiles import CaseCommand, parse_command


def test_a_field_a_list_item_and_a_new_item_are_set_by_name() -> None:
    case = CaseFile().with_value("name_korean", " 김철수 ")
    case = case.with_value("documents.1.number", "836512345")
    case = case.with_value("documents[1].kind", "passport")
    case = case.with_value("documents.2.issued", "2020-01-31")
    assert case.name_korean == "김철수"
    assert case.documents == (
        Document(kind="passport", number="836512345"),
        Document(issued="2020-01-31"),
    )
    assert CaseFile.from_dict(case.to_dict()) == case


def test_clearing_empties_a_field_drops_an_item_or_a_whole_list() -> None:
    case = (
        CaseFile(notes="x")
        .with_value("addresses.1.text", "Lenina 5")
        .with_value("addresses.2.text", "Mira 1")
    )
    assert case.without("notes").notes == ""
    assert [a.text for a in case.without("addresses.1").addresses] == ["Mira 1"]
    # An item whose last part is emptied is gone.
    assert [a.text for a in case.without("addresses.2.text").addresses] == ["Lenina 5"]
    assert case.without("addresses").addresses == ()
    assert case.without("notes").without("addresses").empty


@pytest.mark.parametrize(
    ("path", "value", "kind", "field"),
    [
        ("birth_date", "1990-02-30", "date", "birth_date"),
        ("birth_date", "31.05.1990", "date", "birth_date"),
        ("proceedings.1.date", "2026-3-1", "date", "proceedings.1.date"),
        ("documents.3.kind", "passport", "item", "documents.3"),
        ("nationalty", "DPRK", "unknown", "nationalty"),
        ("risk.1", "x", "not_list", "risk.1"),
        ("documents", "x", "parts", "documents"),
        ("documents.1", "x", "parts", "documents.1"),
        ("documents.1.colour", "x", "parts", "documents.1"),
        ("documents.0.kind", "x", "item", "documents.0.kind"),
        ("lawyer", "x" * 501, "too_long", "lawyer"),
        ("notes", "bell\x07", "control", "notes"),
    ],
)
def test_a_value_the_rules_refuse_names_the_field_and_the_rule(
    path: str, value: str, kind: str, field: str
) -> None:
    with pytest.raises(CaseFileError) as refusal:
        CaseFile().with_value(path, value)
    assert (refusal.value.kind, refusal.value.field) == (kind, field)


def test_lists_hold_at_most_their_limit_and_a_missing_item_cannot_be_cleared() -> None:
    case = CaseFile(documents=tuple(Document(number=str(n)) for n in range(MAX_ITEMS)))
    with pytest.raises(CaseFileError) as refusal:
        case.with_value(f"documents.{MAX_ITEMS + 1}.number", "one more")
    assert refusal.value.kind == "too_many"
    with pytest.raises(CaseFileError) as refusal:
        CaseFile().without("addresses.1")
    assert (refusal.value.kind, refusal.value.params) == ("no_item", {"count": 0})


@pytest.mark.parametrize(
    ("raw", "command"),
    [
        ("", CaseCommand("usage")),
        ("12", CaseCommand("alert", alert_id=12)),
        ("#4", CaseCommand("show", "#4")),
        ("K-17 Ivanova", CaseCommand("show", "K-17 Ivanova")),
        ("K-17 Ivanova | ", CaseCommand("show", "K-17 Ivanova")),
        ("K-17 set name_korean 김 철수", CaseCommand("set", "K-17", "name_korean", "김 철수")),
        # No | needed when the name is followed by a verb; a value keeps its lines.
        (
            "K-17 Ivanova set risk line one\nline two",
            CaseCommand("set", "K-17 Ivanova", "risk", "line one\nline two"),
        ),
        ("Set Setova | set notes x", CaseCommand("set", "Set Setova", "notes", "x")),
        ("K-17 clear documents.2", CaseCommand("clear", "K-17", "documents.2")),
        ("K-17 clear documents.2 extra", CaseCommand("usage")),
        ("K-17 edit", CaseCommand("edit", "K-17")),
        ("edit", CaseCommand("edit")),
        ("K-17 set", CaseCommand("usage")),
    ],
)
def test_case_commands_are_read_as_written(raw: str, command: CaseCommand) -> None:
    assert parse_command(raw) == command

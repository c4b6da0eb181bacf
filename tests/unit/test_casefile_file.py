"""`nabat case export` / `import`: contacts' case files as one TOML file, checked by the
rules of the one-line `/case ... set` form, every problem named by line and field."""

from __future__ import annotations

import asyncio
import stat
from typing import Any

import pytest

from bot.domain.casefile import Address, CaseFile, Document, Proceeding
from bot.services.casefile_toml import CaseFileImportError, export_cases, import_cases
from storage.casefiles import CaseFileRepo
from tests.unit import test_rota_file
from tests.unit.test_rota_file import K17, K42, World

world = test_rota_file.world  # the people of test_rota_file.PEOPLE, nothing else yet

# The line numbers matter: the error tests name them.
CASES = '''\
# case files
[[case]]
contact = "K-17"
name_latin = "Kim Chol Su"
name_cyrillic = "Ким Чол Су"
name_korean = "김철수"
birth_date = 1990-05-31
nationality = "DPRK"
risk = """
Escaped from a logging camp in 2015.
Returned, he faces a labour camp."""
lawyer = "Anna Advokatova, +7 900 000 00 00"

[[case.documents]]
kind = "passport"
number = "836512345"
issued = "2014-02-01"
expires = "2024-01-31"

[[case.documents]]
kind = "refugee certificate"
number = "RU-77-0001"

[[case.addresses]]
kind = "home"
text = "Lenina 5, Vladivostok"

[[case.proceedings]]
kind = "court case"
number = "2a-123/2026"
date = "2026-03-01"
note = "hearing pending"

[[case]]
contact = "#7"
notes = "Speaks some Russian"
'''

K17_CASE = CaseFile(
    name_latin="Kim Chol Su",
    name_cyrillic="Ким Чол Су",
    name_korean="김철수",
    birth_date="1990-05-31",
    nationality="DPRK",
    risk="Escaped from a logging camp in 2015.\nReturned, he faces a labour camp.",
    lawyer="Anna Advokatova, +7 900 000 00 00",
    documents=(
        Document("passport", "836512345", "2014-02-01", "2024-01-31"),
        Document("refugee certificate", "RU-77-0001"),
    ),
    addresses=(Address("home", "Lenina 5, Vladivostok"),),
    proceedings=(Proceeding("court case", "2a-123/2026", "2026-03-01", "hearing pending"),),
)


def _file(*pairs: tuple[str, str]) -> str:
    text = CASES
    for old, new in pairs:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


async def load(world: World, text: str, *, dry_run: bool = False) -> str:
    summary = await import_cases(
        world.db, world.cipher, text, source="case.toml", now=world.clock.now(), dry_run=dry_run
    )
    return str(summary)


async def refused(world: World, text: str) -> list[str]:
    with pytest.raises(CaseFileImportError) as refusal:
        await load(world, text)
    return list(refusal.value.errors)


async def stored(world: World) -> list[tuple[Any, ...]]:
    rows = await world.db.fetchall("SELECT * FROM case_files ORDER BY id")
    return [tuple(r) for r in rows]


async def case_of(world: World, person_id: int) -> CaseFile | None:
    return await CaseFileRepo(world.cipher).get(world.db, person_id)


# --- a file that is right ---------------------------------------------------------------------


async def test_a_file_gives_each_contact_it_lists_that_case_file(world: World) -> None:
    summary = await load(world, CASES)
    assert summary == (
        "case files: 2 added, 0 changed, 0 emptied, 0 unchanged; 0 not in the file kept as they are"
    )
    assert await case_of(world, K17) == K17_CASE
    assert await case_of(world, K42) == CaseFile(notes="Speaks some Russian")
    actions = await world.db.fetchall("SELECT action, actor_id FROM audit_log ORDER BY id")
    assert [tuple(a) for a in actions] == [("case.edit", None), ("case.edit", None)]


async def test_export_then_import_changes_nothing(world: World) -> None:
    await load(world, CASES)
    text = await export_cases(world.db, world.cipher, world.clock.now())
    assert '[[case]]\ncontact = "K-17"\nname_latin = "Kim Chol Su"\n' in text
    assert 'risk = """\nEscaped from a logging camp in 2015.\nReturned, he' in text
    assert '[[case.documents]]\nkind = "refugee certificate"\nnumber = "RU-77-0001"\n' in text
    assert '[[case]]\ncontact = "K-42"\nnotes = "Speaks some Russian"\n' in text
    before = await stored(world)
    assert await load(world, text) == (
        "case files: 0 added, 0 changed, 0 emptied, 2 unchanged; 0 not in the file kept as they are"
    )
    assert await stored(world) == before
    assert await export_cases(world.db, world.cipher, world.clock.now()) == text


async def test_contacts_the_file_does_not_list_keep_their_case_files(world: World) -> None:
    await load(world, CASES)
    only_k42 = '[[case]]\ncontact = "K-42"\nnationality = "DPRK"\n'
    summary = await load(world, only_k42)
    assert summary == (
        "case files: 0 added, 1 changed, 0 emptied, 0 unchanged; 1 not in the file kept as they are"
    )
    assert await case_of(world, K17) == K17_CASE
    # The file is the whole case file of whom it lists: the notes are gone.
    assert await case_of(world, K42) == CaseFile(nationality="DPRK")
    # Listed with no fields: emptied.
    assert "1 emptied" in await load(world, '[[case]]\ncontact = "K-42"\n')
    assert await case_of(world, K42) == CaseFile()


async def test_a_dry_run_says_what_would_change_and_changes_nothing(world: World) -> None:
    before = await world.tables()
    summary = await load(world, CASES, dry_run=True)
    assert summary.startswith("case files: 2 added, 0 changed")
    assert await stored(world) == []
    assert await world.tables() == before


# --- a file that is wrong ---------------------------------------------------------------------

ERRORS = [
    pytest.param(
        [("birth_date = 1990-05-31", 'birth_date = "1990-02-30"')],
        ['case.toml:7: case "K-17": birth_date: write a date as YYYY-MM-DD, e.g. 1990-05-31'],
        id="impossible-date",
    ),
    pytest.param(
        [('issued = "2014-02-01"', 'issued = "01.02.2014"')],
        [
            'case.toml:17: case "K-17" document 1: issued: write a date as YYYY-MM-DD, e.g.'
            " 1990-05-31"
        ],
        id="date-in-a-document",
    ),
    pytest.param(
        [('text = "Lenina 5, Vladivostok"', "text = 5")],
        ['case.toml:26: case "K-17" address 1: text: expected text, got 5'],
        id="not-text",
    ),
    pytest.param(
        [('nationality = "DPRK"', 'nationalty = "DPRK"')],
        [
            'case.toml:8: case "K-17": nationalty: unknown key; valid keys are contact, '
            "name_latin, name_cyrillic, name_korean, birth_date, nationality, documents, "
            "addresses, risk, proceedings, trusted_person, lawyer, notes"
        ],
        id="unknown-field",
    ),
    pytest.param(
        [('note = "hearing pending"', 'notes = "hearing pending"')],
        [
            'case.toml:32: case "K-17" proceeding 1: notes: unknown key; valid keys are kind, '
            "number, date, note"
        ],
        id="unknown-part",
    ),
    pytest.param(
        [('contact = "#7"', 'contact = "K-17"')],
        ["case.toml:35: case \"K-17\": contact: 'K-17' already has a case file at line 3"],
        id="contact-twice",
    ),
    pytest.param(
        [('contact = "#7"', 'contact = "Anna Advokatova"')],
        [
            "case.toml:35: case \"Anna Advokatova\": contact: 'Anna Advokatova' is not a "
            "contact: only contacts have a case file"
        ],
        id="not-a-contact",
    ),
    pytest.param(
        [('contact = "#7"', 'contact = "K-99"')],
        ["case.toml:35: case \"K-99\": contact: no person named 'K-99'"],
        id="no-such-person",
    ),
    pytest.param(
        [('notes = "Speaks some Russian"', 'notes = "x' + "y" * 2000 + '"')],
        ['case.toml:36: case "#7": notes: longer than 2000 characters'],
        id="too-long",
    ),
    pytest.param(
        [('kind = "home"\ntext = "Lenina 5, Vladivostok"', "")],
        ['case.toml:24: case "K-17" address 1: addresses: an empty item: give any of kind, text'],
        id="empty-item",
    ),
]


@pytest.mark.parametrize(("edits", "expected"), ERRORS)
async def test_a_wrong_file_is_refused_naming_line_and_field_and_nothing_changes(
    world: World, edits: list[tuple[str, str]], expected: list[str]
) -> None:
    await load(world, '[[case]]\ncontact = "K-42"\nnotes = "before"\n')
    before = await world.tables(), await stored(world)
    assert await refused(world, _file(*edits)) == expected
    assert (await world.tables(), await stored(world)) == before


async def test_every_problem_is_reported_in_line_order(world: World) -> None:
    errors = await refused(
        world,
        _file(
            ('contact = "#7"', 'contact = "K-99"'),
            ('expires = "2024-01-31"', 'expires = "2024-1-31"'),
            ("birth_date = 1990-05-31", "birth_date = 1990-05-31T10:00:00"),
        ),
    )
    assert [e.split(":")[1] for e in errors] == ["7", "18", "35"]
    assert errors[0] == (
        'case.toml:7: case "K-17": birth_date: expected text, got 1990-05-31T10:00:00'
        " (no UTC offset)"
    )


async def test_a_toml_syntax_error_is_tomllibs_message_after_the_file_name(world: World) -> None:
    assert await refused(world, _file(('nationality = "DPRK"', "nationality = "))) == [
        "case.toml: Invalid value (at line 8, column 15)"
    ]


# --- from the shell -------------------------------------------------------------------------


async def test_case_import_and_export_from_the_shell(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    source = world.tmp / "cases.toml"
    source.write_text(CASES)
    assert await asyncio.to_thread(world.run, "case", "import", "--dry-run", str(source)) == 0
    assert capsys.readouterr().out.startswith(
        f"Dry run, nothing changed. Importing {source} would make case files: 2 added"
    )
    assert await stored(world) == []
    assert await asyncio.to_thread(world.run, "case", "import", str(source)) == 0
    assert capsys.readouterr().out.startswith(f"Imported {source}: case files: 2 added")

    target = world.tmp / "out.toml"
    assert await asyncio.to_thread(world.run, "case", "export", str(target)) == 0
    assert "mode 0600" in capsys.readouterr().out
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_text() == await export_cases(world.db, world.cipher, world.clock.now())

    before = await stored(world)
    source.write_text(_file(("birth_date = 1990-05-31", 'birth_date = "31.05.1990"')))
    assert await asyncio.to_thread(world.run, "case", "import", str(source)) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f'{source}:7: case "K-17": birth_date: write a date as YYYY-MM-DD, e.g. 1990-05-31',
        f"nabat: {source} was not imported; nothing changed.",
    ]
    assert await stored(world) == before


@pytest.mark.parametrize(
    ("argv", "options"),
    [
        (["case", "--help"], ["export", "import"]),
        (["case", "export", "--help"], ["FILE", "0600"]),
        (["case", "import", "--help"], ["FILE", "--dry-run", "keep their case files"]),
    ],
)
def test_case_help_explains_every_option(
    argv: list[str], options: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.__main__ import main

    with pytest.raises(SystemExit) as exit_:
        main(argv, {})
    assert exit_.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    for option in options:
        assert option in out

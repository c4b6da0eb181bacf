"""`nabat rota export` / `import`: the whole rota and every policy as one TOML file."""

from __future__ import annotations

import asyncio
import stat
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.__main__ import main
from bot.domain.clock import FakeClock
from bot.domain.models import Role, Step, Target, TargetKind
from bot.domain.rota import OverrideKind, ShiftUnit
from bot.services.rota_file import ImportSummary, RotaFileError, export_rota, import_rota
from config import load_settings
from storage.crypto import FieldCipher
from storage.db import Database, Transaction, to_db_time
from storage.groups import GroupRepo
from storage.keyring import KeyRing, write_key_ring_file
from storage.people import PeopleRepo
from storage.policies import PolicyRepo
from storage.rota import RotaRepo
from tests.support.factories import T0

# Ids follow the order of creation: 1 Olga .. 7 K-42. Two responders share a name.
PEOPLE = [
    (800000001, "Olga Koordinatorova", Role.COORDINATOR),
    (800000002, "Anna Advokatova", Role.RESPONDER),
    (800000003, "Boris Zashchitnikov", Role.RESPONDER),
    (800000004, "Ivan Petrov", Role.RESPONDER),
    (800000005, "Ivan Petrov", Role.RESPONDER),
    (800000006, "K-17", Role.CONTACT),
    (800000007, "K-42", Role.CONTACT),
]
OLGA, ANNA, BORIS, IVAN_4, IVAN_5, K17, K42 = range(1, 8)

# The line numbers matter: the error tests name them.
FULL = """\
# the rota of a small group
[[rotation]]
name = "Moscow day"
tz = "Europe/Moscow"
unit = "days"
length = 1
start = 2026-03-02T09:00:00+03:00
participants = ["Anna Advokatova", "Boris Zashchitnikov", "#4"]

[[rotation.override]]
kind = "replace"
person = "#5"
replaces = "Anna Advokatova"
start = 2026-03-05T09:00:00+03:00
end = 2026-03-06T09:00:00+03:00

[[rotation.override]]
kind = "add"
person = "Olga Koordinatorova"
start = 2026-03-07T09:00:00+03:00
end = 2026-03-07T21:00:00+03:00

[[rotation]]
name = "Vladivostok night"
tz = "Asia/Vladivostok"
unit = "hours"
length = 12
start = 2026-03-01T20:00:00+10:00
participants = [
    "#5",
    "Boris Zashchitnikov",
]

[[policy]]
name = "default"
default = true
repeat = 1
ack_timeout = "30m"

[[policy.step]]
delay = "5m"
targets = ["rotation:Moscow day", "all_responders"]

[[policy.step]]
delay = "10m"
targets = ["all_coordinators"]

[[policy]]
name = "night"
repeat = 2
ack_timeout = "1h"

[[policy.step]]
delay = "2m"
targets = ["rotation:Vladivostok night", "person:Olga Koordinatorova"]

[[policy.step]]
delay = "5m"
targets = ["all_responders", "all_coordinators"]

[contacts]
"K-17" = "night"
"""

SPARE = """
[[policy]]
name = "spare"

[[policy.step]]
delay = "1m"
targets = ["all_coordinators"]
"""

TABLES = (
    "rotations",
    "rotation_members",
    "overrides",
    "policies",
    "policy_steps",
    "people",
    "alerts",
    "audit_log",
    "group_chats",
    "checkins",
    "checkin_events",
)


@dataclass
class World:
    db: Database
    cipher: FieldCipher
    clock: FakeClock
    env: dict[str, str]
    tmp: Path
    changed: list[int] = field(default_factory=list)  # what on_policy_changed was told

    async def on_policy_changed(self, tx: Transaction, policy_id: int, now: datetime) -> None:
        assert now == self.clock.now()
        self.changed.append(policy_id)

    async def load(self, text: str, *, dry_run: bool = False) -> ImportSummary:
        return await import_rota(
            self.db,
            self.cipher,
            text,
            source="rota.toml",
            now=self.clock.now(),
            dry_run=dry_run,
            on_policy_changed=self.on_policy_changed,
        )

    async def refused(self, text: str) -> list[str]:
        with pytest.raises(RotaFileError) as refusal:
            await self.load(text)
        return list(refusal.value.errors)

    async def export(self) -> str:
        return await export_rota(self.db, self.cipher, self.clock.now())

    async def tables(self) -> dict[str, list[tuple[Any, ...]]]:
        return {
            table: [
                tuple(r) for r in await self.db.fetchall(f"SELECT * FROM {table} ORDER BY rowid")
            ]
            for table in TABLES
        }

    async def policy_id(self, name: str) -> int:
        row = await self.db.fetchone("SELECT id FROM policies WHERE name = ?", (name,))
        assert row is not None
        return int(row[0])

    async def open_alert(self, policy: str, state: str = "triggered") -> None:
        now = to_db_time(self.clock.now())
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO alerts (contact_id, kind, state, policy_id, created_at, step, pass,"
                " step_started_at) VALUES (?, 'panic', ?, ?, ?, 0, 0, ?)",
                (K17, state, await self.policy_id(policy), now, now),
            )

    async def add_group(self, chat_id: int, title: str) -> int:
        async with self.db.transaction() as tx:
            return (await GroupRepo(self.cipher).add(tx, chat_id, title, T0)).id

    def run(self, *argv: str) -> int:
        """The command line as an operator runs it (in a thread: it runs its own loop)."""
        return main(list(argv), self.env, clock=self.clock, configure_logging=False)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    ring = KeyRing.generate()
    write_key_ring_file(tmp_path / "keys.json", ring)
    env = {"NABAT_DATA_DIR": str(tmp_path / "data"), "NABAT_KEYS_FILE": str(tmp_path / "keys.json")}
    db = await Database.open(load_settings(env, require_token=False).database_path)
    await db.migrate()
    cipher = FieldCipher(ring)
    people = PeopleRepo(cipher)
    async with db.transaction() as tx:
        for telegram_id, name, role in PEOPLE:
            await people.create(
                tx, telegram_id=telegram_id, name=name, lang="en", role=role, now=T0
            )
    try:
        yield World(db, cipher, FakeClock(T0), env, tmp_path)
    finally:
        await db.close()


def _edit(*pairs: tuple[str, str]) -> str:
    text = FULL
    for old, new in pairs:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


# --- a file that is right ---------------------------------------------------------------------


async def test_an_empty_database_exports_a_file_that_imports_without_changing_anything(
    world: World,
) -> None:
    before = await world.tables()
    text = await world.export()
    assert '[[policy]]\nname = "default"\ndefault = true\n' in text
    summary = await world.load(text)
    assert str(summary) == (
        "rotations: 0 created, 0 updated, 0 deleted; overrides: 0 added, 0 removed; "
        "policies: 0 created, 0 updated, 0 deleted, 0 retired; contacts: 0 reassigned; "
        "check-ins: 0 added, 0 changed, 0 turned off"
    )
    assert await world.tables() == before


async def test_a_full_file_creates_rotations_overrides_policies_and_contact_assignments(
    world: World,
) -> None:
    summary = await world.load(FULL)
    assert str(summary) == (
        "rotations: 2 created, 0 updated, 0 deleted; overrides: 2 added, 0 removed; "
        "policies: 1 created, 1 updated, 0 deleted, 0 retired; contacts: 1 reassigned; "
        "check-ins: 0 added, 0 changed, 0 turned off"
    )
    moscow, vladivostok = await RotaRepo().rotations(world.db)
    assert (moscow.name, moscow.tz, moscow.unit, moscow.length) == (
        "Moscow day",
        "Europe/Moscow",
        ShiftUnit.DAYS,
        1,
    )
    assert moscow.start == datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    assert moscow.participants == (ANNA, BORIS, IVAN_4)
    assert vladivostok.start == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert (vladivostok.unit, vladivostok.length) == (ShiftUnit.HOURS, 12)
    assert vladivostok.participants == (IVAN_5, BORIS)
    replace, add = await RotaRepo().overrides(world.db, moscow.id)
    assert (replace.kind, replace.person_id, replace.replaces) == (
        OverrideKind.REPLACE,
        IVAN_5,
        ANNA,
    )
    assert (replace.start, replace.end) == (
        datetime(2026, 3, 5, 6, 0, tzinfo=UTC),
        datetime(2026, 3, 6, 6, 0, tzinfo=UTC),
    )
    assert (add.kind, add.person_id, add.replaces) == (OverrideKind.ADD, OLGA, None)

    default, night = await PolicyRepo().all(world.db)
    assert default.is_default and not night.is_default
    assert default.steps == (
        Step(
            300,
            (Target(TargetKind.ROTATION, rotation_id=moscow.id), Target(TargetKind.ALL_RESPONDERS)),
        ),
        Step(600, (Target(TargetKind.ALL_COORDINATORS),)),
    )
    assert (night.repeat, night.ack_timeout_s) == (2, 3600)
    assert night.steps[0] == Step(
        120,
        (
            Target(TargetKind.ROTATION, rotation_id=vladivostok.id),
            Target(TargetKind.PERSON, person_id=OLGA),
        ),
    )
    people = {p.id: p for p in await PeopleRepo(world.cipher).list_all(world.db)}
    assert (people[K17].policy_id, people[K42].policy_id) == (night.id, None)
    actions = [r[0] for r in await world.db.fetchall("SELECT action FROM audit_log ORDER BY id")]
    assert actions == [
        "rotation.create",
        "rotation.create",
        "policy.update",
        "policy.create",
        "contact.policy",
    ]
    assert world.changed == []


async def test_export_then_import_changes_no_row(world: World) -> None:
    await world.load(FULL)
    text = await world.export()
    # People by name, or by number where two share one; times in each rotation's zone.
    assert 'participants = ["Anna Advokatova", "Boris Zashchitnikov", "#4"]' in text
    assert "start = 2026-03-02T09:00:00+03:00" in text
    assert "start = 2026-03-01T20:00:00+10:00" in text
    assert 'person = "#5"\nreplaces = "Anna Advokatova"\n' in text
    assert '[contacts]\nK-17 = "night"\n' in text
    before = await world.tables()
    summary = await world.load(text)
    assert await world.tables() == before
    assert str(summary).startswith("rotations: 0 created, 0 updated, 0 deleted; overrides: 0")
    assert await world.export() == text


async def test_overrides_that_have_ended_are_not_exported_and_are_kept_as_history(
    world: World,
) -> None:
    await world.load(FULL)
    world.clock.set(datetime(2026, 3, 6, 12, 0, tzinfo=UTC))  # the replace has ended
    text = await world.export()
    assert 'kind = "replace"' not in text and 'kind = "add"' in text
    before = await world.tables()
    assert (await world.load(text)).overrides_removed == 0
    assert await world.tables() == before
    # The original file still lists it: it is skipped, not stored a second time.
    summary = await world.load(FULL)
    assert summary.overrides_ended == 1 and summary.overrides_added == 0
    assert await world.tables() == before


async def test_a_rotation_edited_in_the_file_is_updated_in_place_and_keeps_its_id(
    world: World,
) -> None:
    await world.load(FULL)
    moscow = await RotaRepo().by_name(world.db, "Moscow day")
    assert moscow is not None
    edited = _edit(
        ('tz = "Europe/Moscow"', 'tz = "Europe/Kaliningrad"'),
        ('"Boris Zashchitnikov", "#4"]', '"#4"]'),
        ('kind = "add"', 'kind = "remove"'),
    )
    summary = await world.load(edited)
    assert (summary.rotations_updated, summary.overrides_added, summary.overrides_removed) == (
        1,
        1,
        1,
    )
    again = await RotaRepo().by_name(world.db, "Moscow day")
    assert again is not None and again.id == moscow.id
    assert (again.tz, again.participants) == ("Europe/Kaliningrad", (ANNA, IVAN_4))
    kinds = [o.kind for o in await RotaRepo().overrides(world.db, moscow.id)]
    assert kinds == [OverrideKind.REPLACE, OverrideKind.REMOVE]


async def test_a_rotation_left_out_of_the_file_is_deleted(world: World) -> None:
    await world.load(FULL)
    text = _edit(('"rotation:Moscow day", ', ""))
    moscow = text.index("[[rotation]]")
    without = text[:moscow] + text[text.index("[[rotation]]", moscow + 1) :]
    summary = await world.load(without)
    assert (summary.rotations_deleted, summary.policies_updated) == (1, 1)
    assert [r.name for r in await RotaRepo().rotations(world.db)] == ["Vladivostok night"]
    assert await world.db.fetchall("SELECT * FROM overrides") == []


async def test_a_dry_run_reports_what_would_change_and_changes_nothing(world: World) -> None:
    before = await world.tables()
    summary = await world.load(FULL, dry_run=True)
    assert (summary.rotations_created, summary.policies_created, summary.contacts_reassigned) == (
        2,
        1,
        1,
    )
    assert await world.tables() == before


# --- policies with alerts -------------------------------------------------------------------


async def test_a_policy_left_out_is_deleted_or_retired_when_an_alert_refers_to_it(
    world: World,
) -> None:
    await world.load(FULL + SPARE)
    await world.open_alert("night", state="resolved")
    night = await world.policy_id("night")

    only_default = FULL[: FULL.index('[[policy]]\nname = "night"')] + "[contacts]\n"
    summary = await world.load(only_default)
    assert (summary.policies_deleted, summary.policies_retired) == (1, 1)
    assert summary.contacts_reassigned == 1
    retired = await PolicyRepo().get(world.db, night)
    assert retired is not None and retired.retired and not retired.is_default
    assert await world.db.fetchone("SELECT 1 FROM policies WHERE name = 'spare'") is None
    assert [p.name for p in await PolicyRepo().all(world.db)] == ["default"]
    assert (await PolicyRepo().default(world.db)).name == "default"
    assert 'name = "night"' not in await world.export()
    k17 = await PeopleRepo(world.cipher).get(world.db, K17)
    assert k17 is not None and k17.policy_id is None

    # Back in the file, the retired policy is taken into use again under its old id.
    assert (await world.load(FULL)).policies_updated == 1
    restored = await PolicyRepo().get(world.db, night)
    assert restored is not None and not restored.retired


async def test_new_steps_for_a_policy_with_an_open_alert_are_handed_to_the_alert_service(
    world: World,
) -> None:
    await world.load(FULL)
    await world.open_alert("night")
    await world.open_alert("default", state="resolved")
    both_changed = _edit(('delay = "2m"', 'delay = "3m"'), ('delay = "10m"', 'delay = "15m"'))
    summary = await world.load(both_changed)
    assert summary.policies_updated == 2 and summary.restarted == ("night",)
    assert world.changed == [await world.policy_id("night")]


async def test_a_policy_change_that_keeps_its_steps_does_not_restart_open_alerts(
    world: World,
) -> None:
    await world.load(FULL)
    await world.open_alert("night")
    summary = await world.load(_edit(('ack_timeout = "1h"', 'ack_timeout = "2h"')))
    assert summary.policies_updated == 1 and summary.restarted == ()
    assert world.changed == []


# --- group chats ------------------------------------------------------------------------------

WITH_GROUP = ('"person:Olga Koordinatorova"', '"person:Olga Koordinatorova", "group:Duty lawyers"')


async def test_a_group_chat_target_is_stored_by_id_and_round_trips(world: World) -> None:
    await world.add_group(-1001, "Night desk")
    lawyers = await world.add_group(-1002, "Duty lawyers")
    await world.load(_edit(WITH_GROUP))
    night = await PolicyRepo().get(world.db, await world.policy_id("night"))
    assert night is not None
    assert night.steps[0].targets[1:] == (
        Target(TargetKind.PERSON, person_id=OLGA),
        Target(TargetKind.GROUP, group_id=lawyers),
    )
    text = await world.export()
    assert 'targets = ["rotation:Vladivostok night", "person:Olga Koordinatorova",' in text
    assert '"group:Duty lawyers"]' in text
    before = await world.tables()
    summary = await world.load(text)
    assert (summary.policies_updated, summary.policies_created) == (0, 0)
    assert await world.tables() == before
    assert await world.export() == text

    # Taken out of the file, the group target is taken out of the step.
    assert (await world.load(FULL)).policies_updated == 1
    night = await PolicyRepo().get(world.db, night.id)
    assert night is not None and all(t.kind is not TargetKind.GROUP for t in night.steps[0].targets)


async def test_groups_sharing_a_title_are_written_and_read_by_number(world: World) -> None:
    first = await world.add_group(-1001, "Duty lawyers")
    second = await world.add_group(-1002, "Duty lawyers")
    odd = await world.add_group(-1003, "#1")  # a title that looks like a number
    assert first == 1
    before = await world.tables()
    assert await world.refused(_edit(WITH_GROUP)) == [
        "rota.toml:55: policy \"night\" step 1: targets: 2 group chats are titled 'Duty lawyers':"
        f" write 'group:#{first}' or 'group:#{second}'"
    ]
    assert await world.tables() == before

    # "#1" is group 1 (whatever its title); group 3's title "#1" is written "#3".
    refs = f'"group:#{second}", "group:#1", "group:#{odd}"'
    await world.load(_edit(('"all_responders", "all_coordinators"', refs)))
    _, night = await PolicyRepo().all(world.db)
    assert night.steps[1].targets == (
        Target(TargetKind.GROUP, group_id=second),
        Target(TargetKind.GROUP, group_id=first),
        Target(TargetKind.GROUP, group_id=odd),
    )
    text = await world.export()
    assert f"targets = [{refs}]" in text
    before = await world.tables()
    assert (await world.load(text)).policies_updated == 0
    assert await world.tables() == before
    assert await world.export() == text


async def test_a_group_named_twice_and_a_title_in_the_wrong_case_are_refused(
    world: World,
) -> None:
    lawyers = await world.add_group(-1002, "Duty lawyers")
    twice = ('"all_responders", "all_coordinators"', f'"group:Duty lawyers", "group:#{lawyers}"')
    assert await world.refused(_edit(twice)) == [
        f"rota.toml:59: policy \"night\" step 2: targets: 'group:#{lawyers}' is listed twice"
    ]
    assert await world.refused(_edit(('["all_coordinators"]', '["group:duty LAWYERS"]'))) == [
        "rota.toml:46: policy \"default\" step 2: targets: no group chat titled 'duty LAWYERS'"
        " (did you mean 'group:Duty lawyers'?)"
    ]


# --- a file that is wrong: every problem named, nothing changed ----------------------------

ERRORS = [
    pytest.param(
        [('tz = "Europe/Moscow"', 'tz = "Europe/Moskva"')],
        ["rota.toml:4: rotation \"Moscow day\": tz: unknown time zone 'Europe/Moskva'"],
        id="unknown-time-zone",
    ),
    pytest.param(
        [("length = 1\n", "lenght = 1\n")],
        [
            'rota.toml:2: rotation "Moscow day": length: missing',
            'rota.toml:6: rotation "Moscow day": lenght: unknown key; valid keys are name, tz,'
            " unit, length, start, participants, override",
        ],
        id="misspelt-key",
    ),
    pytest.param(
        [('tz = "Asia/Vladivostok"', "")],
        ['rota.toml:23: rotation "Vladivostok night": tz: missing'],
        id="missing-key",
    ),
    pytest.param(
        [("# the rota of a small group", "version = 1")],
        [
            "rota.toml:1: file: version: unknown key; valid keys are rotation, policy, contacts,"
            " checkin"
        ],
        id="unknown-top-level-key",
    ),
    pytest.param(
        [("length = 12", 'length = "12"')],
        ["rota.toml:27: rotation \"Vladivostok night\": length: expected a whole number, got '12'"],
        id="wrong-type",
    ),
    pytest.param(
        [("length = 12", "length = 1000")],
        [
            'rota.toml:27: rotation "Vladivostok night": length: write a whole number of hours'
            " from 1 to 672, not 1000"
        ],
        id="shift-too-long",
    ),
    pytest.param(
        [('unit = "days"', 'unit = "day"')],
        ["rota.toml:5: rotation \"Moscow day\": unit: expected hours, days or weeks, got 'day'"],
        id="unknown-unit",
    ),
    pytest.param(
        [("start = 2026-03-02T09:00:00+03:00", "start = 2026-03-02T09:00:00")],
        [
            'rota.toml:7: rotation "Moscow day": start: expected an offset date-time such as'
            " 2026-03-02T09:00:00+03:00, got 2026-03-02T09:00:00 (no UTC offset)"
        ],
        id="start-without-offset",
    ),
    pytest.param(
        [('name = "Vladivostok night"', 'name = "moscow DAY"')],
        [
            "rota.toml:24: rotation \"moscow DAY\": name: rotation 'moscow DAY' is already"
            " defined at line 3",
            'rota.toml:55: policy "night" step 1: targets: no rotation named'
            " 'Vladivostok night' in this file",
        ],
        id="duplicate-rotation-name",
    ),
    pytest.param(
        [('name = "night"', 'name = "Default"')],
        [
            "rota.toml:49: policy \"Default\": name: policy 'Default' is already defined at"
            " line 35",
            "rota.toml:62: contacts: K-17: no policy named 'night' in this file",
        ],
        id="duplicate-policy-name",
    ),
    pytest.param(
        [('"#4"]', '"Anya Advokatova"]')],
        ["rota.toml:8: rotation \"Moscow day\": participants: no person named 'Anya Advokatova'"],
        id="unknown-person",
    ),
    pytest.param(
        [('"#4"]', '"#99"]')],
        ['rota.toml:8: rotation "Moscow day": participants: no person #99'],
        id="unknown-person-number",
    ),
    pytest.param(
        [('"#4"]', '"Ivan Petrov"]')],
        [
            'rota.toml:8: rotation "Moscow day": participants: 2 people are named'
            " 'Ivan Petrov': use #4 or #5"
        ],
        id="ambiguous-name",
    ),
    pytest.param(
        [('"#4"]', '"Anna Advokatova"]')],
        ["rota.toml:8: rotation \"Moscow day\": participants: 'Anna Advokatova' is listed twice"],
        id="participant-twice",
    ),
    pytest.param(
        [('"#4"]', '"K-17"]')],
        [
            "rota.toml:8: rotation \"Moscow day\": participants: 'K-17' is a contact; only"
            " responders and coordinators go on call"
        ],
        id="contact-as-participant",
    ),
    pytest.param(
        [('"person:Olga Koordinatorova"', '"person:K-42"')],
        [
            "rota.toml:55: policy \"night\" step 1: targets: 'K-42' is a contact; only"
            " responders and coordinators go on call"
        ],
        id="contact-as-target",
    ),
    pytest.param(
        [('kind = "add"', 'kind = "swap"')],
        [
            'rota.toml:18: rotation "Moscow day" override 2: kind: expected add, remove or'
            " replace, got 'swap'"
        ],
        id="unknown-override-kind",
    ),
    pytest.param(
        [('replaces = "Anna Advokatova"', "")],
        [
            'rota.toml:10: rotation "Moscow day" override 1: replaces: a replace override must'
            " name whose time is taken"
        ],
        id="replace-without-whom",
    ),
    pytest.param(
        [("end = 2026-03-06T09:00:00+03:00", "end = 2026-03-05T09:00:00+03:00")],
        [
            'rota.toml:15: rotation "Moscow day" override 1: end: 2026-03-05T06:00:00+00:00'
            " must be after start 2026-03-05T06:00:00+00:00"
        ],
        id="empty-override-window",
    ),
    pytest.param(
        [
            ('kind = "add"', 'kind = "remove"'),
            ('person = "Olga Koordinatorova"', 'person = "#5"'),
            ("start = 2026-03-07T09:00:00+03:00", "start = 2026-03-05T12:00:00+03:00"),
            ("end = 2026-03-07T21:00:00+03:00", "end = 2026-03-05T21:00:00+03:00"),
        ],
        [
            'rota.toml:20: rotation "Moscow day" override 2: start: overlaps override 1'
            " (line 10): one removes #5, whom the other puts on call"
        ],
        id="conflicting-overrides",
    ),
    pytest.param(
        [('"rotation:Moscow day"', '"rotation:Moscow night"')],
        [
            "rota.toml:42: policy \"default\" step 1: targets: no rotation named 'Moscow night'"
            " in this file"
        ],
        id="unknown-rotation-target",
    ),
    pytest.param(
        [('targets = ["all_coordinators"]', 'targets = ["everyone"]')],
        [
            "rota.toml:46: policy \"default\" step 2: targets: 'everyone' is not a target; write"
            " all_responders, all_coordinators, rotation:<name>, person:<name or #number> or"
            " group:<title or #number>"
        ],
        id="unknown-target",
    ),
    pytest.param(
        [('"person:Olga Koordinatorova"', '"group:Duty lawyers"')],
        [
            "rota.toml:55: policy \"night\" step 1: targets: no group chat titled 'Duty lawyers';"
            " add the bot to the group first (a coordinator must add it)"
        ],
        id="unknown-group-title",
    ),
    pytest.param(
        [('"person:Olga Koordinatorova"', '"group:#9"')],
        [
            'rota.toml:55: policy "night" step 1: targets: no group chat #9; add the bot to the'
            " group first (a coordinator must add it)"
        ],
        id="unknown-group-number",
    ),
    pytest.param(
        [('"person:Olga Koordinatorova"', '"group:"')],
        [
            "rota.toml:55: policy \"night\" step 1: targets: 'group:' is not a target; write"
            " all_responders, all_coordinators, rotation:<name>, person:<name or #number> or"
            " group:<title or #number>"
        ],
        id="group-without-title",
    ),
    pytest.param(
        [('delay = "10m"', 'delay = "25h"')],
        [
            "rota.toml:45: policy \"default\" step 2: delay: '25h' is out of range:"
            " expected 1s to 24h"
        ],
        id="delay-too-long",
    ),
    pytest.param(
        [('delay = "10m"', 'delay = "0s"')],
        [
            "rota.toml:45: policy \"default\" step 2: delay: '0s' is zero; expected a positive"
            " duration, e.g. '72h', '1h30m', '45m' or '90s'"
        ],
        id="zero-delay",
    ),
    pytest.param(
        [("repeat = 2", "repeat = 11")],
        ['rota.toml:50: policy "night": repeat: expected 0 to 10 passes after the first, got 11'],
        id="too-many-repeats",
    ),
    pytest.param(
        [("repeat = 2", "default = true")],
        [
            "rota.toml:50: policy \"night\": default: 'default' (line 36) is already the"
            " default policy"
        ],
        id="two-defaults",
    ),
    pytest.param(
        [("default = true", "default = false")],
        ["rota.toml:34: file: policy: no policy has default = true; exactly one must"],
        id="no-default",
    ),
    pytest.param(
        [('"K-17" = "night"', '"Anna Advokatova" = "night"')],
        [
            "rota.toml:62: contacts: Anna Advokatova: is not a contact: only contacts are given"
            " a policy"
        ],
        id="contacts-names-a-responder",
    ),
    pytest.param(
        [('"K-17" = "night"', '"K-17" = "nite"')],
        ["rota.toml:62: contacts: K-17: no policy named 'nite' in this file"],
        id="contacts-names-an-unknown-policy",
    ),
]


@pytest.mark.parametrize(("edits", "expected"), ERRORS)
async def test_a_wrong_file_is_refused_naming_line_and_field_and_nothing_changes(
    world: World, edits: list[tuple[str, str]], expected: list[str]
) -> None:
    before = await world.tables()
    assert await world.refused(_edit(*edits)) == expected
    assert await world.tables() == before


async def test_every_problem_in_a_file_is_reported_in_line_order(world: World) -> None:
    await world.load(FULL)
    before = await world.tables()
    errors = await world.refused(
        _edit(
            ('"K-17" = "night"', '"K-17" = "nite"'),
            ('tz = "Europe/Moscow"', 'tz = "Europe/Moskva"'),
            ('delay = "10m"', 'delay = "25h"'),
            ('"#5",', '"#55",'),
        )
    )
    # An array over several lines is reported where its key is.
    assert [e.split(":")[1] for e in errors] == ["4", "29", "45", "62"]
    assert errors[1] == 'rota.toml:29: rotation "Vladivostok night": participants: no person #55'
    assert await world.tables() == before


async def test_a_toml_syntax_error_is_tomllibs_message_after_the_file_name(world: World) -> None:
    before = await world.tables()
    errors = await world.refused(_edit(("length = 1\n", "length = \n")))
    assert errors == ["rota.toml: Invalid value (at line 6, column 10)"]
    assert await world.tables() == before


async def test_an_array_written_over_several_lines_does_not_hide_the_keys_after_it(
    world: World,
) -> None:
    text = _edit(
        (
            'participants = ["Anna Advokatova", "Boris Zashchitnikov", "#4"]',
            'participants = [\n  "Anna = Advokatova",  # a comment with a ] in it\n  """#4""",\n]',
        ),
    )
    # Three lines more than FULL from here on.
    assert await world.refused(text) == [
        "rota.toml:8: rotation \"Moscow day\": participants: no person named 'Anna = Advokatova'"
    ]
    errors = await world.refused(text.replace("length = 12", "length = 0"))
    assert (
        errors[-1]
        == 'rota.toml:30: rotation "Vladivostok night": length: write a whole number of hours'
        " from 1 to 672, not 0"
    )


# --- from the shell -------------------------------------------------------------------------


async def test_rota_import_and_export_from_the_shell(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    source = world.tmp / "rota.toml"
    source.write_text(FULL)
    assert await asyncio.to_thread(world.run, "rota", "import", str(source)) == 0
    assert capsys.readouterr().out.startswith(f"Imported {source}: rotations: 2 created")

    target = world.tmp / "out.toml"
    assert await asyncio.to_thread(world.run, "rota", "export", str(target)) == 0
    assert "mode 0600" in capsys.readouterr().out
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_text() == await world.export()

    before = await world.tables()
    source.write_text(_edit(('tz = "Europe/Moscow"', 'tz = "Europe/Moskva"')))
    assert await asyncio.to_thread(world.run, "rota", "import", str(source)) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"{source}:4: rotation \"Moscow day\": tz: unknown time zone 'Europe/Moskva'"
    assert await world.tables() == before

    source.write_text(_edit(('delay = "2m"', 'delay = "3m"')))
    assert await asyncio.to_thread(world.run, "rota", "import", "--dry-run", str(source)) == 0
    assert "policies: 0 created, 1 updated" in capsys.readouterr().out
    assert await world.tables() == before


async def test_rota_import_from_the_shell_restarts_open_alerts_of_a_changed_policy(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    await world.load(FULL)
    await world.open_alert("night")
    source = world.tmp / "rota.toml"
    source.write_text(_edit(('delay = "2m"', 'delay = "3m"')))
    assert await asyncio.to_thread(world.run, "rota", "import", str(source)) == 0
    assert "open alerts restart at step 1 of the changed policies 'night'" in (
        capsys.readouterr().out
    )
    events = await world.db.fetchall("SELECT kind FROM alert_events")
    assert ("policy_changed",) in [tuple(e) for e in events]


async def test_rota_import_of_a_missing_file_exits_with_status_2(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = world.tmp / "nowhere.toml"
    assert await asyncio.to_thread(world.run, "rota", "import", str(missing)) == 2
    assert capsys.readouterr().err.startswith(f"nabat: cannot read {missing}: ")


@pytest.mark.parametrize(
    ("argv", "options"),
    [
        (["rota", "--help"], ["export", "import"]),
        (["rota", "export", "--help"], ["FILE", "0600"]),
        (["rota", "import", "--help"], ["FILE", "--dry-run"]),
    ],
)
def test_rota_help_explains_every_option(
    argv: list[str], options: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv, {})
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: nabat {' '.join(argv[:-1])}")
    for option in options:
        assert option in out

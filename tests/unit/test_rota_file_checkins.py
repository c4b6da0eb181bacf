"""The rota file's `[[checkin]]` tables: each contact's check-in schedule, read with the
rules of the one-line `/schedule` form, the whole truth on import, written back on export."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from bot.domain.checkin import Kind, Quiet, Schedule
from bot.services.checkin_admin import parse_schedule
from storage.checkins import CheckinRepo
from storage.people import PeopleRepo
from tests.unit import test_rota_file
from tests.unit.test_rota_file import FULL, K17, K42, World

world = test_rota_file.world  # the same fixture: the people of PEOPLE, nothing else yet

# FULL ends on line 62; these start on line 63. The line numbers matter: the error tests
# name them.
CHECKINS = """
[[checkin]]
contact = "K-17"
every = "12h"
grace = "1h"
reprompt = "30m"
quiet = "22:00-07:00"
pin = true
word = "ok"

[[checkin]]
contact = "#7"
daily = ["09:00", "21:00"]
grace = "2h"
tz = "Asia/Vladivostok"
"""

K17_SCHEDULE = Schedule(
    Kind.INTERVAL,
    grace=timedelta(hours=1),
    every=timedelta(hours=12),
    reprompt=timedelta(minutes=30),
    quiet=Quiet(time(22, 0), time(7, 0)),
    pin_required=True,
    word="ok",
)
K42_SCHEDULE = Schedule(Kind.DAILY, grace=timedelta(hours=2), times=(time(9, 0), time(21, 0)))


def _file(*pairs: tuple[str, str]) -> str:
    text = FULL + CHECKINS
    for old, new in pairs:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


async def _schedule(world: World, person_id: int) -> Schedule | None:
    person = await PeopleRepo(world.cipher).get(world.db, person_id)
    assert person is not None
    row = await CheckinRepo(world.cipher).get(world.db, person_id, person.tz)
    return row.watch.schedule if row is not None else None


async def _tz(world: World, person_id: int) -> str:
    person = await PeopleRepo(world.cipher).get(world.db, person_id)
    assert person is not None
    return person.tz


# --- a file that is right ---------------------------------------------------------------------


async def test_checkin_tables_give_contacts_their_schedules_and_zones(world: World) -> None:
    summary = await world.load(_file())
    assert str(summary).endswith("check-ins: 2 added, 0 changed, 0 turned off")
    assert await _schedule(world, K17) == K17_SCHEDULE
    assert await _schedule(world, K42) == K42_SCHEDULE
    # A zone given is the contact's from now on; K-17 gave none and keeps UTC.
    assert (await _tz(world, K17), await _tz(world, K42)) == ("UTC", "Asia/Vladivostok")
    row = await CheckinRepo(world.cipher).get(world.db, K42, "Asia/Vladivostok")
    assert row is not None
    # The first due time is the next 09:00 or 21:00 in Vladivostok (T0 is 19:00 there).
    assert row.watch.next_due_at == datetime(2026, 3, 1, 11, 0, tzinfo=UTC)
    events = await CheckinRepo(world.cipher).events(world.db, K42)
    assert [(e.kind, e.actor_id, e.detail) for e in events] == [
        (
            "scheduled",
            None,
            {
                "schedule": "daily 09:00,21:00 grace 2h",
                "tz": "Asia/Vladivostok",
                "via": "rota import",
            },
        )
    ]
    actions = [r[0] for r in await world.db.fetchall("SELECT action FROM audit_log ORDER BY id")]
    assert actions[-2:] == ["checkin.schedule", "checkin.schedule"]


async def test_export_then_import_changes_no_checkin_row(world: World) -> None:
    await world.load(_file())
    # A schedule set with /schedule, on a contact who has checked in since: the same.
    person = await PeopleRepo(world.cipher).get(world.db, K17)
    assert person is not None
    request = parse_schedule(["daily", "08:00,14:00,20:00", "grace", "45m", "quiet", "23:00-06:30"])
    assert request.schedule is not None
    repo = CheckinRepo(world.cipher)
    async with world.db.transaction() as tx:
        row = await repo.get(tx, K17, person.tz)
        assert row is not None
        watch = row.watch.scheduled(request.schedule, world.clock.now())
        watch = watch.checked_in(world.clock.now() + timedelta(hours=1))
        assert await repo.save(tx, K17, watch, world.clock.now(), version=row.version)

    text = await world.export()
    assert (
        '[[checkin]]\ncontact = "K-17"\ndaily = ["08:00", "14:00", "20:00"]\ngrace = "45m"\n'
        'quiet = "23:00-06:30"\ntz = "UTC"\n\n'
        '[[checkin]]\ncontact = "K-42"\ndaily = ["09:00", "21:00"]\ngrace = "2h"\n'
        'tz = "Asia/Vladivostok"\n'
    ) in text
    before = await world.tables()
    summary = await world.load(text)
    assert await world.tables() == before
    assert str(summary).endswith("check-ins: 0 added, 0 changed, 0 turned off")
    assert await world.export() == text


async def test_every_field_of_the_one_line_form_round_trips(world: World) -> None:
    await world.load(_file())
    text = await world.export()
    assert (
        '[[checkin]]\ncontact = "K-17"\nevery = "12h"\ngrace = "1h"\nreprompt = "30m"\n'
        'quiet = "22:00-07:00"\npin = true\nword = "ok"\ntz = "UTC"\n'
    ) in text
    before = await world.tables()
    await world.load(text)
    assert await world.tables() == before


async def test_a_changed_schedule_or_zone_is_saved_and_counted(world: World) -> None:
    await world.load(_file())
    summary = await world.load(
        _file(
            ('grace = "1h"', 'grace = "3h"'),
            ('2h"\ntz = "Asia/Vladivostok"', '2h"\ntz = "asia/tokyo"'),
        )
    )
    assert str(summary).endswith("check-ins: 0 added, 2 changed, 0 turned off")
    schedule = await _schedule(world, K17)
    assert schedule is not None and schedule.grace == timedelta(hours=3)
    assert await _tz(world, K42) == "Asia/Tokyo"  # spelled as tzdata spells it
    assert await _schedule(world, K42) == K42_SCHEDULE


async def test_a_contact_left_out_of_the_file_has_their_schedule_turned_off(
    world: World,
) -> None:
    await world.load(_file())
    repo = CheckinRepo(world.cipher)
    async with world.db.transaction() as tx:  # K-42 is paused: the pause is the bot's
        row = await repo.get(tx, K42, "Asia/Vladivostok")
        assert row is not None
        until = world.clock.now() + timedelta(days=3)
        assert await repo.save(
            tx,
            K42,
            row.watch.pause(until, world.clock.now()),
            world.clock.now(),
            version=row.version,
        )
    without = _file().split('\n[[checkin]]\ncontact = "#7"')[0]

    before = await world.tables()
    dry = await world.load(without, dry_run=True)
    assert str(dry).endswith("check-ins: 0 added, 0 changed, 1 turned off")
    assert await world.tables() == before

    summary = await world.load(without)
    assert str(summary).endswith("check-ins: 0 added, 0 changed, 1 turned off")
    assert await _schedule(world, K42) is None
    assert await _schedule(world, K17) == K17_SCHEDULE
    row = await repo.get(world.db, K42, "Asia/Vladivostok")
    assert row is not None and row.watch.paused_until == until
    assert await _tz(world, K42) == "Asia/Vladivostok"  # the zone stays
    assert (await repo.events(world.db, K42))[-1].detail["schedule"] == "off"
    assert 'contact = "K-42"' not in await world.export()

    # A file without any [[checkin]] (one written before check-ins) leaves every schedule
    # as it is: a check-in is never stopped by leaving a whole section out.
    summary = await world.load(FULL)
    assert str(summary).endswith("check-ins: 0 added, 0 changed, 0 turned off")
    assert await _schedule(world, K17) == K17_SCHEDULE


# --- a file that is wrong: every problem named, nothing changed ----------------------------

ERRORS = [
    pytest.param(
        _file(('every = "12h"', 'every = "12x"')),
        [
            "rota.toml:66: checkin \"K-17\": every: '12x' has unknown unit 'x'; units are w, d,"
            " h, m, s, e.g. '72h', '1h30m', '45m' or '90s'"
        ],
        id="every-not-a-duration",
    ),
    pytest.param(
        _file(('every = "12h"', 'every = "10m"')),
        ['rota.toml:66: checkin "K-17": every: must be between 30m and 14d'],
        id="every-too-short",
    ),
    pytest.param(
        _file(('every = "12h"', "every = 12")),
        ['rota.toml:66: checkin "K-17": every: expected non-empty text, got 12'],
        id="every-not-text",
    ),
    pytest.param(
        _file(('"09:00", "21:00"]', '"9am", "21:00"]')),
        ["rota.toml:75: checkin \"#7\": daily: '9am' is not a time like 09:00"],
        id="daily-not-a-time",
    ),
    pytest.param(
        _file(('"09:00", "21:00"]', '"09:00", "09:30"]')),
        ['rota.toml:75: checkin "#7": daily: times must be at least 1h apart'],
        id="daily-times-too-close",
    ),
    pytest.param(
        _file(('"09:00", "21:00"]', '"09:00,21:00"]')),
        ["rota.toml:75: checkin \"#7\": daily: '09:00,21:00' is not a time like 09:00"],
        id="daily-times-in-one-item",
    ),
    pytest.param(
        _file(('daily = ["09:00", "21:00"]', "daily = []")),
        ['rota.toml:75: checkin "#7": daily: expected at least one time, e.g. ["09:00", "21:00"]'],
        id="daily-empty",
    ),
    pytest.param(
        _file(('grace = "2h"', 'grace = "3d"')),
        ['rota.toml:76: checkin "#7": grace: must be between 5m and 2d'],
        id="grace-too-long",
    ),
    pytest.param(
        _file(('reprompt = "30m"', 'reprompt = "2h"')),
        [
            'rota.toml:68: checkin "K-17": reprompt: must be after the due time and before the'
            " grace ends"
        ],
        id="reprompt-after-the-grace",
    ),
    pytest.param(
        _file(('quiet = "22:00-07:00"', 'quiet = "22:00"')),
        ['rota.toml:69: checkin "K-17": quiet: write it like 22:00-07:00'],
        id="quiet-without-end",
    ),
    pytest.param(
        _file(('quiet = "22:00-07:00"', 'quiet = "20:00-14:00"')),
        ['rota.toml:69: checkin "K-17": quiet: quiet hours can be at most 16h'],
        id="quiet-too-long",
    ),
    pytest.param(
        _file(('2h"\ntz = "Asia/Vladivostok"', '2h"\ntz = "Asia/Vladivostk"')),
        ["rota.toml:77: checkin \"#7\": tz: unknown time zone 'Asia/Vladivostk'"],
        id="unknown-time-zone",
    ),
    pytest.param(
        _file(("pin = true", 'pin = "yes"')),
        ["rota.toml:70: checkin \"K-17\": pin: expected true or false, got 'yes'"],
        id="pin-not-a-flag",
    ),
    pytest.param(
        _file(('word = "ok"', 'word = "all good"')),
        ['rota.toml:71: checkin "K-17": word: one word of letters or digits, in lower case'],
        id="word-of-two-words",
    ),
    pytest.param(
        _file(('word = "ok"', 'wrod = "ok"')),
        [
            'rota.toml:71: checkin "K-17": wrod: unknown key; valid keys are contact, every,'
            " daily, grace, reprompt, quiet, tz, pin, word"
        ],
        id="unknown-key",
    ),
    pytest.param(
        _file(('contact = "K-17"', 'contact = "K-71"')),
        ["rota.toml:65: checkin \"K-71\": contact: no person named 'K-71'"],
        id="unknown-contact",
    ),
    pytest.param(
        _file(('contact = "#7"', 'contact = "#99"')),
        ['rota.toml:74: checkin "#99": contact: no person #99'],
        id="unknown-contact-number",
    ),
    pytest.param(
        _file(('contact = "K-17"', 'contact = "Anna Advokatova"')),
        [
            "rota.toml:65: checkin \"Anna Advokatova\": contact: 'Anna Advokatova' is not a"
            " contact: only contacts check in"
        ],
        id="not-a-contact",
    ),
    pytest.param(
        _file(('contact = "#7"', 'contact = "#6"')),
        ["rota.toml:74: checkin \"#6\": contact: '#6' already has a check-in at line 65"],
        id="contact-listed-twice",
    ),
    pytest.param(
        _file(('contact = "K-17"\n', "")),
        ["rota.toml:64: checkin 1: contact: missing"],
        id="contact-missing",
    ),
    pytest.param(
        _file(('every = "12h"', 'every = "12h"\ndaily = ["09:00"]')),
        [
            'rota.toml:67: checkin "K-17": daily: give either every = "12h" or'
            ' daily = ["09:00", "21:00"], not both'
        ],
        id="every-and-daily",
    ),
    pytest.param(
        _file(('daily = ["09:00", "21:00"]\n', "")),
        [
            'rota.toml:73: checkin "#7": every: missing: give either every = "12h" or'
            ' daily = ["09:00", "21:00"]'
        ],
        id="neither-every-nor-daily",
    ),
    pytest.param(
        FULL + '\n[checkin]\ncontact = "K-17"\nevery = "12h"\n',
        ["rota.toml:64: file: checkin: expected tables written as [[checkin]], got a table"],
        id="not-an-array-of-tables",
    ),
]


@pytest.mark.parametrize(("text", "expected"), ERRORS)
async def test_a_wrong_checkin_is_refused_naming_line_and_field_and_nothing_changes(
    world: World, text: str, expected: list[str]
) -> None:
    await world.load(_file())
    before = await world.tables()
    assert await world.refused(text) == expected
    assert await world.tables() == before


async def test_every_wrong_field_of_a_checkin_is_reported_at_once(world: World) -> None:
    errors = await world.refused(
        _file(
            ('contact = "K-17"', 'contact = "K-71"'),
            ('every = "12h"', 'every = "1m"'),
            ('reprompt = "30m"', 'reprompt = "0s"'),
            ('quiet = "22:00-07:00"', 'quiet = "22:00-22:00"'),
            ('word = "ok"', 'word = "o k"'),
        )
    )
    assert [e.split(": ")[2] for e in errors] == ["contact", "every", "reprompt", "quiet", "word"]
    assert [e.split(":")[1] for e in errors] == ["65", "66", "68", "69", "71"]

"""Every command's argument parser takes what it documents and answers anything else with
the project's own error: arbitrary text (Unicode digits, control characters, huge
numbers, '|' separators) never raises anything but a DomainError, and the cases a tester
reported get the specific message that says what to write."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.__main__ import load_keys, main
from bot.domain.clock import FakeClock
from bot.domain.errors import DomainError, InvalidInput, NotFound
from bot.domain.models import Person, Role
from bot.domain.parsing import has_control, quoted, whole_number
from bot.domain.rota import ShiftUnit, zone_name
from bot.services.people import clean_name
from bot.services.policies import parse_wait, step_index
from bot.services.rota import (
    find_person,
    parse_every,
    parse_local,
    parse_until,
    parse_zone,
    parts,
    rotation_name,
)
from bot.wiring import Services
from config import load_settings
from config.durations import parse_duration
from handlers.responder import _alert_number
from storage.invitations import looks_like_token
from tests.support.factories import T0
from tests.support.harness import BotHarness
from tests.support.personas import Cast
from tests.support.steps import ANNA, make_rotation

# What a tester would try: digits int() refuses or reads against the rules, control
# characters, line breaks, path tricks for zoneinfo, numbers past every limit, and valid
# pieces, so that combinations reach past the first check.
NASTY = [
    "²",
    "³",
    "١٢",
    "１２",
    "1_000",
    "9" * 25,
    "9" * 5000,
    "\x00",
    "\n",
    "\r\n",
    "\u2028",
    "\x1b",
    "\u200d",
    "|",
    " | ",
    ",",
    "#",
    "#²",
    "+",
    "+²h",
    ":",
    "Europe",
    "../etc",
    "/abs",
    "Europe//Moscow",
    "zone.tab",
    "a" * 300,
]
VALID = [
    "now",
    "UTC",
    "europe/moscow",
    "Asia/Vladivostok",
    "2026-03-05 09:00",
    "2026-03-01 12:00",
    "9999-12-31 23:59",
    "0001-01-01 00:00",
    "8h",
    "1d",
    "²d",
    "0d",
    "999w",
    "+30m",
    "+1d12h",
    "5m",
    "1",
    "2",
    "3",
    "#1",
    "#2",
    "default",
    "Day",
    "Anna",
    "Boris",
    "Olga",
    "K-17",
    "Boris for Anna",
    "add",
    "remove",
    "replace",
    "all responders",
    "rotation:Day",
    "group:Lawyers",
    "off",
]
_odd = st.characters(categories=["Nd", "No", "Cc", "Cf", "Zs", "Zl", "Zp"])
# Numbers as a command takes them ('#3', '+8h', '2w'), with any digits at all.
NUMBERISH = st.tuples(
    st.sampled_from(["", "#", "+"]),
    st.one_of(
        st.text(st.characters(categories=["Nd", "No"]), min_size=1, max_size=3),
        st.integers(0, 10**30).map(str),
    ),
    st.sampled_from(["", "h", "d", "w", "m", "s"]),
).map("".join)
_piece = st.one_of(
    st.sampled_from(NASTY),
    st.sampled_from(VALID),
    NUMBERISH,
    st.text(max_size=8),
    st.text(_odd, max_size=4),
)
ARBITRARY = st.lists(_piece, max_size=6).map("".join)
_field = st.one_of(_piece, ARBITRARY)
TEXT = st.one_of(
    NUMBERISH,
    st.sampled_from(NASTY + VALID),
    ARBITRARY,
    st.one_of(*(st.lists(_field, min_size=n, max_size=n).map(" | ".join) for n in (2, 3, 4, 5))),
)
# What the tester reported, tried every run on top of the generated text.
REPORTED = [
    "Europe",
    "a" * 300,
    "../etc",
    "\x00",
    "/abs",
    "Europe//Moscow",
    "²",
    "³",
    "²d",
    "#²",
    "１２",
    "1_000",
    "9" * 25,
    "9999-12-31 23:59",
    "Anna\nBoris",
    "Night | UTC | ²d | now | Anna",
    "default | ² | 5m | all responders",
    "default | 1 | 5m | ²",
    "default | ²",
    "² | default",
    "Day | add | Anna | 9999-12-31 23:59 | +1h",
    "Day | 2026-03-01 12:00 | +²h",
]
EXAMPLES = settings(max_examples=200, deadline=None)
# One database per test serves all its examples: a parser only reads it, or adds drafts.
SHARED = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def reported(argument: str) -> Callable[[Any], Any]:
    """Add each REPORTED text as an explicit example for the test's `argument`."""

    def decorate(test: Any) -> Any:
        for raw in REPORTED:
            test = example(**{argument: raw})(test)
        return test

    return decorate


def person(pid: int, name: str, role: Role) -> Person:
    return Person(pid, 700000000 + pid, name, "en", frozenset({role}), T0)


PEOPLE = [
    person(1, "Olga", Role.COORDINATOR),
    person(2, "Anna", Role.RESPONDER),
    person(3, "Boris", Role.RESPONDER),
    person(4, "anna", Role.RESPONDER),
]

PURE: dict[str, Callable[[str], object]] = {
    "parts": lambda t: parts(t, 3, "swap.usage"),
    "find_person": lambda t: find_person(PEOPLE, t),
    "parse_zone": parse_zone,
    "parse_local": lambda t: parse_local(t, "America/New_York", T0),
    "parse_until": lambda t: parse_until(t, T0, "Pacific/Kiritimati", T0),
    "parse_every": parse_every,
    "rotation_name": rotation_name,
    "parse_wait": parse_wait,
    "step_index": lambda t: step_index(t, 3),
    "clean_name": clean_name,
    "alert_number": lambda t: _alert_number(t.split(), "alert.usage_ack"),
}


def refused(parse: Callable[..., object], *args: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        parse(*args)
    return caught.value


async def refused_async(call: Awaitable[object]) -> DomainError:
    with pytest.raises(DomainError) as caught:
        await call
    return caught.value


# --- pure parsers -------------------------------------------------------------------------


@EXAMPLES
@reported("raw")
@given(raw=TEXT)
def test_every_parser_answers_any_text_with_a_result_or_its_own_error(raw: str) -> None:
    for parse in PURE.values():
        with contextlib.suppress(DomainError):
            parse(raw)


@EXAMPLES
@given(raw=TEXT)
def test_a_whole_number_is_one_to_twelve_ascii_digits_and_nothing_else(raw: str) -> None:
    number = whole_number(raw)
    if number is None:
        assert not (raw.isascii() and raw.isdigit() and 0 < len(raw) <= 12)
    else:
        assert raw.isascii() and raw.isdigit() and len(raw) <= 12 and number == int(raw)


@EXAMPLES
@given(raw=TEXT)
def test_a_zone_is_a_name_tzdata_lists_or_none(raw: str) -> None:
    name = zone_name(raw)
    assert name is None or ZoneInfo(name).key == name


@EXAMPLES
@given(raw=TEXT)
def test_a_duration_setting_is_refused_with_a_value_error_that_shows_a_valid_one(raw: str) -> None:
    try:
        parse_duration(raw)
    except ValueError as exc:
        assert "e.g. '72h'" in str(exc) or "empty" in str(exc)
        assert len(str(exc)) < 300


@EXAMPLES
@given(raw=TEXT)
def test_text_quoted_back_is_one_short_printable_line(raw: str) -> None:
    shown = quoted(raw)
    assert len(shown) <= 40 and shown.isprintable()


def test_an_invitation_token_is_ascii() -> None:
    assert looks_like_token("A" * 31 + "_")
    assert not looks_like_token("²" * 32) and not looks_like_token("é" * 32)


@pytest.mark.parametrize(
    "zone", ["Europe", "a" * 300, "../etc", "\x00", "/abs", "Europe//Moscow", "Europe/", "zone.tab"]
)
def test_a_zone_that_is_a_directory_a_path_or_too_long_is_not_a_time_zone(zone: str) -> None:
    err = refused(parse_zone, zone)
    assert isinstance(err, InvalidInput) and err.key == "tz.unknown"
    assert len(str(err.params["given"])) <= 40


def test_a_zone_in_any_case_is_spelled_as_tzdata_spells_it() -> None:
    assert parse_zone(" europe/moscow ") == "Europe/Moscow"
    assert parse_zone("UTC") == "UTC"


@pytest.mark.parametrize("digits", ["²", "³", "１２", "1_000", "١٢", "9" * 13])
def test_only_ascii_digits_are_a_number(digits: str) -> None:
    assert whole_number(digits) is None
    assert refused(_alert_number, [digits], "alert.usage_show").key == "alert.usage_show"
    assert refused(_alert_number, [f"#{digits}"], "alert.usage_ack").key == ("alert.usage_ack")
    assert refused(step_index, digits, 3).key == "policy.bad_step"
    assert refused(parse_every, f"{digits}d").key == "rota.bad_every"
    assert refused(find_person, PEOPLE, digits).key == "rota.person_unknown"


def test_a_shift_length_is_within_what_a_rotation_allows() -> None:
    assert parse_every(" 12H ") == (ShiftUnit.HOURS, 12)
    assert parse_every("2w") == (ShiftUnit.WEEKS, 2)
    for bad in ("0d", "999w", "673h", "d", "1y", "1.5d"):
        assert refused(parse_every, bad).key == "rota.bad_every"


def test_a_time_is_written_as_documented_and_within_ten_years() -> None:
    assert parse_local("2026-03-05 09:00", "UTC", T0) == T0.replace(day=5)
    for bad in ("2026-3-5 9:00", "２０２６-０３-０５ ０９:００", "2026-02-30 09:00", "tomorrow"):
        assert refused(parse_local, bad, "UTC", T0).key == "rota.bad_time"
    # Near year 9999 the arithmetic on it used to overflow.
    for far in ("9999-12-31 23:59", "0001-01-01 00:00"):
        err = refused(parse_local, far, "America/New_York", T0)
        assert err.key == "rota.far_time"
    assert refused(parse_until, "+²h", T0, "UTC", T0).key == "rota.bad_until"


def test_a_name_with_a_line_break_is_refused_not_joined() -> None:
    assert clean_name("  Anna   Advokatova ") == "Anna Advokatova"
    for bad in ("Anna\nBoris", "Anna\r\nBoris", "Anna\u2028Boris", "Anna\x00"):
        assert refused(clean_name, bad).key == "invite.bad_name"


def test_a_rotation_name_has_a_letter_and_fits_a_line() -> None:
    assert rotation_name(" Moscow   day ") == "Moscow day"
    for bad in ("²", "---", "a" * 65, "Day\x00"):
        assert refused(rotation_name, bad).key == "rotation.bad_name"


def test_a_duration_past_every_limit_says_so_in_our_words() -> None:
    for huge in ("9" * 5000, "9" * 5000 + "h", "1h" + "9" * 30 + "m"):
        with pytest.raises(ValueError, match="longer than the maximum"):
            parse_duration(huge)
    assert parse_duration("0" * 5000 + "5m") == timedelta(minutes=5)


def test_a_note_with_a_control_character_is_not_text() -> None:
    assert has_control("released\x00") and has_control("\x1b[31m")
    assert not has_control("released, no charges 👩\u200d⚖️ مرحبا")


# --- services, with a real database -------------------------------------------------------


@dataclass
class World:
    services: Services
    coordinator: Person
    anna: Person
    boris: Person
    rotation_id: int


@pytest.fixture
async def world(tmp_path: Path, clock: FakeClock) -> AsyncIterator[World]:
    env = {
        "NABAT_TELEGRAM_TOKEN": "123456:TEST-token-abcdefghijklmnopqrstuvwxyz",
        "NABAT_DATA_DIR": str(tmp_path / "data"),
        "NABAT_KEYS_FILE": str(tmp_path / "keys.json"),
    }
    assert main(["keygen", "--output", env["NABAT_KEYS_FILE"]], env, configure_logging=False) == 0
    loaded = load_settings(env)
    services = await Services.open(loaded, load_keys(loaded).ring, clock, bot_username="p_bot")
    try:
        repo = services.people.people
        async with services.db.transaction() as tx:
            olga = await repo.create(
                tx, telegram_id=1001, name="Olga", lang="en", role=Role.COORDINATOR, now=T0
            )
            anna = await repo.create(
                tx, telegram_id=1002, name="Anna", lang="en", role=Role.RESPONDER, now=T0
            )
            boris = await repo.create(
                tx, telegram_id=1003, name="Boris", lang="en", role=Role.RESPONDER, now=T0
            )
            await repo.create(
                tx, telegram_id=1004, name="K-17", lang="en", role=Role.CONTACT, now=T0
            )
            rid = await services.rota.repo.create(
                tx,
                name="Day",
                tz="Europe/Moscow",
                unit=ShiftUnit.DAYS,
                length=1,
                start=T0,
                participants=(anna.id, boris.id),
                now=T0,
            )
            await services.policies.groups.add(tx, -100500, "Lawyers", T0)
        yield World(services, olga, anna, boris, rid)
    finally:
        await services.close()


Command = Callable[[World, str], Awaitable[object]]
COMMANDS: dict[str, Command] = {
    "/tz": lambda w, t: w.services.rota.set_tz(w.anna, t),
    "/remind": lambda w, t: w.services.rota.set_reminder(w.anna, t),
    "/rotation new": lambda w, t: w.services.rota.draft_rotation(w.coordinator, t),
    "/rotation people": lambda w, t: w.services.rota.draft_members(w.coordinator, t),
    "/override": lambda w, t: w.services.rota.draft_override(w.coordinator, t),
    "/swap": lambda w, t: w.services.rota.request_swap(w.anna, t),
    "/swap cancel": lambda w, t: w.services.rota.withdraw_swap(w.anna, t),
    "/policy step": lambda w, t: w.services.policies.draft_step(w.coordinator, t),
    "/policy drop": lambda w, t: w.services.policies.draft_drop(w.coordinator, t),
    "/assign": lambda w, t: w.services.policies.assign(w.coordinator, t),
    "/remove": lambda w, t: w.services.people.ask_remove(w.coordinator, t),
    "/invite": lambda w, t: w.services.people.invite(w.coordinator, Role.RESPONDER, t),
}


@SHARED
@reported("raw")
@given(raw=TEXT)
async def test_every_command_answers_any_text_with_a_result_or_its_own_error(
    world: World, raw: str
) -> None:
    for command in COMMANDS.values():
        with contextlib.suppress(DomainError):
            await command(world, raw)


# The questions of each guided change, with the answers before them.
STEPS: list[tuple[str, dict[str, Any]]] = [
    ("rotation", {"step": "name"}),
    ("rotation", {"step": "tz", "name": "Night"}),
    ("rotation", {"step": "every", "name": "Night", "tz": "UTC"}),
    ("rotation", {"step": "start", "name": "Night", "tz": "UTC", "every": "8h"}),
    (
        "rotation",
        {
            "step": "people",
            "name": "Night",
            "tz": "UTC",
            "every": "8h",
            "start": T0.isoformat(),
            "people": [],
        },
    ),
    ("members", {"step": "rotation"}),
    ("members", {"step": "people", "rotation": 1, "name": "Day", "people": [2]}),
    ("override", {"step": "rotation"}),
    ("override", {"step": "kind", "rotation": 1}),
    ("override", {"step": "who", "rotation": 1, "kind": "add"}),
    ("override", {"step": "for", "rotation": 1, "kind": "replace", "person": 3}),
    ("override", {"step": "from", "rotation": 1, "kind": "add", "person": 3}),
    ("override", {"step": "from", "rotation": 1, "kind": "replace", "person": 3, "replaces": 2}),
    (
        "override",
        {"step": "until", "rotation": 1, "kind": "add", "person": 3, "start": T0.isoformat()},
    ),
    ("step", {"step": "policy"}),
    ("step", {"step": "which", "policy": 1}),
    ("step", {"step": "wait", "policy": 1, "index": 0, "delay": 300, "targets": []}),
    ("step", {"step": "targets", "policy": 1, "index": 2, "delay": 300, "targets": []}),
]
ACTIONS = ["ro", "kd", "pp", "fr", "sh", "un", "tz", "ev", "st", "ok", "clr", "po", "sp", "wt"]
ACTIONS += ["kp", "rm", "tr", "tg", "tp", "ta", "x"]


@SHARED
@reported("answer")
@given(answer=TEXT)
async def test_every_typed_answer_to_a_guided_change_is_taken_or_refused_in_our_words(
    world: World, answer: str
) -> None:
    for flow, data in STEPS:
        with contextlib.suppress(DomainError):
            await world.services.wizard.flows[flow].typed(world.coordinator, dict(data), answer)


@SHARED
@given(
    action=st.one_of(st.sampled_from(ACTIONS), st.from_regex(r"[a-z]{1,3}", fullmatch=True)),
    value=st.one_of(st.integers(0, 10), st.integers(0, 10**12 - 1)),
)
async def test_every_forged_button_on_a_guided_change_is_refused_in_our_words(
    world: World, action: str, value: int
) -> None:
    # What a modified client can put in `wz:<draft>:<action>:<number>`.
    for flow, data in STEPS:
        with contextlib.suppress(DomainError):
            await world.services.wizard.flows[flow].pressed(
                world.coordinator, dict(data), action, value
            )


async def test_superscript_digits_are_refused_with_the_usage_of_each_command(world: World) -> None:
    rota, policies, people = world.services.rota, world.services.policies, world.services.people
    c = world.coordinator
    cases: list[tuple[Awaitable[object], str]] = [
        (rota.withdraw_swap(world.anna, "²"), "swap.cancel_usage"),
        (rota.withdraw_swap(world.anna, "#１２"), "swap.cancel_usage"),
        (rota.withdraw_swap(world.anna, "9" * 30), "swap.cancel_usage"),
        (people.ask_remove(c, "²"), "remove.not_found"),
        (people.ask_remove(c, "9" * 5000), "remove.not_found"),
        (rota.draft_rotation(c, "Night | UTC | ²d | now | Anna"), "rota.bad_every"),
        (rota.draft_rotation(c, "Night | Europe | 1d | now | Anna"), "tz.unknown"),
        (rota.draft_rotation(c, "Night | UTC | 1d | now | ²"), "rota.person_unknown"),
        (rota.draft_members(c, "Day | Anna, #²"), "rota.person_unknown"),
        (policies.draft_step(c, "default | ² | 5m | all responders"), "policy.bad_step"),
        (policies.draft_step(c, "default | 1 | 5m | ²"), "rota.person_unknown"),
        (policies.draft_step(c, "default | 1 | ²m | Anna"), "policy.bad_delay"),
        (policies.draft_drop(c, "default | ²"), "policy.bad_step"),
        (policies.assign(c, "² | default"), "policy.contact_unknown"),
        (rota.set_tz(world.anna, "Europe"), "tz.unknown"),
        (rota.set_tz(world.anna, "a" * 300), "tz.unknown"),
        (rota.set_reminder(world.anna, "²m"), "remind.usage"),
        (people.invite(c, Role.RESPONDER, "Anna\nBoris"), "invite.bad_name"),
    ]
    for call, key in cases:
        err = await refused_async(call)
        assert err.key == key, (key, err.key, err.params)
    err = await refused_async(rota.draft_override(c, "Day | add | Anna | now | +²h"))
    assert err.key == "rota.bad_until"
    step = world.services.wizard.flows["step"]
    which = {"step": "which", "policy": 1}
    assert (await refused_async(step.typed(c, which, "²"))).key == "policy.bad_step"


async def test_a_forged_time_or_length_button_in_an_override_is_refused(world: World) -> None:
    flow = world.services.wizard.flows["override"]
    c = world.coordinator
    at_from = {"step": "from", "rotation": 1, "kind": "add", "person": 3}
    until = {"step": "until", "rotation": 1, "kind": "add", "person": 3, "start": T0.isoformat()}
    # These used to overflow datetime: a timestamp in the year 33658, a length of 31,000 years.
    assert (await refused_async(flow.pressed(c, at_from, "fr", 10**12 - 1))).key == (
        "override.shift_gone"
    )
    assert (await refused_async(flow.pressed(c, until, "un", 10**12 - 1))).key == (
        "wizard.use_buttons"
    )
    err = await refused_async(
        world.services.wizard.flows["rotation"].pressed(
            c, {"step": "people", "people": []}, "pp", 999
        )
    )
    assert isinstance(err, NotFound) and err.key == "rota.person_unknown"


# --- through the real bot -----------------------------------------------------------------


async def test_odd_input_gets_a_reply_that_says_what_to_write_not_an_internal_error(
    harness: BotHarness, enrolled: Cast
) -> None:
    c, anna = enrolled.coordinator, enrolled.responders[0]
    await make_rotation(harness, enrolled, f"Day | Europe/Moscow | 1d | 2026-03-01 09:00 | {ANNA}")
    cases = {
        "/tz Europe": "'Europe' is not a time zone. Use a name like Europe/Moscow",
        "/tz " + "a" * 300: "'" + "a" * 39 + "…' is not a time zone.",
        "/tz ../etc": "'../etc' is not a time zone.",
        "/alert ²": "Usage: /alert <alert number>",
        "/ack ³": "Usage: /ack <alert number>",
        "/swap cancel ²": "Usage: /swap cancel <number>",
        "/remove ²": "No enrolled person matches '²'.",
        "/rotation new Night | UTC | ²d | now | " + ANNA: "'²d' is not a shift length.",
        "/policy step default | ² | 5m | all responders": "The step number must be 1 to 3.",
        "/policy step default | 1 | 5m | ²": "No responder or coordinator matches '²'.",
        "/policy drop default | ²": "The step number must be 1 to 2.",
        "/invite responder Anna\nBoris": "A name must be 1 to 64 characters of text",
        "/override Day | add | " + ANNA + " | 9999-12-31 23:59 | +1h": (
            "'9999-12-31 23:59' is more than ten years from now."
        ),
    }
    for command, expected in cases.items():
        assert (await harness.reply_to(c, command)).startswith(expected), command
    assert (await harness.reply_to(anna, "/tz europe/berlin")).startswith(
        "Your time zone is now Europe/Berlin."
    )
    # Forged buttons: numbers int() would refuse or read, and one past SQLite's integers.
    for data in ("ack:²", "ack:１２", "ack:99999999999999999999", "res:1\n", "swp:²"):
        await anna.forge_press(anna.visible[-1].message_id, data)
    await harness.settle()
    answers = [a.get("text") for a in anna.callback_answers]
    assert answers[:4] == ["You can't do that."] * 4, answers
    everything = [str(m.text) for user in (c, anna) for m in user.visible]
    assert not [t for t in everything if t.startswith("Something went wrong")]


@pytest.mark.parametrize("raw", ["localtime", "Factory", "posixrules", "LOCALTIME"])
def test_names_that_are_not_places_are_not_time_zones(raw: str) -> None:
    # "localtime" would be the server's own zone: it would reveal it, and change with it.
    assert zone_name(raw) is None
    with pytest.raises(InvalidInput):
        parse_zone(raw)

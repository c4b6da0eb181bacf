"""Each person reads nabat in their own language: a Korean contact, a Russian lawyer and
an English coordinator through panic, page, acknowledgement, a phrase, free text, a
follow-up and resolution. Every message each received is scanned."""

from __future__ import annotations

import re

from bot.domain.models import Role
from tests.support.harness import BotHarness, enrol, invite, token_from
from tests.telegram_emulator import Emulator, SimUser

LATIN = re.compile(r"[A-Za-z]")
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
HANGUL = re.compile(r"[\uac00-\ud7a3]")
ZONES = re.compile(r"\b[A-Z][A-Za-z_]+/[A-Za-z_/+-]+")  # IANA names, as Europe/Moscow
# Command names and their Latin arguments, durations, language codes: Latin in any language.
COMMANDS = re.compile(r"/[a-z]+(@\w+)?|\b\d+[hmsd]\b|\b(en|ru|ko|off)\b|<[^>]*>|\[[^\]]*\]")

KOREAN_CONTACT = "Kim Songhui"  # a display name: only staff ever see it
RUSSIAN_LAWYER = "Ivan Yuristov"
SAY = "Не подписывайте протокол, я еду"  # what the lawyer typed, relayed as written
FOLLOW_UP = "경찰서 2층에 있습니다"
NOTE = "отпущен без протокола"


def everything(user: SimUser) -> list[str]:
    """Every text and button label the bot ever showed this person, deleted or not."""
    out = []
    for m in user.history:
        if not m.from_bot:
            continue
        out.append(str(m.text or ""))
        out += [label for label, _ in m.buttons]
    return out


async def test_korean_contact_russian_lawyer_english_coordinator_each_read_their_own(
    harness: BotHarness, emulator: Emulator
) -> None:
    olga = emulator.user(700100001, "Olga", language_code="en")
    ivan = emulator.user(700200001, "Ivan", language_code="ru")  # Telegram in Russian
    kim = emulator.user(700300001, "Kim", language_code="en")  # invited to read Korean
    made = await harness.services.people.invite(None, Role.COORDINATOR, "Olga Koordinatorova")
    await enrol(harness, olga, made.token)
    await enrol(harness, ivan, await invite(harness, olga, "responder", RUSSIAN_LAWYER))
    reply = await harness.reply_to(olga, f"/invite contact {KOREAN_CONTACT} ko")
    welcome = await harness.reply_to(kim, f"/start {token_from(reply)}")
    assert HANGUL.search(welcome), welcome

    # The panic, paged to the lawyer in Russian, saying the contact reads Korean.
    await kim.send("/panic 경찰이 왔습니다")
    await harness.replies(ivan, 2, what="the page")
    await harness.settle()
    page = str(ivan.visible[-1].text)
    assert page.startswith("ТРЕВОГА") and "корейский" in page, page
    assert [label for label, _ in ivan.visible[-1].buttons] == ["Принять", "Закрыть"]

    # Acknowledged; a phrase from the phrasebook reaches the contact in Korean.
    await ivan.press_button("Принять")
    await harness.settle()
    await ivan.press_button("Ответить контакту")
    await harness.settle()
    menu = ivan.visible[-1]
    assert CYRILLIC.search(str(menu.text)) and len(menu.buttons) == 6
    await ivan.press_button(menu.buttons[0][0])  # "Ничего не подписывайте."
    await harness.settle()
    assert "아무것에도 서명하지 마십시오." in [str(m.text) for m in kim.visible]

    # Free text, relayed as written; the contact's answer reaches the lawyer.
    await harness.reply_to(ivan, f"/say 1 {SAY}")
    assert SAY in [str(m.text) for m in kim.visible]
    await kim.send(FOLLOW_UP)
    await harness.settle()
    assert any(FOLLOW_UP in str(m.text) for m in ivan.visible)
    assert (await harness.reply_to(ivan, f"/resolve 1 {NOTE}")).startswith("Вы закрыли")

    # The coordinator reads the timeline in English, with who answered the contact.
    timeline = await harness.reply_to(olga, "/alert 1")
    assert "Reads: Korean" in timeline and f"{RUSSIAN_LAWYER} sent the contact" in timeline
    await harness.advance(3600)  # every reply to the contact has left their chat

    # The Korean contact's chat: no Latin letters but command names.
    for shown in everything(kim):
        assert not LATIN.search(COMMANDS.sub("", shown)), shown
    # The English coordinator's: no Cyrillic or Korean but what people wrote or sent (the
    # timeline records the phrase exactly as the contact received it).
    written = [SAY, NOTE, "경찰이 왔습니다", FOLLOW_UP, "아무것에도 서명하지 마십시오."]
    for shown in everything(olga):
        rest = shown
        for words in written:
            rest = rest.replace(words, "")
        assert not CYRILLIC.search(rest) and not HANGUL.search(rest), shown
    # The Russian lawyer's: no English sentence, only names and commands in Latin.
    for shown in everything(ivan):
        rest = ZONES.sub("", COMMANDS.sub("", shown))
        for name in (KOREAN_CONTACT, RUSSIAN_LAWYER, "Olga Koordinatorova", "UTC", "MSK"):
            rest = rest.replace(name, "")
        assert not re.search(r"[A-Za-z]{3,}", rest), shown


async def test_lang_changes_what_a_person_reads_and_user_text_is_never_taken_for_a_key(
    harness: BotHarness, emulator: Emulator
) -> None:
    olga = emulator.user(700100001, "Olga", language_code="de")  # nabat has no German
    kim = emulator.user(700300001, "Kim", language_code="ko")  # Telegram in Korean
    made = await harness.services.people.invite(None, Role.COORDINATOR, "Olga")
    assert (await enrol(harness, olga, made.token)).startswith("Welcome, Olga")
    await enrol(harness, kim, await invite(harness, olga, "contact", "K-17"))
    assert HANGUL.search(str(kim.history[-1].text))
    assert (await harness.reply_to(olga, "/lang ru")).startswith("Готово: Русский")
    assert "Формат: /lang" in await harness.reply_to(olga, "/lang")
    assert (await harness.reply_to(olga, "/lang de")).startswith("Языка")
    # A follow-up that happens to be a catalogue key reaches the page as written.
    await kim.send("/panic contact.received")
    await harness.settle()
    await harness.advance(300)  # step 2: the coordinator
    page = next(str(m.text) for m in olga.visible if "#1" in str(m.text))
    assert "contact.received" in page and "Received." not in page
    # A contact changes theirs too, and it opens no alert.
    assert (await harness.reply_to(kim, "/lang ru")) == "Готово: Русский."
    assert await harness.services.alerts.context.alerts.get(harness.services.db, 2) is None
    # The CLI's --lang.
    result = await harness.cli("invite", "--role", "responder", "--name", "Ana", "--lang", "ko")
    ana = emulator.user(700200009, "Ana", language_code="en")
    assert HANGUL.search(await enrol(harness, ana, token_from(result.out)))

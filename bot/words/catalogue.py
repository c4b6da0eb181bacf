"""The message catalogue: every word nabat says to a Telegram user, by key, in English.

Translations are gettext catalogues (bot/words/locales.py): each key is a message's
context, its English the msgid; `python -m bot.words.pot` writes the template and merges
it into ko, ru and en. Contacts' strings (CONTACT_KEYS) stay short and neutral in every
language: their phone may be read by someone else.

Catalogue keys and what people wrote are different types: a Notice's parameters are
shown as given, except a `msg("key")` value, which is a catalogue message in turn. A
follow-up or a name that happens to equal a key is never translated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.domain.limits import BLOCK, length, split_text
from bot.domain.models import Notice
from bot.words.locales import translated


def N_(text: str) -> str:
    return text


CATALOGUE: dict[str, str] = {
    # Anyone not enrolled, and every failed invitation: one line that says nothing.
    "neutral": N_("Sorry, I can't help with that."),
    # Enrolment.
    "welcome.contact": N_(
        "You are set up. If you need help, send /panic or just write here. "
        "Send /help to see what you can do."
    ),
    "welcome.responder": N_(
        "Welcome, {name}. You are enrolled as a responder: you will be paged when a "
        "contact needs help. Send /help to see your commands."
    ),
    "welcome.coordinator": N_(
        "Welcome, {name}. You are enrolled as a coordinator: you can invite people and "
        "run the rota. Send /help to see your commands."
    ),
    "enrol.already": N_("You are already enrolled as {role}. Send /help to see what you can do."),
    "enrol.role_conflict": N_(
        "This invitation is for a {role}, which cannot be combined with your current role. "
        "Ask a coordinator for the right invitation."
    ),
    # Help, by role.
    "help.contact": N_(
        "/panic [text] - ask for help now (or just write here)\n"
        "/ok - answer a reminder\n"
        "/trip 2h [words] - a reminder in 2 hours\n"
        "/pin - set your codes\n"
        "/word <word> - set your word\n"
        "/cancel - take back a call for help (with your code)\n"
        "/lang <en|ru|ko> - your language\n"
        "/help - this list"
    ),
    "help.responder": N_(
        "Responder commands:\n"
        "/alerts - open alerts paged to you\n"
        "/alert <n> - an alert's timeline\n"
        "/ack <n> - acknowledge alert n\n"
        "/resolve <n> [note] - resolve alert n\n"
        "/oncall - who is on call now and next\n"
        "/shifts - your next shifts\n"
        "/swap <rotation> | <from> | <to> - offer a window of your shifts to others\n"
        "/swap cancel <n> - take back an offer nobody has taken\n"
        "/tz <zone> - your time zone, e.g. /tz Europe/Moscow\n"
        "/remind <time> - how long before a shift you are reminded (default 60m)\n"
        "/say <n> <text> - write to the contact of alert n you acknowledged "
        "(or reply to its page)\n"
        "/lang <en|ru|ko> - your language\n"
        "/case <n> - the case file of alert n's contact, while the alert is open\n"
        "/export <n> - the signed export (PDF and JSON) of alert n you acknowledged\n"
        "/help - this list"
    ),
    "help.coordinator": N_(
        "Coordinator commands:\n"
        "/invite <role> [name] - invite a contact, responder or coordinator "
        "(e.g. /invite responder Anna)\n"
        "/people - list enrolled people\n"
        "/remove <number or name> - end an enrolment and delete that person's data\n"
        "/alerts - all open alerts\n"
        "/alert <n> - an alert's timeline\n"
        "/ack <n>, /resolve <n> [note] - act on any alert\n"
        "/rotation - list rotations; /rotation new, /rotation people - change them, "
        "step by step\n"
        "/override - add, remove or replace someone on call for a while, step by step\n"
        "/oncall, /tz <zone> - who is on call; your time zone\n"
        "/policy - escalation policies; /policy step - change or add a step, step by step; "
        "/policy drop ... removes one\n"
        "/assign <contact> | <policy> - which policy pages for a contact\n"
        "/schedule <contact> [every 12h | daily 09:00,21:00 ...] - a contact's check-ins; "
        "alone, step by step\n"
        "/checkins - every contact's check-ins: state, last, next\n"
        "/pause <contact> <until or 3d | off> - no check-ins for a while\n"
        "/trip <contact> <2h> - set or move a contact's trip timer\n"
        "/say <n> <text> - write to the contact of alert n\n"
        "/lang <en|ru|ko> - your language\n"
        "/case <contact> [set <field> <value> | clear <field> | edit] - a contact's case "
        "file; /case <n> - that of alert n's contact\n"
        "/export <n> - the signed export (PDF and JSON) of alert n\n"
        "/help - this list"
    ),
    "help.unknown_command": N_("I don't know that command. Send /help to see what you can do."),
    # Invitations.
    "invite.created": N_(
        "Invitation for a {role}{named} created. It works once and expires {expires}.\n\n"
        "Send this link to the person:\n{link}\n\n"
        "or ask them to send the bot this line:\n/start {token}"
    ),
    "invite.named": N_(" ({name})"),
    "invite.usage": N_(
        "Usage: /invite <role> [name] [language], where role is contact, responder or "
        "coordinator, and language en, ru or ko (else their Telegram's, if nabat has it). "
        "Example: /invite contact K-17 ko"
    ),
    "invite.bad_role": N_(
        "'{given}' is not a role. Use contact, responder or coordinator. "
        "Example: /invite contact K-17"
    ),
    "invite.bad_name": N_(
        "A name must be 1 to {max} characters of text, without line breaks. "
        "Example: /invite responder Anna"
    ),
    # People.
    # A block of text already put together in the reader's language (lists).
    "text.block": "{text}",
    "people.header": N_("Enrolled people ({count}):"),
    "people.line": N_("#{id} {name} - {roles}"),
    "people.empty": N_("No one is enrolled yet. Invite someone with /invite."),
    "role.contact": N_("contact"),
    "role.responder": N_("responder"),
    "role.coordinator": N_("coordinator"),
    "remove.usage": N_(
        "Usage: /remove <number or name>. /people shows each person's number. Example: /remove 3"
    ),
    "remove.not_found": N_("No enrolled person matches '{query}'. Send /people to see everyone."),
    "remove.ambiguous": N_(
        "More than one person matches '{query}': {matches}. "
        "Use the number instead, e.g. /remove {example}"
    ),
    "remove.confirm": N_(
        "Remove #{id} {name} ({roles})? This ends their enrolment and deletes their data. "
        "It cannot be undone."
    ),
    "remove.confirm_alerts": N_(
        "Remove contact #{id} {name}? This ends their enrolment and deletes their data. "
        "They have {count} alert records, which this would destroy too. Choose:\n"
        "- Export first: the signed export of each alert is sent to you, then you choose again.\n"
        "- Keep records: the alerts stay until the retention period ends (NABAT_RETENTION), "
        "with their name, Telegram account, case file and check-ins gone.\n"
        "- Destroy everything: the alerts go now too. It cannot be undone."
    ),
    "button.remove_export": N_("Export first"),
    "button.remove_keep": N_("Keep records"),
    "button.remove_all": N_("Destroy everything"),
    "remove.exported": N_("Sent {count} exports above. Now choose for #{id} {name}:"),
    "remove.export_failed": N_(
        "The exports could not be made ({reason}); nothing was removed. Try again, or choose "
        "without them."
    ),
    "remove.done_kept": N_(
        "Removed #{id} {name}. {count} alert records are kept without their identity until "
        "the retention period ends."
    ),
    "remove.last_coordinator": N_(
        "#{id} {name} is the last coordinator. Invite another coordinator before removing them."
    ),
    "remove.done": N_("Removed #{id} {name}. Their data has been deleted."),
    "remove.cancelled": N_("Cancelled: #{id} {name} stays enrolled."),
    "remove.gone": N_("That person is no longer enrolled."),
    "button.remove": N_("Remove"),
    "button.cancel": N_("Cancel"),
    "callback.expired": N_("This button no longer applies."),
    "callback.done": N_("Done."),
    # Contacts: short, neutral, deleted after a while. Nothing names a lawyer or a case.
    "contact.received": N_("Received."),
    "contact.on_it": N_("Someone is on it."),
    "contact.hint": N_("Send /panic if you need help now."),
    # Pages to responders and coordinators.
    "kind.panic": N_("PANIC"),
    "kind.duress": N_("DURESS"),
    "kind.missed_checkin": N_("MISSED CHECK-IN"),
    "kind.drill": N_("DRILL (practice)"),
    "page.header": N_("{kind} - alert #{id}"),
    "page.from": N_("From: {name}"),
    "page.text": N_("Message: {text}"),
    "page.no_text": N_("Message: (none)"),
    "page.text_cut": N_("(The message continues below: {n} more.)"),
    "page.continued": N_("Alert #{id}, the message goes on ({part} of {parts}):\n{text}"),
    "page.location": N_("Location: {lat:.5f}, {lon:.5f}{live}"),
    "page.location.live": N_(" (live)"),
    "page.at": N_("Raised: {time}"),
    "page.step": N_("Step {step} of {steps}{repeat}"),
    "page.repeat": N_(", repeat {n}"),
    "page.how": N_("Acknowledge to stop paging others, or /ack {id}."),
    "page.unanswered": N_("UNANSWERED: no one has acknowledged this alert. Everyone is paged."),
    "page.reminder": N_(
        "REMINDER: you acknowledged this alert {ago} ago and it is not resolved. "
        "Resolve it, or press Still on it; otherwise escalation resumes in {timeout}."
    ),
    "page.was_held": N_(
        "Acknowledged by {name} at {time}, but not resolved in time: paging again."
    ),
    "button.snooze": N_("Still on it"),
    "alert.snoozed": N_("Noted: you will be reminded about alert #{id} again in {wait}."),
    "alert.snooze_not_yours": N_(
        "Only whoever acknowledged alert #{id} can say they are still on it."
    ),
    # After a resolution: a contact's next words go first to whoever resolved it.
    "held.page": N_(
        "{name} wrote after alert #{prev} was resolved (now alert #{id}):\n{text}\n\n"
        "If they need help, press New alert: the escalation policy pages at once. If not, "
        "press Not an alert. If you do neither, it becomes an alert at {time}."
    ),
    "button.new_alert": N_("New alert"),
    "button.not_alert": N_("Not an alert"),
    "held.released": N_("Alert #{id} is now an alert: its escalation policy is paging."),
    "held.dismissed": N_("Alert #{id} is closed: not an alert."),
    "held.not_held": N_("Alert #{id} is already an alert, or closed."),
    # Resolving by button asks for a note.
    "resolve.ask_note": N_(
        "Alert #{id} is resolved. What happened? Reply with a short note for the record, "
        "or press No note."
    ),
    "button.no_note": N_("No note"),
    "resolve.note_added": N_("Note added to alert #{id}."),
    "resolve.no_note": N_("Alert #{id} is resolved, without a note."),
    # What a contact sent before someone was paged, sent with their page.
    "catchup.header": N_("What {name} sent on alert #{id} before this page:"),
    "catchup.text": N_("{time}: {text}"),
    "catchup.location": N_("{time}: location {lat:.5f}, {lon:.5f} {map}"),
    "catchup.voice": N_("{time}: a voice message"),
    "catchup.photo": N_("{time}: a photo {text}"),
    "catchup.panic_again": N_("{time}: pressed panic again {text}"),
    "catchup.media_hint": N_("Press the button below for the voice messages and photos."),
    "button.media": N_("Voice and photos ({n})"),
    "media.none": N_("Alert #{id} has no voice messages or photos."),
    "timeline.media": N_("Alert #{id}: {n} voice messages or photos from the contact."),
    "page.acked": N_("Acknowledged by {name} at {time}."),
    "page.resolved": N_("Resolved by {name} at {time}."),
    "page.resolved_note": N_("Resolved by {name} at {time}: {note}"),
    "followup.text": N_("Follow-up on alert #{id} from {name}:\n{text}"),
    "followup.text_part": N_("Follow-up on alert #{id} from {name} ({part} of {parts}):\n{text}"),
    "followup.media": N_("Follow-up on alert #{id} from {name}"),
    "followup.media_caption": N_("Follow-up on alert #{id} from {name}:\n{text}"),
    "followup.panic_again": N_("{name} pressed panic again on alert #{id}."),
    "followup.panic_again_text": N_("{name} pressed panic again on alert #{id}:\n{text}"),
    "followup.location_button": N_("Alert #{id}: {name}"),
    "button.ack": N_("Acknowledge"),
    "button.resolve": N_("Resolve"),
    # Acting on alerts.
    "alert.acked_by_you": N_("You acknowledged alert #{id}. Resolve it with /resolve {id} [note]."),
    "alert.resolved_by_you": N_("You resolved alert #{id}."),
    "alert.already_acked": N_("Alert #{id} is already acknowledged by {name}."),
    "alert.already_resolved": N_("Alert #{id} is already resolved by {name}."),
    "alert.not_found": N_("There is no alert #{id} you can see. Send /alerts to list open alerts."),
    "alert.usage_ack": N_("Usage: /ack <alert number>, e.g. /ack 12. /alerts lists open alerts."),
    "alert.usage_resolve": N_(
        "Usage: /resolve <alert number> [note], e.g. /resolve 12 released, no charges."
    ),
    "alert.usage_show": N_("Usage: /alert <alert number>, e.g. /alert 12."),
    "alert.delivery_broken": N_(
        "DELIVERY PROBLEM on alert #{id}: Telegram refused the page to {name} "
        "({reason}). Others may not be getting pages either. Open /alert {id} to see "
        "who was reached, and check the bot's log."
    ),
    "alert.note_too_long": N_("A note can be at most {max} characters. Shorten it and send again."),
    "alerts.none": N_("No open alerts."),
    "alerts.header": N_("Open alerts ({count}):"),
    "alerts.line": N_("#{id} {kind} - {name} - {state} - since {time}"),
    "state.triggered": N_("not acknowledged"),
    "state.acknowledged": N_("acknowledged by {name}"),
    "state.resolved": N_("resolved"),
    "timeline.header": N_("Alert #{id} - {kind} - {name} - {state}"),
    "timeline.created": N_("created"),
    "timeline.paged": N_("step {step}: paged {names}"),
    "timeline.step_skipped": N_("step {step} passed: no one to page"),
    "timeline.unanswered": N_("UNANSWERED: paged everyone ({names})"),
    "timeline.nobody": N_("no one at all could be paged"),
    "timeline.delivery_failed": N_("page to {name} failed: {reason}"),
    "timeline.unreachable": N_(
        "{name} cannot be reached (blocked the bot or left); skipped from now on"
    ),
    "timeline.step_unreached": N_("no one on step {step} could be reached: escalating at once"),
    "timeline.acknowledged": N_("acknowledged by {name}"),
    "timeline.reminder": N_("acknowledgement timed out: reminded {name}"),
    "timeline.resumed": N_("acknowledgement timed out again: escalation resumed from step 1"),
    "timeline.followup": N_("follow-up ({what})"),
    "timeline.followup_content": N_("follow-up ({what}): {content}"),
    "timeline.held": N_("written after alert #{prev} was resolved: held for {name} first"),
    "timeline.released": N_("made a new alert by {name}"),
    "timeline.dismissed": N_("closed as not an alert by {name}"),
    "timeline.snoozed": N_("{name} is still on it: reminder in {wait}"),
    "timeline.note": N_("note by {name}: {note}"),
    "timeline.resolved": N_("resolved by {name}"),
    "timeline.policy_changed": N_(
        "escalation policy '{policy}' changed: restarted from its step 1"
    ),
    "timeline.resolved_note": N_("resolved by {name}: {note}"),
    "timeline.pages": N_("Pages:"),
    "timeline.page": N_("{time} {name} (step {step}): {delivery}"),
    "delivery.pending": N_("not yet delivered"),
    "delivery.delivered": N_("delivered"),
    "delivery.failed": N_("failed"),
    "what.text": N_("text"),
    "what.location": N_("location"),
    "what.live_location": N_("live location"),
    "what.voice": N_("voice"),
    "what.photo": N_("photo"),
    "what.panic_again": N_("pressed panic again"),
    # Time zones, on-call, shifts.
    "tz.set": N_("Your time zone is now {tz}. It is {local} there."),
    "tz.unknown": N_(
        "'{given}' is not a time zone. Use a name like Europe/Moscow or Asia/Vladivostok."
    ),
    "tz.usage": N_("Usage: /tz <zone>, e.g. /tz Europe/Moscow. Your zone now: {tz}."),
    "oncall.none": N_("No rotations yet. A coordinator creates one with /rotation new."),
    "oncall.rotation": N_("{name} ({tz})"),
    "oncall.now": N_("  now: {who}, until {until}"),
    "oncall.next": N_("  next: {who}, from {when}"),
    "oncall.nobody": N_("nobody"),
    "remind.set": N_("You will be reminded {minutes} min before each shift."),
    "remind.off": N_("Shift reminders are off. Turn them on with /remind 60m."),
    "remind.usage": N_(
        "Usage: /remind <time before a shift>, 1m to 24h, e.g. /remind 90m, or /remind off. "
        "Now: {minutes} min."
    ),
    "shifts.header": N_("Your next shifts:"),
    "shifts.none": N_("You have no shifts in the coming year."),
    "shifts.line": N_("{start} - {end}: {name}"),
    # Rotations and overrides (coordinators).
    "rotation.none": N_("No rotations yet. Create one with /rotation new."),
    "rotation.line": N_("#{id} {name}: every {every} from {start} ({tz}); {people}"),
    "rotation.usage": N_(
        "Usage: /rotation new <name> | <time zone> | <every> | <first handoff> | <people>\n"
        "e.g. /rotation new Moscow day | Europe/Moscow | 1d | 2026-03-02 09:00 | Anna, Boris\n"
        "every: 8h, 1d, 1w, 2w; people in order, by name or #number."
    ),
    "rotation.members_usage": N_(
        "Usage: /rotation people <rotation> | <people in order>, e.g. "
        "/rotation people Moscow day | Boris, Anna, #7 (or just /rotation people Moscow day "
        "to choose them with buttons)"
    ),
    "rotation.exists": N_("A rotation named '{name}' exists already. Choose another name."),
    "rotation.unknown": N_("There is no rotation '{name}'. Send /rotation to list them."),
    "rotation.preview_new": N_("New rotation {name} ({tz}). Shifts for the next two weeks:"),
    "rotation.preview_members": N_("{name} ({tz}) with the new people. Next two weeks:"),
    "rotation.created": N_("Rotation {name} created."),
    "rotation.updated": N_("Rotation {name} updated."),
    "rota.segment": N_("{start} - {end}: {who}"),
    "rota.bad_until": N_(
        "'{given}' is not a length of time. Write it as +8h, +1d12h or +30m, "
        "or give the end as 2026-03-05 21:00."
    ),
    "rota.bad_time": N_("'{given}' is not a time. Write it as 2026-03-05 09:00, or now."),
    "rota.bad_every": N_(
        "'{given}' is not a shift length. Write a whole number and h, d or w: 1h to 672h, "
        "1d to 366d or 1w to 52w, e.g. 8h, 1d or 2w."
    ),
    "rota.person_unknown": N_(
        "No responder or coordinator matches '{ref}'. /people lists everyone."
    ),
    "rota.person_ambiguous": N_("More than one person is called '{ref}': use {ids}."),
    "rota.invalid": N_("That does not work: {problem}."),
    "override.usage": N_(
        "Usage: /override <rotation> | add, remove or replace | <person> | <from> | <to>\n"
        "e.g. /override Moscow day | replace | Boris for Anna | 2026-03-05 09:00 | +24h\n"
        "Times are in your time zone (/tz)."
    ),
    "override.bad_window": N_("The end must come after the start (and after now)."),
    "override.conflict": N_(
        "That clashes with override #{id} ({kind}) for the same time. "
        "Change or remove that one first."
    ),
    "override.preview": N_("{name} ({tz}) with this override:"),
    "override.created": N_("Override #{id} is in place."),
    "wizard.name": N_("New rotation, step 1 of 5: what is it called? Reply with a name."),
    "wizard.tz": N_(
        "Step 2 of 5: in which time zone are {name}'s handoffs? Press one, or reply with "
        "a zone such as Asia/Yekaterinburg."
    ),
    "wizard.every": N_("Step 3 of 5: how long is a shift? Press one, or reply like 2d or 6h."),
    "wizard.start": N_(
        "Step 4 of 5: when is the first handoff ({tz})? Press one, or reply like 2026-03-02 09:00."
    ),
    "wizard.people": N_(
        "Step 5 of 5: who takes turns, in order? Press names in the order of their turns "
        "(press again to take someone out), then Done; or reply with the names in order, "
        "like: Anna, #7. Chosen: {order}."
    ),
    "wizard.members": N_(
        "Who takes turns in {name}, in order? Now: {order}.\n"
        "Press a name to add them at the end, or a numbered one to take them out; "
        "Start over to press the whole order again. Then Done. Or reply with the whole "
        "order, like: Boris, Anna, #7."
    ),
    "wizard.pick_rotation": N_("Which rotation? Press one, or reply with its name."),
    "button.start_over": N_("Start over"),
    "button.now": N_("Now"),
    "rotation.gone": N_("That rotation no longer exists. Send /rotation to list them."),
    "override.w_rotation": N_(
        "New override, step 1 of 5: which rotation? Press one, or reply with its name."
    ),
    "override.w_kind": N_(
        "Step 2 of 5: what changes in {name}?\n"
        "Add: someone is on call as well as whoever's turn it is.\n"
        "Remove: someone is taken off for a while.\n"
        "Replace: someone takes over another's turn."
    ),
    "button.override_add": N_("Add"),
    "button.override_remove": N_("Remove"),
    "button.override_replace": N_("Replace"),
    "override.w_who_add": N_(
        "Step 3 of 5: who is added to {name}? Press a name, or reply with one."
    ),
    "override.w_who_remove": N_(
        "Step 3 of 5: who is taken off {name}? Press a name, or reply with one."
    ),
    "override.w_who_replace": N_(
        "Step 3 of 5: who steps in on {name}? Press a name, or reply with one."
    ),
    "override.w_for": N_(
        "Step 3 of 5: whose turn does {person} take over? Press a name, or reply with one."
    ),
    "override.w_from": N_(
        "Step 4 of 5: from when? Press one of {whose}'s next shifts to cover it whole, "
        "or Now, or reply with a time in your zone ({tz}) like 2026-03-05 09:00."
    ),
    "override.w_from_add": N_(
        "Step 4 of 5: from when is {person} on call in {name}? Press Now or a handoff, "
        "or reply with a time in your zone ({tz}) like 2026-03-05 09:00."
    ),
    "override.w_until": N_(
        "Step 5 of 5: until when? From {start}. Press a length, or reply like +8h "
        "or 2026-03-05 21:00 ({tz})."
    ),
    "override.shift_gone": N_("That shift has changed meanwhile. Choose again."),
    "override.self": N_("Someone cannot take over their own turn. Choose another person."),
    "wizard.use_buttons": N_("Use the buttons above for this step."),
    "wizard.people_none": N_("Choose at least one person first."),
    "button.raw": "{label}",
    "button.done": N_("Done"),
    "draft.gone": N_("This change was already confirmed, cancelled or has expired."),
    "draft.cancelled": N_("Cancelled: nothing changed."),
    "draft.stale_policy": N_(
        "Policy {name} was changed by someone else after this preview, so this preview no "
        "longer applies. Nothing was changed. Send /policy to see it now, then make your "
        "change again."
    ),
    "draft.stale_rotation": N_(
        "Rotation {name} was changed by someone else after this preview, so this preview no "
        "longer applies. Nothing was changed. Send /oncall or /rotation to see it now, then "
        "make your change again."
    ),
    "draft.target_gone": N_(
        "Someone or something this change names is gone since the preview (a person "
        "removed, a rotation deleted, a group the bot left). Nothing was changed. "
        "Make the change again."
    ),
    "button.confirm": N_("Confirm"),
    "button.take": N_("Take it"),
    "swap.usage": N_(
        "Usage: /swap <rotation> | <from> | <to>, e.g. /swap Moscow day | 2026-03-05 09:00 | +24h"
    ),
    "swap.not_yours": N_("You are not on call in {name} during that time."),
    "swap.offered": N_(
        "{name} asks someone to take {rotation} from {start} to {end} (swap #{id})."
    ),
    "swap.requested": N_("Swap #{id} offered. Nothing changes until someone takes it."),
    "swap.gone": N_("Swap #{id} is no longer open."),
    "swap.cancel_usage": N_("Usage: /swap cancel <number>, e.g. /swap cancel 3"),
    "swap.withdrawn": N_("Swap #{id} was withdrawn by {name}: nothing changes."),
    "swap.own": N_("You cannot take your own swap #{id}."),
    "swap.taken": N_("Swap #{id}: {name} takes {rotation} from {requester}."),
    "rota.reminder": N_("Reminder: your shift in {rotation} starts {start} (in {minutes} min)."),
    "rota.handoff": N_("Handoff in {rotation}: now on call: {now} (before: {before})."),
    "rota.handoff_alert": N_("Open alert #{id} ({kind}) is held by {name}."),
    "rota.handoff_alert_open": N_("Open alert #{id} ({kind}) is not acknowledged yet."),
    "rota.handoff_no_alerts": N_("No alerts are open."),
    "rota.gaps_header": N_("Coverage gaps in the next 7 days (no one would be paged):"),
    "rota.gap": N_("policy '{policy}' step {step}: {start} - {end}"),
    "rota.unreachable": N_(
        "{name} cannot be reached (blocked the bot or left Telegram). Pages skip them until "
        "they write to the bot again. Rotations that depend on them: {rotations}."
    ),
    "rota.on_call_now": N_("You are on call now in {rotation} until {until}."),
    "rota.person_twice": N_("'{ref}' is named twice. Name each person once."),
    "rota.until_too_long": N_(
        "'{given}' is too long: a length after + is at most {max}. "
        "For a later end, give it as a time, like 2026-03-05 21:00."
    ),
    "swap.responders_only": N_(
        "/swap is for responders, to offer a window of their own shifts for someone else "
        "to take. To change who is on call, use /override."
    ),
    "wizard.start_passed": N_("That time has passed. Press a later one, or reply with a time."),
    "wizard.more_typed": N_("{hidden} more are not shown as buttons: reply by typing instead."),
    "enrol.ask_tz": N_(
        "Which time zone are you in? I show you every time in it (now {tz}). Press yours "
        "below, or send /tz <zone>, e.g. /tz Asia/Vladivostok."
    ),
    "policy.updated_one": N_(
        "Policy {name} updated. Its open alert starts again from the new step 1."
    ),
    "policy.updated_many": N_(
        "Policy {name} updated. Its {restarted} open alerts start again from the new step 1."
    ),
    # Escalation policies (coordinators).
    "policy.none": N_("No policies."),
    "policy.line": N_("#{id} {name}{default}: repeat {repeat}, acknowledgement timeout {ack}"),
    "policy.is_default": N_(" (default)"),
    "policy.step": N_("  step {n}: {targets}, then wait {delay}"),
    "target.all_responders": N_("all responders"),
    "target.all_coordinators": N_("all coordinators"),
    "target.none": N_("no one (passed at once; change it with /policy step)"),
    "policy.preview": N_("Policy {name} after this change:"),
    "policy.updated": N_("Policy {name} updated. No open alerts were affected."),
    "policy.unknown": N_("There is no policy '{name}'. Send /policy to list them."),
    "policy.step_usage": N_(
        "Usage: /policy step <policy> | <step number> | <wait> | <targets>\n"
        "e.g. /policy step default | 1 | 5m | rotation:Moscow day, Anna\n"
        "targets: rotation:<name>, group:<title>, all responders, all coordinators, "
        "or people by name or #number."
    ),
    "policy.w_policy": N_(
        "Change a policy step, step 1 of 4: which policy? Press one, or reply with its name."
    ),
    "policy.w_which": N_(
        "Step 2 of 4: which step of {name}? Press one to change it, or add a step.\n{steps}"
    ),
    "policy.w_wait": N_(
        "Step 3 of 4: once step {n} has paged, how long does it wait for an acknowledgement "
        "before the next step? Press one, or reply like 7m."
    ),
    "policy.w_targets": N_(
        "Step 4 of 4: whom does step {n} page? Press to choose, again to drop, then Done. "
        "Or reply with the whole list, like: rotation:Moscow day, Anna.\nChosen: {chosen}."
    ),
    "policy.targets_none": N_("Choose at least one target first."),
    "policy.gone": N_("That policy no longer exists. Send /policy to list them."),
    "button.step": N_("Step {n}"),
    "button.keep": N_("Keep {wait}"),
    "button.add_step": N_("Add step {n}"),
    "button.remove_step": N_("Remove step {n}"),
    "target.on_call": N_("On call: {name}"),
    "target.group": N_("Group: {title}"),
    "policy.drop_usage": N_("Usage: /policy drop <policy> | <step number>"),
    "policy.assign_usage": N_(
        "Usage: /assign <contact> | <policy or default>, e.g. /assign K-17 | night"
    ),
    "policy.contact_unknown": N_("No contact matches '{ref}'. /people lists everyone."),
    "policy.bad_step": N_("The step number must be 1 to {count}."),
    "policy.bad_delay": N_("'{given}' is not a wait between 1s and 24h. Example: 5m."),
    "policy.last_step": N_("A policy needs at least one step."),
    "policy.assigned": N_("{name} now uses policy {policy}."),
    "policy.assigned_moved": N_(
        "{name} now uses policy {policy}. Their open alert moved to it and pages its step 1 now."
    ),
    "group.welcome": N_(
        "This group ({title}) can now receive pages: a coordinator can name it in an "
        "escalation policy step as group:{title}."
    ),
    "group.unknown": N_(
        "There is no group chat titled '{title}' (or more than one). A coordinator adds the "
        "bot to the group first."
    ),
    "group.registered": N_("Group {title} registered. Use it in a policy: group:{title}."),
    # Typed input that is not what a command takes.
    "rotation.bad_name": N_(
        "A rotation name is 1 to {max} characters with at least one letter, and no '|'."
    ),
    "rota.far_time": N_(
        "'{given}' is more than ten years from now. Write a time like 2026-03-05 09:00, or now."
    ),
    "alert.bad_note": N_(
        "A note is plain text, without control characters. Example: /resolve 12 released."
    ),
    # Errors everyone may see.
    # Check-ins: the contact's side. Neutral: the phone may be read by someone else, and
    # nothing here may differ between a safe and a forced answer.
    "checkin.reminder": N_("Hello. Tap OK when you see this."),
    "button.checkin_ok": N_("OK"),
    "checkin.done": N_("Noted."),
    "checkin.done_set_pin": N_("Noted. Please set your codes now: send /pin."),
    "checkin.set_pin": N_("Please set your codes: send /pin."),
    "checkin.ask_pin": N_("Send your code."),
    "checkin.wrong_pin": N_("That code is not right. Send it again."),
    "checkin.trip_set": N_("Noted. Until {time}."),
    "checkin.trip_limit": N_("The latest you can set is {time}."),
    "checkin.trip_usage": N_(
        "Write it like this: /trip 2h or /trip 45m (a few words after it are fine)."
    ),
    "checkin.cancelled": N_("Cancelled."),
    "checkin.nothing": N_("There is nothing to cancel."),
    "checkin.cancel_needs_pin": N_("Set a code first with /pin."),
    "checkin.pin_usage": N_("Send /pin alone; I will ask for the code."),
    "checkin.pin_first": N_("Send a code of 4 to 8 digits."),
    # Says no more than "a second code": its purpose is told to the contact in person, not
    # on a phone someone else may read.
    "checkin.pin_second": N_("Send a second code of the same length."),
    "checkin.pin_mismatch": N_(
        "The two codes must have the same length and be different. Send /pin to start again."
    ),
    "checkin.word_usage": N_("Write it like this: /word rain (one word), or /word off."),
    "checkin.saved": N_("Saved."),
    # Check-ins: the coordinator's side.
    "checkin.schedule_usage": N_(
        "Usage: /schedule <contact> every 12h [grace 1h] [reprompt 30m] [quiet 22:00-07:00] "
        "[tz Europe/Moscow] [pin] [word ok]\n"
        "or: /schedule <contact> daily 09:00,21:00 [grace 1h] ...\n"
        "or: /schedule <contact> off\n"
        "/schedule <contact> alone asks step by step."
    ),
    "checkin.bad_schedule": N_(
        "That schedule can't be used: {field}: {problem}. Send /schedule for the form."
    ),
    "checkin.contact_unknown": N_("No contact {ref}. Send /people to see the list."),
    "checkin.preview": N_(
        "Check-ins for {name} ({tz}): {schedule}\n"
        "Next reminders, in their time (yours), and when the rota is paged if there is no answer:\n"
        "{lines}\nConfirm?"
    ),
    "checkin.scheduled": N_("Check-ins for {name} are set. Next reminder: {next}."),
    "checkin.unscheduled": N_("Check-ins for {name} are off. A trip they start still runs."),
    "checkin.pause_usage": N_(
        "Usage: /pause <contact> 2026-12-10 09:00 (your time), /pause <contact> 3d, "
        "or /pause <contact> off."
    ),
    "checkin.pause_past": N_("That time has passed. Give a later one."),
    "checkin.paused": N_(
        "Check-ins for {name} are paused until {until}. A check-in does not end the pause; "
        "/pause {name} off does."
    ),
    "checkin.resumed": N_("Check-ins for {name} are on again. Next reminder: {next}."),
    "checkin.trip_for_usage": N_("Usage: /trip <contact> 3h [note]"),
    "checkin.trip_for_set": N_("{name}'s trip now runs out at {time}."),
    "checkin.none": N_("No contact has check-ins. Set them with /schedule."),
    "checkin.header": N_("Check-ins (state; schedule; last check-in; next deadline):"),
    "checkin.state.none": N_("no check-ins"),
    "checkin.state.up": N_("up"),
    "checkin.state.late": N_("LATE"),
    "checkin.state.down": N_("DOWN"),
    "checkin.state.paused": N_("paused until {until}"),
    "checkin.last": N_("last {time}"),
    "checkin.next": N_("next due {time}"),
    "checkin.down_at": N_("rota paged at {time} if no answer"),
    "checkin.pin_missing": N_("PIN required but not set"),
    # Check-ins: the guided schedule (/schedule <contact>, or /schedule alone... see usage).
    "checkin.w_contact": N_(
        "Check-ins, step 1 of 6: for which contact? Press one, or reply with a name or #number."
    ),
    "checkin.w_often": N_(
        "Check-ins for {name}, step 2 of 6: how often? Press an interval (counted from each "
        "check-in), Daily times, or reply like 8h."
    ),
    "checkin.w_times": N_(
        "Check-ins for {name}, step 3 of 6: at what local times each day? Press to choose "
        "(chosen: {times}), then Done; or reply like 09:00,21:00."
    ),
    "checkin.w_grace": N_(
        "Check-ins for {name}, step 4 of 6: how long after a missed reminder is the rota "
        "paged? Press one, or reply like 45m."
    ),
    "checkin.w_quiet": N_(
        "Check-ins for {name}, step 5 of 6: quiet hours, in their time (no reminder then; a "
        "reminder due inside waits for the end)? Press one, or reply like 22:00-07:00."
    ),
    "checkin.w_pin": N_(
        "Check-ins for {name}, step 6 of 6: must they answer with their PIN? (They set it "
        "themselves with /pin.)"
    ),
    "button.daily_times": N_("Daily times"),
    "button.no_quiet": N_("No quiet hours"),
    "button.pin_required": N_("PIN required"),
    "button.pin_optional": N_("No PIN needed"),
    # Exports: /export N, and the PDF (labels only; what people wrote is shown as written).
    "export.usage": N_(
        "Usage: /export <alert number>, e.g. /export 12. You get the alert's record for an "
        "urgent application, as a PDF and as signed JSON."
    ),
    "export.not_holder": N_(
        "Only whoever acknowledged alert #{id}, or a coordinator, can export it. "
        "Acknowledge it first."
    ),
    "export.closed": N_(
        "Alert #{id} is resolved: its export, with the case file, is now for coordinators. Ask one."
    ),
    "export.too_large": N_(
        "The export of alert #{id} is {size} MB: more than the {max} MB Telegram lets a bot "
        "send. An operator can write it to disk: nabat alert export {id} --out DIR"
    ),
    "export.caption.pdf": N_(
        "Alert #{id}: the record for an urgent application. Signed with the key {fingerprint}."
    ),
    "export.caption.json": N_(
        "Alert #{id}: the same record as signed JSON. Anyone can check that it was not "
        "changed: nabat verify {file}"
    ),
    "export.pdf.title": N_("Alert #{id}: record for an urgent application"),
    "export.pdf.intro": N_(
        "Exported from nabat on {time} UTC by {name}. Every time is to the second, in UTC "
        "and in the person's local time ({tz}). What people wrote is quoted as written."
    ),
    "export.pdf.by_cli": N_("an operator (command line)"),
    "export.pdf.page": N_("Page {n} of {total}"),
    "export.pdf.footer": N_("Signed by nabat (Ed25519), key fingerprint {fingerprint}"),
    "export.pdf.how_to_verify": N_("To verify: nabat verify {file} (the JSON sent with this PDF)"),
    "export.pdf.person": N_("The person"),
    "export.pdf.no_contact": N_("This alert has no contact (removed)."),
    "export.pdf.pseudonym": N_("Pseudonym"),
    "export.pdf.language": N_("Language"),
    "export.pdf.time_zone": N_("Time zone"),
    "export.pdf.case_file": N_("Case file"),
    "export.pdf.no_case_file": N_("No case file was filled in for this person."),
    "export.pdf.alert": N_("The alert"),
    "export.pdf.kind": N_("Kind"),
    "export.pdf.state": N_("State"),
    "export.pdf.created": N_("Created"),
    "export.pdf.acknowledged": N_("Acknowledged"),
    "export.pdf.resolved": N_("Resolved"),
    "export.pdf.note": N_("Note"),
    "export.pdf.message": N_("Message"),
    "export.pdf.last_location": N_("Last location"),
    "export.pdf.at": N_("{utc} UTC\n{local} local time"),
    "export.pdf.timeline": N_("Timeline"),
    "export.pdf.col.utc": N_("Time (UTC)"),
    "export.pdf.col.local": N_("Local time ({tz})"),
    "export.pdf.col.who": N_("Who"),
    "export.pdf.col.what": N_("What happened"),
    "export.pdf.file": N_("Telegram file id: {file_id}"),
    "export.pdf.deliveries": N_("Pages and their delivery"),
    "export.pdf.no_pages": N_("No one was paged."),
    "export.pdf.col.to": N_("To"),
    "export.pdf.col.step": N_("Step"),
    "export.pdf.col.delivery": N_("Delivery"),
    "export.pdf.people": N_("Who acted"),
    "export.pdf.col.name": N_("Name"),
    "export.pdf.col.role": N_("Role"),
    "export.pdf.signature": N_("Signature"),
    "export.pdf.signature_text": N_(
        "nabat signed this record at {time} UTC with the Ed25519 key whose fingerprint is "
        "{fingerprint}. The file {file}, sent with this PDF, holds the same record and its "
        "signature. To check that nothing in it was changed since, run: nabat verify {file} "
        "- it names every value that differs."
    ),
    # Check-ins on pages and timelines.
    "page.duress": N_(
        "The contact answered with their duress code or word: someone may be forcing them. "
        "Their chat shows nothing of this."
    ),
    "page.missed.last": N_("Last check-in: {time}"),
    "page.missed.never": N_("Last check-in: never"),
    "page.missed.schedule": N_("Due: {time}, on their schedule. No answer since."),
    "page.missed.trip": N_("Due: {time}, at the end of a trip they set: {note}"),
    "page.missed.pins": N_("Three wrong codes in a row, the last at {time}."),
    "page.checked_in": N_("Checked in at {time}. The alert is closed."),
    "page.cancelled": N_("Cancelled by the contact with their PIN at {time}."),
    "alert.checked_in": N_("Alert #{id}: {name} checked in at {time}. The alert is closed."),
    "alert.now_duress": N_(
        "DURESS - alert #{id}: {name} answered with their duress code. Treat the alert as "
        "forced; their chat shows nothing of this."
    ),
    "timeline.checked_in": N_("the contact checked in"),
    "timeline.cancelled": N_("cancelled by the contact with their PIN"),
    "timeline.duress": N_("DURESS: the contact answered with their duress code or word"),
    "timeline.cancel_refused": N_(
        "the contact cancelled it, but it is marked DURESS: it stays open"
    ),
    "timeline.missed": N_("the contact missed a check-in"),
    # Languages.
    "lang.usage": N_(
        "Usage: /lang <language>: en (English), ru (Russian), ko (Korean). Now: {current}."
    ),
    "lang.set": N_("Done: {language}."),
    # Each language's name in its own script, so a reader finds theirs in any language.
    "lang.name.en": "English",
    "lang.name.ru": "Русский",
    "lang.name.ko": "한국어",
    "lang.unknown": N_("There is no language {given}. Choose en, ru or ko."),
    "page.reads": N_("Reads: {language}"),
    # Answering the contact: the phrasebook (the organisation may reword it, see
    # NABAT_PHRASEBOOK) and free text. What reaches the contact names no one.
    "phrase.do_not_sign": N_("Do not sign anything."),
    "phrase.lawyer_interpreter": N_("Say that you want a lawyer and an interpreter."),
    "phrase.stay": N_("Stay where you are if you can."),
    "phrase.location": N_("Share your location if you can."),
    "phrase.lawyer_coming": N_("A lawyer is on the way."),
    "phrase.write": N_("Write when you can."),
    "button.answer": N_("Answer the contact"),
    "phrase.menu": N_(
        "Alert #{id}: what should {name} read? It reaches them in {language}, names no one, "
        "and leaves their chat after {ttl}. Or send your own words: /say {id} <text>, or "
        "reply to the page."
    ),
    "phrase.menu_missed": N_(
        "Careful: this is a missed check-in, and someone else may be holding the phone. "
        "Alert #{id}: what should {name} read? It reaches them in {language}, names no one, "
        "and leaves their chat after {ttl}. Or send your own words: /say {id} <text>, or "
        "reply to the page."
    ),
    "phrase.sent": N_("Sent to {name} (alert #{id}), in {language}:\n{text}"),
    "say.usage": N_("Usage: /say <alert number> <text>, e.g. /say 12 Do not sign anything."),
    "say.not_holder": N_(
        "Only whoever acknowledged alert #{id}, or a coordinator, can answer the contact. "
        "Acknowledge it first."
    ),
    "say.closed": N_("Alert #{id} is resolved: nothing was sent."),
    "say.duress": N_(
        "Alert #{id} is DURESS: whoever holds the phone would see anything sent. Nothing was sent."
    ),
    "say.no_contact": N_("Alert #{id} has no contact to answer."),
    "say.too_long": N_("That is too long for the contact's screen: at most {max} characters."),
    "timeline.phrase": N_("{name} sent the contact: {text}"),
    "timeline.said": N_("{name} wrote to the contact: {text}"),
    # Case files (bot/services/casefiles.py, bot/words/casefile_text.py, the guided
    # flow bot/wizards/casefile.py). Field names (name_korean, documents.1.number) are
    # what coordinators type: they stay as they are in every language.
    "button.case_file": N_("Case file"),
    "button.skip": N_("Skip"),
    "button.finish": N_("Finish"),
    "case.usage": N_(
        "Usage:\n"
        "/case <contact> - the case file\n"
        "/case <contact> set <field> <value> - fill in one field\n"
        "/case <contact> clear <field> - empty a field, a list item (documents.2) or a list\n"
        "/case <contact> edit - field by field\n"
        "/case <alert number> - the case file of that alert's contact\n"
        "A name with spaces: /case K-17 Ivanova | set ...\n"
        "Fields: name_latin, name_cyrillic, name_korean, birth_date, nationality, risk, "
        "trusted_person, lawyer, notes; list items by number: documents.1.kind, .number, "
        ".issued, .expires; addresses.1.kind, .text; proceedings.1.kind, .number, .date, "
        ".note. Dates as YYYY-MM-DD."
    ),
    "case.usage_responder": N_(
        "Usage: /case <alert number> - the case file of the contact of an open alert that was "
        "paged to you or that you acknowledged. The page's Case file button shows it too."
    ),
    "case.header": N_("Case file of {name} (#{id}):"),
    "case.header_alert": N_("Case file of {name}, the contact of alert #{alert}:"),
    "case.empty": N_("The case file is empty."),
    "case.edit_hint": N_(
        "Change it: /case {ref} set <field> <value>, /case {ref} clear <field>, or field by "
        "field: /case {ref} edit. Send /case for the fields."
    ),
    "case.preview": N_("Case file of {name} (#{id}) as it will be saved ({change}):"),
    "case.confirm": N_("Save it?"),
    "case.change.set": N_("{field} set"),
    "case.change.clear": N_("{field} emptied"),
    "case.change.guided": N_("filled in field by field"),
    "case.saved": N_("The case file of {name} is saved."),
    "case.stale": N_(
        "The case file of {name} was changed after this preview: nothing was saved. Send "
        "your change again."
    ),
    "case.no_contact": N_("Alert #{id} has no contact any more: there is no case file to show."),
    "case.nothing": N_("nothing yet"),
    "case.f.name_latin": N_("Name (Latin)"),
    "case.f.name_cyrillic": N_("Name (Cyrillic)"),
    "case.f.name_korean": N_("Name (Korean)"),
    "case.f.birth_date": N_("Date of birth"),
    "case.f.nationality": N_("Nationality"),
    "case.f.risk": N_("Risk"),
    "case.f.trusted_person": N_("Trusted person"),
    "case.f.lawyer": N_("Lawyer"),
    "case.f.notes": N_("Notes"),
    "case.item.documents": N_("Document {n}"),
    "case.item.addresses": N_("Address {n}"),
    "case.item.proceedings": N_("Proceeding {n}"),
    "case.part.number": N_("No. {value}"),
    "case.part.issued": N_("issued {value}"),
    "case.part.expires": N_("expires {value}"),
    "case.part.date": N_("dated {value}"),
    "case.q.name_latin": N_("Full name in Latin letters, as in their passport"),
    "case.q.name_cyrillic": N_("Full name in Cyrillic, as Russian documents write it"),
    "case.q.name_korean": N_("Full name in Korean"),
    "case.q.birth_date": N_("Date of birth"),
    "case.q.nationality": N_("Nationality"),
    "case.q.documents": N_("Documents (passport, residence permit, refugee certificate...)"),
    "case.q.addresses": N_("Addresses (where they live, where they work)"),
    "case.q.risk": N_("The risk: why return would endanger them, in a few lines"),
    "case.q.proceedings": N_(
        "Pending proceedings (refugee application, court cases, decisions and their dates)"
    ),
    "case.q.trusted_person": N_("Family or a trusted person to call, and how"),
    "case.q.lawyer": N_("The lawyer who knows the case, and how to reach them"),
    "case.q.notes": N_("Notes"),
    "case.how.text": N_("Reply with the value; - empties it; Skip keeps it."),
    "case.how.date": N_("Reply with a date like 1990-05-31; - empties it; Skip keeps it."),
    "case.how.documents": N_(
        "Reply to add one: kind; number; issued; expires (dates like 2020-01-31), e.g. "
        "passport; 12 3456789; 2020-01-31; 2030-01-30. - empties the list; Skip goes on."
    ),
    "case.how.addresses": N_(
        "Reply to add one: kind; address, e.g. home; Lenina 5, Vladivostok. - empties the "
        "list; Skip goes on."
    ),
    "case.how.proceedings": N_(
        "Reply to add one: kind; number; date; note, e.g. court case; 2a-123/2026; "
        "2026-03-01; hearing pending. - empties the list; Skip goes on."
    ),
    "case.w_contact": N_(
        "Case file, field by field: for which contact? Press one, or reply with a name or #number."
    ),
    "case.w_field": N_(
        "Case file of {name}, {n} of {total}: {question}\n{how}\nNow: {now}\n"
        "Finish shows the whole case file to confirm."
    ),
    "case.bad.unknown": N_(
        "{field}: there is no such field. The fields are {fields}; a list item's part is "
        "written like documents.1.number."
    ),
    "case.bad.not_list": N_("{field}: that field is not a list: write its name alone."),
    "case.bad.parts": N_("{field}: name a part: {parts}."),
    "case.bad.item": N_("{field}: number the items from 1; the next new one is {next}."),
    "case.bad.no_item": N_("{field}: there is no such item: the case file has {count}."),
    "case.bad.date": N_("{field}: write a date as YYYY-MM-DD, e.g. 1990-05-31."),
    "case.bad.too_long": N_("{field}: at most {max} characters."),
    "case.bad.control": N_("{field}: remove the control characters."),
    "case.bad.too_many": N_("{field}: at most {max} items."),
    "case.bad.invalid": N_("{field}: that value can't be used."),
    "case.bad.needs_value": N_("{field}: give a value after the field name, or use clear."),
    "case.bad.item_form": N_("{field}: write one item as {form}, its parts separated by ;."),
    "error.not_allowed": N_("You can't do that."),
    "error.internal": N_("Something went wrong on our side. Please try again."),
}


@dataclass(frozen=True, slots=True)
class Rendered:
    """A notice turned into words: text and (label, callback data) buttons."""

    text: str
    buttons: tuple[tuple[tuple[str, str], ...], ...] = ()
    protect: bool = False
    media: dict[str, Any] | None = None
    silent: bool = False


def chunk_lines(lines: list[str], limit: int = BLOCK) -> list[str]:
    """Join lines into blocks that stay well inside Telegram's 4096-character message;
    a line longer than a block is cut across blocks."""
    blocks: list[str] = []
    current: list[str] = []
    size = 0
    for line in (piece for whole in lines for piece in split_text(whole, limit)):
        if current and size + length(line) + 1 > limit:
            blocks.append("\n".join(current))
            current, size = [], 0
        current.append(line)
        size += length(line) + 1
    if current:
        blocks.append("\n".join(current))
    return blocks


# Shown as written in every language (a frame for text already rendered, a language's own
# name): not in the translation template.
UNTRANSLATED = frozenset(
    {"text.block", "button.raw", "lang.name.en", "lang.name.ru", "lang.name.ko"}
)

# What a contact's chat shows (their phone may be read by someone else): translators are
# told, and tests/unit/test_translations.py keeps these free of tell-tale words.
CONTACT_KEYS = frozenset(
    {
        "neutral",
        "welcome.contact",
        "help.contact",
        "contact.received",
        "contact.on_it",
        "contact.hint",
        "lang.usage",
        "lang.set",
        "lang.name.en",
        "lang.name.ru",
        "lang.name.ko",
        "enrol.already",
        "enrol.role_conflict",
        "error.internal",
        "lang.unknown",
        *(
            k
            for k in CATALOGUE
            if k.startswith("phrase.") and k != "phrase.menu" and k != "phrase.sent"
        ),
        *(
            k
            for k in CATALOGUE
            if k.startswith("checkin.")
            and k.split(".")[1]
            in {
                "reminder",
                "done",
                "done_set_pin",
                "set_pin",
                "ask_pin",
                "wrong_pin",
                "trip_set",
                "trip_limit",
                "trip_usage",
                "cancelled",
                "nothing",
                "cancel_needs_pin",
                "pin_usage",
                "pin_first",
                "pin_second",
                "pin_mismatch",
                "word_usage",
                "saved",
            }
        ),
        "button.checkin_ok",
    }
)


def msg(key: str) -> dict[str, str]:
    """A parameter that is itself a catalogue message ({"role": msg("role.contact")}),
    translated for the reader. A plain string parameter is shown exactly as it is."""
    if key not in CATALOGUE:
        raise KeyError(key)
    return {"msg": key}


def _param(value: Any, lang: str) -> Any:
    if isinstance(value, dict) and value.keys() == {"msg"} and value["msg"] in CATALOGUE:
        return text(value["msg"], lang)
    return value


def text(key: str, lang: str = "en", **params: Any) -> str:
    """The catalogue string `key` in `lang` (English if untranslated), formatted."""
    english = CATALOGUE[key]
    shown = english if key in UNTRANSLATED else translated(key, english, lang)
    return shown.format(**{k: _param(v, lang) for k, v in params.items()})


def render(notice: Notice) -> Rendered:
    params = dict(notice.params)
    buttons = tuple(
        tuple((text(b.key, notice.lang, **b.params), b.data) for b in row) for row in notice.buttons
    )
    return Rendered(
        text(notice.key, notice.lang, **params),
        buttons,
        notice.protect,
        notice.media,
        notice.silent,
    )

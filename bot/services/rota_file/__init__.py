"""`nabat rota export` and `nabat rota import`: every rotation, escalation policy and
check-in schedule as one declarative TOML file.

The format::

    # nabat rota — people are named by display name (unique) or "#<number>" as /people shows
    # group chats by title (unique) or "group:#<number>"
    [[rotation]]
    name = "Moscow day"
    tz = "Europe/Moscow"
    unit = "days"                         # hours | days | weeks
    length = 1                            # 1-672 hours, 1-366 days, 1-52 weeks
    start = 2026-03-02T09:00:00+03:00     # first handoff, an offset date-time
    participants = ["Anna Advokatova", "#4"]

    [[rotation.override]]
    kind = "replace"                      # add | remove | replace
    person = "Boris"
    replaces = "Anna Advokatova"          # replace only
    start = 2026-03-05T09:00:00+03:00
    end = 2026-03-06T09:00:00+03:00

    [[policy]]
    name = "default"
    default = true                        # exactly one policy is the default
    repeat = 1                            # passes after the first, 0-10 (default 1)
    ack_timeout = "30m"                   # default 30m

    [[policy.step]]
    delay = "5m"                          # 1s .. 24h
    targets = ["rotation:Moscow day", "all_responders", "all_coordinators",
               "person:Anna Advokatova", "group:Duty lawyers"]

    [contacts]                            # contact -> policy; contacts not listed use the default
    "K-17" = "night"

    [[checkin]]                           # one a contact with a check-in schedule
    contact = "K-17"
    every = "12h"                         # 30m-14d; or daily = ["09:00", "21:00"]
    grace = "1h"                          # 5m-2d (default 1h)
    reprompt = "30m"                      # optional, before the grace ends (default: half)
    quiet = "22:00-07:00"                 # optional, at most 16h
    pin = true                            # optional (default false)
    word = "ok"                           # optional, one lower-case word
    tz = "Asia/Vladivostok"               # optional: the contact's zone (else theirs stays)

The file is the whole truth: importing it creates, updates (in place, keeping ids) and
deletes rotations and policies to match, matching them by name (case-insensitively). A
policy that alerts refer to is retired instead of deleted. Only overrides that have not
ended are in the file; the ones that ended are kept as history, and an override in the
file that ended before the import is skipped. Participants, override people and person
targets must be responders or coordinators; the keys of [contacts] must be contacts.
`targets = []` is accepted, with a warning: it is what export writes for a step whose
only target was removed (such a step pages no one and is passed at once). A [[checkin]]
holds the fields of the coordinator's `/schedule` one-line form and is checked by the same
rules (checkins.py); a contact with a schedule who is not listed has it turned off, and a
contact's check-in state, pause, trip and PINs are not in the file and are kept.

"group:<title>" pages a group chat the bot was added to (a coordinator adds the bot; the
file cannot register a group), matched by its exact title. Import also accepts
"group:#<number>", nabat's number for the group (group_chats.id, not Telegram's chat id),
for any group. Export writes "group:<title>", or "group:#<number>" when another group has
the same title (or the title is empty, has spaces at either end or looks like "#<number>"),
so the file always imports back to the same groups; import refuses a title two groups
share and names the "group:#<number>" of each. A target whose group is no longer
registered is left out on export, as is one whose person was deleted.

Import checks everything before it changes anything and reports every problem as
`FILE:LINE: <where>: <field>: <problem>`. tomllib gives no positions, so `_Lines` (lines.py)
finds them by scanning the raw text for table headers and `key =` lines. Export writes what
import reads, so export then import changes nothing.

An import runs through lines.py (where tables and keys are in the raw text), problems.py
(tables as error messages name them), people.py and groups.py (people and group chats as
the file names them), spec.py (what a valid file says), read.py (the file into a spec),
plan.py (the spec against the database) and apply.py (the plan into the database);
export.py writes the file; checkins.py does all four for the [[checkin]] tables. Names
with a leading underscore are private to this package.
"""

from __future__ import annotations

from bot.services.rota_file.apply import import_rota
from bot.services.rota_file.export import export_rota, write_private
from bot.services.rota_file.plan import ImportSummary
from bot.services.rota_file.problems import RotaFileError

__all__ = ["ImportSummary", "RotaFileError", "export_rota", "import_rota", "write_private"]

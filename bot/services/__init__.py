"""What nabat does, as plain values in and out: no Telegram here.

- alerts/: panics and follow-ups, escalation, acknowledgement, resolution, outcomes,
  and the alerts check-ins open and close.
- checkins.py: check-ins from the contact's side, and the tick that pages on silence.
- checkin_admin.py: schedules, pauses and trips set by coordinators; /checkins.
- casefiles.py: contacts' case files from Telegram (/case, previews, who may see one).
- casefile_toml.py: case files as one TOML file (`nabat case export`, `import`).
- people.py: invitations, enrolment, removal.
- gate.py: redelivered updates and strangers.
- rota.py: rotations, overrides, swaps, previews and their confirmation.
- policies.py: escalation policies and who uses which.
- groups.py: group chats as page targets.
- watch.py: shift reminders, handoffs, coverage gaps.
- retention.py: resolved alerts purged after NABAT_RETENTION.
- export/: an alert's signed record for a court (PDF and JSON), `/export`, `nabat verify`.
- rota_file/: the rota and policies as one TOML file (export, import).
"""

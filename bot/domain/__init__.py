"""The domain: plain values and pure rules. Imports nothing above it (no storage, no
Telegram, no text), and never reads the clock: `now` is an argument.

- clock.py: the one source of "now" (wall clock) and of pacing time (monotonic).
- errors.py: every exception nabat raises on purpose, in one tree.
- models.py: the frozen dataclasses and enums repositories return.
- rota.py: shifts, handoffs across DST, overrides, coverage and gaps.
- escalation.py: which step of a policy comes next and whom it pages.
- casefile.py: a contact's case file (names, documents, addresses, risk, proceedings).
- checkin.py: check-in schedules, quiet hours, trips: the up / late / down machine.
- limits.py: Telegram's limits on what is sent, and cutting text to fit them.
- parsing.py: numbers and echoes every command's parser shares.
"""

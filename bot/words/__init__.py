"""The one home of text: what nabat says, in the reader's language.

- catalogue.py: every message as a catalogue key (gettext msgids), and rendering.
- alert_text.py: pages and their edits, reminders, catch-ups, lists and timelines of alerts.
"""

"""The one home of text: what nabat says, in the reader's language.

- catalogue.py: every message as a catalogue key (gettext msgids), and rendering.
- alert_text.py: pages and their edits, reminders, catch-ups, lists and timelines of alerts.
- casefile_text.py: a contact's case file as lines, in the reader's language.
- export_pdf.py: an alert's export as a PDF; fonts/ holds the fonts it embeds.
"""

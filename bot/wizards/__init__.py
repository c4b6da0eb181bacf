"""Guided changes: one engine, one module per flow; each ends in a service's preview.

- engine.py: the questions, answers, buttons and drafts every flow shares.
- rotation.py: a new rotation; who takes turns.
- override.py: an override.
- policy_step.py: a policy step.
- checkin.py: a contact's check-in schedule.
- casefile.py: a contact's case file, field by field.
"""

"""nabat: an alarm bell on Telegram for people at risk and the lawyers who answer.

Layers, each importing only those below it (tests/unit/test_layers.py holds this):

- __main__.py (the `nabat` command line), app.py (the composition root), wiring.py
  (the services, built once), logs.py (logging set-up)
- handlers/ (top-level package): thin Telegram handlers
- wizards/: guided changes
- services/: what nabat does
- delivery/: the outbox and the Telegram seam
- words/: the one home of text
- storage/ and config/ (top-level packages): SQL, encryption, settings
- domain/: plain values and pure rules
"""

__version__ = "0.1.0"

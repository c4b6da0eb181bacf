"""Getting words to Telegram: the durable outbox and the one Telegram seam.

- outbox.py: every message, edit and deletion as a row; paced, prioritised delivery;
  splitting what is too long for Telegram.
- telegram.py: python-telegram-bot calls in, DeliveryError out.
- update_guard.py: updates python-telegram-bot cannot parse are skipped, not stalled on.
"""

import os

# python-telegram-bot 22 is moving time periods (retry_after, live_period) from int to
# timedelta and warns on every use of the old form; nabat handles the new form, so it
# opts in rather than fill its logs with deprecation warnings. (PTB reads this at call
# time; every Telegram call nabat makes goes through this package or bot/app.py.)
os.environ.setdefault("PTB_TIMEDELTA", "true")

"""nabat: an alarm bell on Telegram for people at risk and the lawyers who answer."""

import os

__version__ = "0.1.0"

# python-telegram-bot 22 is moving time periods (retry_after, live_period) from int to
# timedelta and warns on every use of the old form; nabat handles the new form, so it
# opts in rather than fill its logs with deprecation warnings.
os.environ.setdefault("PTB_TIMEDELTA", "true")

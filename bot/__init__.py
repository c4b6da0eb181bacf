"""nabat: an alarm bell on Telegram for people at risk and the lawyers who answer."""

__version__ = "0.1.0"

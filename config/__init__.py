"""Settings, validated once at start: environment variables (NABAT_*), files, TOML."""

from __future__ import annotations

from config.durations import format_duration, parse_duration
from config.settings import Settings, load_settings

__all__ = ["Settings", "format_duration", "load_settings", "parse_duration"]

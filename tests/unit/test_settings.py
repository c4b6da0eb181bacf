from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

import config
from bot.domain.errors import SettingsError
from config import Settings, load_settings
from config.settings import SETTING_NAMES

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
OTHER_TOKEN = "987654321:ZZHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def load(**env: str) -> Settings:
    return load_settings({"NABAT_TELEGRAM_TOKEN": TOKEN, **env})


def error_from(environ: dict[str, str], **kwargs: bool) -> SettingsError:
    with pytest.raises(SettingsError) as caught:
        load_settings(environ, **kwargs)
    return caught.value


def toml_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "nabat.toml"
    path.write_text(text)
    return str(path)


def secret_file(tmp_path: Path, text: str, name: str = "secret") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_defaults_apply_when_only_the_token_is_set():
    settings = load()
    assert settings == Settings(telegram_token=TOKEN)
    assert settings.telegram_api_url == "https://api.telegram.org/bot"
    assert settings.data_dir == Path("data")
    assert settings.keys is None and settings.keys_file is None
    assert settings.log_level == "INFO"
    assert settings.stranger_reply is True
    assert settings.rate_global == 30 and settings.rate_per_chat == 1
    assert settings.invite_ttl == timedelta(hours=72)
    assert settings.contact_reply_ttl == timedelta(minutes=10)
    assert settings.delete_contact_messages and settings.panic_on_plain_text
    assert settings.language == "en"


def test_every_setting_is_read_from_the_environment(tmp_path):
    settings = load(
        NABAT_TELEGRAM_API_URL="http://127.0.0.1:8081/bot/",
        NABAT_DATA_DIR=str(tmp_path / "data"),
        NABAT_KEYS_FILE=str(tmp_path / "keys.json"),
        NABAT_BOT_USERNAME="@Nabat_Alarm_Bot",
        NABAT_LOG_LEVEL="debug",
        NABAT_STRANGER_REPLY="off",
        NABAT_RATE_GLOBAL="12.5",
        NABAT_RATE_PER_CHAT="0.5",
        NABAT_INVITE_TTL="7d",
        NABAT_CONTACT_REPLY_TTL="1h30m",
        NABAT_DELETE_CONTACT_MESSAGES="no",
        NABAT_PANIC_ON_TEXT="0",
        NABAT_RESOLVED_GRACE="3h",
        NABAT_LANGUAGE="ru-RU",
    )
    assert settings.telegram_api_url == "http://127.0.0.1:8081/bot"
    assert settings.data_dir == tmp_path / "data"
    assert settings.keys_file == tmp_path / "keys.json"
    assert settings.bot_username == "Nabat_Alarm_Bot"
    assert settings.log_level == "DEBUG"
    assert settings.stranger_reply is False
    assert settings.rate_global == 12.5 and settings.rate_per_chat == 0.5
    assert settings.invite_ttl == timedelta(days=7)
    assert settings.contact_reply_ttl == timedelta(minutes=90)
    assert settings.delete_contact_messages is False
    assert settings.panic_on_plain_text is False
    assert settings.resolved_grace == timedelta(hours=3)
    assert settings.language == "ru"


def test_the_key_ring_json_can_come_from_nabat_keys():
    assert load(NABAT_KEYS=' {"format": "nabat-keyring"} \n').keys == '{"format": "nabat-keyring"}'


@pytest.mark.parametrize("word", ["true", "TRUE", "1", "yes", "On"])
def test_booleans_accept_the_usual_words_for_yes(word):
    assert load(NABAT_STRANGER_REPLY="false", NABAT_PANIC_ON_TEXT=word).panic_on_plain_text


@pytest.mark.parametrize(
    ("url", "normalised"),
    [
        ("https://api.telegram.org/bot", "https://api.telegram.org/bot"),
        ("https://api.telegram.org/bot/", "https://api.telegram.org/bot"),
        ("http://localhost:8081", "http://localhost:8081/bot"),
        ("HTTP://localhost:8081/", "http://localhost:8081/bot"),
        ("https://proxy.example/telegram/bot", "https://proxy.example/telegram/bot"),
    ],
)
def test_the_api_url_is_normalised_to_end_in_bot(url, normalised):
    assert load(NABAT_TELEGRAM_API_URL=url).telegram_api_url == normalised


def test_an_empty_environment_variable_counts_as_unset():
    assert load(NABAT_LOG_LEVEL="", NABAT_DATA_DIR="  ") == load()


def test_without_require_token_the_token_may_be_missing():
    assert load_settings({}, require_token=False).telegram_token is None


def test_load_settings_reads_os_environ_by_default(monkeypatch):
    monkeypatch.setenv("NABAT_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("NABAT_LANGUAGE", "ru")
    assert load_settings().language == "ru"


def test_the_package_re_exports_the_public_names():
    assert config.Settings is Settings and config.load_settings is load_settings
    assert config.parse_duration("1m") == timedelta(minutes=1)
    assert config.format_duration(timedelta(minutes=1)) == "1m"


# --- errors: each names the setting and never echoes a secret ---------------------------


def test_a_missing_token_is_required_with_a_hint():
    error = error_from({})
    assert error.setting == "NABAT_TELEGRAM_TOKEN"
    assert str(error).startswith("NABAT_TELEGRAM_TOKEN: is required")
    assert "@BotFather" in str(error)


@pytest.mark.parametrize(
    "bad",
    ["4242", "abc:AAHdqTcvCH1vGWJxfSeofSAs0K5", "42:short", "42:AAHdqTcv CH1vGWJxfSeofSAs0K5"],
)
def test_a_malformed_token_is_rejected_without_echoing_it(bad):
    error = error_from({"NABAT_TELEGRAM_TOKEN": bad})
    assert error.setting == "NABAT_TELEGRAM_TOKEN"
    assert "bot token" in str(error)
    assert bad not in str(error)
    assert bad.split(":")[-1] not in str(error)


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("api.telegram.org/bot", "http"),
        ("ftp://api.telegram.org/bot", "http"),
        ("https:///bot", "host"),
        ("https://api.telegram.org/bot?x=1", "query"),
        ("http://localhost:notaport/bot", "not a valid URL"),
        ("http://[::1/bot", "not a valid URL"),
    ],
)
def test_a_bad_api_url_is_rejected(url, complaint):
    error = error_from({"NABAT_TELEGRAM_TOKEN": TOKEN, "NABAT_TELEGRAM_API_URL": url})
    assert error.setting == "NABAT_TELEGRAM_API_URL"
    assert complaint in str(error)
    assert "https://api.telegram.org/bot" in str(error)


def test_a_bad_api_url_does_not_echo_credentials_in_it():
    url = "ftp://user:hunter2@example.org/bot"
    error = error_from({"NABAT_TELEGRAM_TOKEN": TOKEN, "NABAT_TELEGRAM_API_URL": url})
    assert "hunter2" not in str(error)


@pytest.mark.parametrize(
    ("name", "value", "complaint"),
    [
        ("NABAT_STRANGER_REPLY", "maybe", "'maybe' is not true or false"),
        ("NABAT_DELETE_CONTACT_MESSAGES", "2", "true/false"),
        ("NABAT_PANIC_ON_TEXT", "y", "yes/no"),
        ("NABAT_RATE_GLOBAL", "fast", "'fast' is not a number"),
        ("NABAT_RATE_GLOBAL", "0", "more than 0 and at most 1000"),
        ("NABAT_RATE_GLOBAL", "1001", "at most 1000"),
        ("NABAT_RATE_GLOBAL", "nan", "out of range"),
        ("NABAT_RATE_PER_CHAT", "-1", "more than 0"),
        ("NABAT_RATE_PER_CHAT", "31", "at most 30"),
        ("NABAT_INVITE_TTL", "3 days", "unknown unit 'days'"),
        ("NABAT_INVITE_TTL", "0", "zero"),
        ("NABAT_INVITE_TTL", "400d", "maximum of 366d"),
        ("NABAT_CONTACT_REPLY_TTL", "3d", "younger than 48 hours"),
        ("NABAT_RESOLVED_GRACE", "8d", "maximum of 7d"),
        ("NABAT_RESOLVED_GRACE", "soon", "or off, to open an alert at once"),
        ("NABAT_LOG_LEVEL", "verbose", "one of DEBUG, INFO, WARNING, ERROR"),
        ("NABAT_BOT_USERNAME", "nab", "5 to 32"),
        ("NABAT_BOT_USERNAME", "nabat-alarm-bot", "underscores"),
        ("NABAT_BOT_USERNAME", "nabat_alarm", "does not end in 'bot'"),
        ("NABAT_LANGUAGE", "english", "like en, ru"),
        ("NABAT_LANGUAGE", "pt_BRA", "language tag"),
        ("NABAT_LANGUAGE", "pt-BR", "does not speak; expected one of en, ru, ko"),
        ("NABAT_RETENTION", "12h", "shorter than a day"),
        ("NABAT_RETENTION", "3700d", "maximum of"),
    ],
)
def test_a_bad_value_names_the_setting_and_what_is_expected(name, value, complaint):
    error = error_from({"NABAT_TELEGRAM_TOKEN": TOKEN, name: value})
    assert error.setting == name
    assert str(error).startswith(f"{name}: ")
    assert complaint in str(error)


def test_setting_both_a_variable_and_its_file_form_is_an_error(tmp_path):
    error = error_from(
        {"NABAT_TELEGRAM_TOKEN": TOKEN, "NABAT_TELEGRAM_TOKEN_FILE": secret_file(tmp_path, TOKEN)}
    )
    assert error.setting == "NABAT_TELEGRAM_TOKEN"
    assert "set either NABAT_TELEGRAM_TOKEN or NABAT_TELEGRAM_TOKEN_FILE, not both" in str(error)
    assert TOKEN not in str(error)


def test_setting_both_nabat_keys_and_nabat_keys_file_is_an_error(tmp_path):
    error = error_from(
        {"NABAT_TELEGRAM_TOKEN": TOKEN, "NABAT_KEYS": "{}", "NABAT_KEYS_FILE": "/k.json"}
    )
    assert error.setting == "NABAT_KEYS"
    assert "NABAT_KEYS_FILE, not both" in str(error)


def test_a_missing_file_form_file_names_the_file_variable(tmp_path):
    missing = tmp_path / "no-such-token"
    error = error_from({"NABAT_TELEGRAM_TOKEN_FILE": str(missing)})
    assert error.setting == "NABAT_TELEGRAM_TOKEN_FILE"
    assert str(missing) in str(error)


def test_an_empty_file_form_file_is_an_error(tmp_path):
    error = error_from({"NABAT_TELEGRAM_TOKEN_FILE": secret_file(tmp_path, "\n")})
    assert error.setting == "NABAT_TELEGRAM_TOKEN_FILE"
    assert "empty" in str(error)


def test_a_bad_value_from_a_file_says_which_file_form_it_came_from(tmp_path):
    error = error_from(
        {"NABAT_TELEGRAM_TOKEN": TOKEN, "NABAT_RATE_GLOBAL_FILE": secret_file(tmp_path, "x")}
    )
    assert error.setting == "NABAT_RATE_GLOBAL"
    assert "NABAT_RATE_GLOBAL_FILE" in str(error)


def test_a_malformed_token_from_a_file_is_not_echoed(tmp_path):
    error = error_from({"NABAT_TELEGRAM_TOKEN_FILE": secret_file(tmp_path, "1:tooshort-secret")})
    assert error.setting == "NABAT_TELEGRAM_TOKEN"
    assert "tooshort-secret" not in str(error)


def test_the_file_form_is_read_with_its_trailing_newline_stripped(tmp_path):
    settings = load_settings({"NABAT_TELEGRAM_TOKEN_FILE": secret_file(tmp_path, TOKEN + "\n")})
    assert settings.telegram_token == TOKEN


def test_a_toml_file_supplies_settings_with_native_types(tmp_path):
    path = toml_file(
        tmp_path,
        f"""
        telegram_token = "{TOKEN}"
        data_dir = "/var/lib/nabat"
        rate_global = 20
        rate_per_chat = 0.5
        stranger_reply = false
        invite_ttl = "2d"
        contact_reply_ttl = 300
        panic_on_text = "no"
        """,
    )
    settings = load_settings({"NABAT_CONFIG": path})
    assert settings.telegram_token == TOKEN
    assert settings.data_dir == Path("/var/lib/nabat")
    assert settings.rate_global == 20.0 and settings.rate_per_chat == 0.5
    assert settings.stranger_reply is False
    assert settings.invite_ttl == timedelta(days=2)
    assert settings.contact_reply_ttl == timedelta(minutes=5)
    assert settings.panic_on_plain_text is False


def test_the_environment_beats_the_toml_file(tmp_path):
    path = toml_file(tmp_path, f'telegram_token = "{OTHER_TOKEN}"\nlog_level = "ERROR"\n')
    settings = load_settings(
        {"NABAT_CONFIG": path, "NABAT_TELEGRAM_TOKEN": TOKEN, "NABAT_LOG_LEVEL": "debug"}
    )
    assert settings.telegram_token == TOKEN
    assert settings.log_level == "DEBUG"


def test_a_file_form_beats_the_toml_file(tmp_path):
    path = toml_file(tmp_path, f'telegram_token = "{OTHER_TOKEN}"\n')
    settings = load_settings(
        {"NABAT_CONFIG": path, "NABAT_TELEGRAM_TOKEN_FILE": secret_file(tmp_path, TOKEN)}
    )
    assert settings.telegram_token == TOKEN


def test_an_unknown_toml_key_is_named_with_the_valid_keys(tmp_path):
    path = toml_file(tmp_path, f'telegram_token = "{TOKEN}"\nrate_globl = 3\n')
    error = error_from({"NABAT_CONFIG": path})
    assert error.setting == "NABAT_CONFIG"
    assert "'rate_globl'" in str(error)
    assert "did you mean rate_global?" in str(error)
    assert "telegram_api_url" in str(error) and "panic_on_text" in str(error)


def test_a_malformed_toml_file_names_nabat_config_and_the_line(tmp_path):
    path = toml_file(tmp_path, 'log_level = "INFO"\ntelegram_token = "123:oops\n')
    error = error_from({"NABAT_CONFIG": path})
    assert error.setting == "NABAT_CONFIG"
    assert "not valid TOML" in str(error)
    assert "line 2" in str(error)
    assert "oops" not in str(error)


def test_a_missing_toml_file_names_nabat_config(tmp_path):
    error = error_from({"NABAT_CONFIG": str(tmp_path / "missing.toml")})
    assert error.setting == "NABAT_CONFIG"
    assert "missing.toml" in str(error)


def test_a_toml_value_of_the_wrong_type_names_the_setting_and_the_file(tmp_path):
    path = toml_file(tmp_path, f'telegram_token = "{TOKEN}"\nlog_level = 3\n')
    error = error_from({"NABAT_CONFIG": path})
    assert error.setting == "NABAT_LOG_LEVEL"
    assert "got a TOML integer" in str(error)
    assert "key log_level in" in str(error)


def test_a_bad_toml_token_is_not_echoed(tmp_path):
    path = toml_file(tmp_path, 'telegram_token = "12:secret-but-short"\n')
    error = error_from({"NABAT_CONFIG": path})
    assert error.setting == "NABAT_TELEGRAM_TOKEN"
    assert "secret-but-short" not in str(error)


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("NABAT_TOKEN", "NABAT_TELEGRAM_TOKEN"),
        ("NABAT_BOT_TOKEN", "NABAT_TELEGRAM_TOKEN"),
        ("NABAT_TELEGRAM_TOKN", "NABAT_TELEGRAM_TOKEN"),
        ("NABAT_TOKEN_FILE", "NABAT_TELEGRAM_TOKEN_FILE"),
        ("NABAT_LOGLEVEL", "NABAT_LOG_LEVEL"),
        ("nabat_data_dir", "NABAT_DATA_DIR"),
        ("NABAT_CONFIG_FILE", "NABAT_CONFIG"),
    ],
)
def test_a_near_miss_variable_name_suggests_the_right_one(typo, meant):
    error = error_from({"NABAT_TELEGRAM_TOKEN": TOKEN, typo: "x"})
    assert error.setting == typo
    assert f"did you mean {meant}" in str(error)


def test_a_near_miss_is_reported_before_the_missing_token():
    error = error_from({"NABAT_TOKEN": TOKEN})
    assert error.setting == "NABAT_TOKEN"
    assert TOKEN not in str(error)


def test_unrelated_variables_are_ignored(tmp_path):
    environ = {
        "NABAT_TELEGRAM_TOKEN": TOKEN,
        "NABAT_SOMETHING_ELSE": "x",
        "HOME": "/root",
        "NABAT_CONFIG": toml_file(tmp_path, ""),
        "NABAT_LOG_LEVEL_FILE": secret_file(tmp_path, "warning"),
    }
    assert load_settings(environ).log_level == "WARNING"


# --- the Settings object ------------------------------------------------------------------


def test_settings_are_frozen():
    settings = load()
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.log_level = "DEBUG"  # type: ignore[misc]


def test_repr_and_str_mask_the_token_and_the_keys():
    settings = load(NABAT_KEYS='{"keys": {"1": "c2VjcmV0LWtleQ=="}}')
    for shown in (repr(settings), str(settings), f"{settings}"):
        assert TOKEN not in shown
        assert "c2VjcmV0LWtleQ" not in shown
        assert "telegram_token=***" in shown
        assert "keys=***" in shown
        assert "log_level='INFO'" in shown


def test_repr_shows_an_unset_secret_as_none():
    assert "telegram_token=None" in repr(Settings())


def test_every_setting_name_maps_to_a_field():
    fields = {field.name for field in dataclasses.fields(Settings)}
    renamed = {"panic_on_text": "panic_on_plain_text"}
    assert {renamed.get(name.lower(), name.lower()) for name in SETTING_NAMES} == fields


def test_the_database_lives_in_the_data_directory(tmp_path):
    assert load(NABAT_DATA_DIR=str(tmp_path)).database_path == tmp_path / "nabat.db"


@pytest.mark.parametrize(
    ("data_dir", "keys_file"),
    [
        ("data", Path("nabat-keys.json")),
        ("/var/lib/nabat", Path("/var/lib/nabat-keys.json")),
        (".", Path.cwd().parent / "nabat-keys.json"),
    ],
)
def test_the_default_key_file_sits_beside_the_data_directory_not_inside(data_dir, keys_file):
    settings = Settings(data_dir=Path(data_dir))
    assert settings.default_keys_file == keys_file
    assert Path(data_dir).absolute() not in settings.default_keys_file.absolute().parents


def test_the_grace_after_a_resolution_can_be_turned_off():
    assert load(NABAT_RESOLVED_GRACE="off").resolved_grace == timedelta(0)
    assert load(NABAT_RESOLVED_GRACE="0").resolved_grace == timedelta(0)
    assert load().resolved_grace == timedelta(hours=1)

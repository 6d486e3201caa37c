"""config/reachback.yaml: the shipped file, length per encoding, file:line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from balagh.config import CONFIG_DIR
from balagh.config.yamlsrc import ConfigError
from balagh.reachback.sms_config import load_sms_config
from balagh.reachback.sms_length import GSM, UCS2, measure

SECRETS = {"BALAGH_KANNEL_USERNAME": "balagh", "BALAGH_KANNEL_PASSWORD": "pw"}


def test_gsm_and_ucs2_parts() -> None:
    assert measure("a" * 160) == measure("a" * 160) and measure("a" * 160).parts == 1
    assert (measure("a" * 161).encoding, measure("a" * 161).parts) == (GSM, 2)
    assert measure("a" * 306).parts == 2 and measure("a" * 307).parts == 3
    assert measure("€" * 80).units == 160 and measure("€" * 81).parts == 2  # counts twice
    assert (measure("ع" * 70).encoding, measure("ع" * 70).parts) == (UCS2, 1)
    assert measure("ع" * 71).parts == 2 and measure("ع" * 134).parts == 2
    assert measure("ع" * 135).parts == 3
    assert measure("a" * 150 + "ع").encoding == UCS2  # one Arabic letter: all UCS-2


def test_the_shipped_file_is_off_and_its_wording_fits_when_on(tmp_path: Path) -> None:
    shipped = CONFIG_DIR / "reachback.yaml"
    assert not load_sms_config(shipped, SECRETS).enabled
    on = tmp_path / "reachback.yaml"
    on.write_text(shipped.read_text(encoding="utf-8").replace("enabled: false",
                                                              "enabled: true"),
                  encoding="utf-8")
    config = load_sms_config(on, SECRETS)
    assert config.enabled and (config.username, config.password) == ("balagh", "pw")
    assert set(config.templates["registered"]) == {"ar", "en"}
    assert "'pw'" not in repr(config)  # a secret never in a log line


def test_a_missing_file_means_no_texts(tmp_path: Path) -> None:
    assert not load_sms_config(tmp_path / "none.yaml", SECRETS).enabled


def _file(tmp_path: Path, templates: str, extra: str = "") -> Path:
    path = tmp_path / "reachback.yaml"
    path.write_text("sms:\n  enabled: true\n  sender: '800700'\n  line: '800700'\n"
                    f"{extra}  templates:\n    registered:\n{templates}", encoding="utf-8")
    return path


@pytest.mark.parametrize(("templates", "extra", "line", "words"), [
    ("      ar: '" + "ع" * 120 + " {reference}'\n      en: 'x'\n", "", 8,
     "registered.ar: 131 ucs2 characters once filled in: 2 SMS parts, over max_parts 1"),
    ("      ar: 'رقم {case}'\n      en: 'x'\n", "", 8,
     "registered.ar: unknown placeholder {case}"),
    ("      ar: 'رقم {reference}'\n", "", 7,
     "templates.registered: no text in 'en', a language the menu speaks"),
    ("      ar: 'رقم {reference:>999}'\n      en: 'x'\n", "", 8,
     "registered.ar: a placeholder is {reference} or {line}, nothing after its name"),
    ("      ar: 'x'\n      en: 'x'\n", "  max_parts: 0\n", 5, "sms.max_parts: must be"),
    ("      ar: 'x'\n      en: 'x'\n", "  kannel_url: ftp://x\n", 6, "not an http(s) URL"),
    ("      ar: 'x'\n      en: 'x'\n", "  password: x\n", 6, "sms.password: unknown key"),
])
def test_a_bad_file_names_its_line_and_key(tmp_path: Path, templates: str, extra: str,
                                           line: int, words: str) -> None:
    extra = extra if "max_parts" in extra else "  max_parts: 1\n" + extra
    path = _file(tmp_path, templates, extra)
    with pytest.raises(ConfigError) as raised:
        load_sms_config(path, SECRETS)
    assert str(raised.value).startswith(f"{path}:{line}: ")
    assert words in str(raised.value)

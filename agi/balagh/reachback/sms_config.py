"""config/reachback.yaml's `sms:` section: where Kannel is, who the text is from, and its
wording per event and language. Checked once when loaded, with file:line errors: every
template renders (placeholders `{reference}` and `{line}` only) within `max_parts` SMS
parts in its own encoding, and `registered` has a text in every language the menu speaks.
Kannel's username and password are secrets (BALAGH_KANNEL_USERNAME, BALAGH_KANNEL_PASSWORD
in the environment or the secrets file), never YAML."""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from balagh.config.yamlsrc import YamlDoc, known_keys, load_optional_mapping

from .sms_length import measure

__all__ = ["EVENTS", "PLACEHOLDERS", "REGISTERED", "RESOLVED", "SECTIONS", "SmsConfig",
           "load_sms_config", "render"]

REGISTERED = "registered"  # the report was routed to its unit (handover's "routed")
RESOLVED = "resolved"      # the unit said it is resolved (reachback/followup_api.py)
EVENTS = (REGISTERED, RESOLVED)
PLACEHOLDERS = ("reference", "line")
# The longest values the placeholders take when a template's length is checked: the
# longest reference the store makes (and room to grow), a line's number.
_LONGEST = {"reference": "9" * 10, "line": "9" * 15}
# config/reachback.yaml's top-level sections, each loaded by its own module.
SECTIONS = ("sms", "callbacks", "survey")
_KEYS = ("enabled", "kannel_url", "sender", "line", "max_parts", "dlr_url", "smsc",
         "templates")


@dataclass(frozen=True)
class SmsConfig:
    enabled: bool = False
    kannel_url: str = "http://127.0.0.1:13013/cgi-bin/sendsms"
    sender: str = ""
    line: str = ""  # the hotline's number as the caller should see it in the text
    max_parts: int = 2
    # Where Kannel sends delivery reports: the inbound listener's base URL; None: built
    # from `inbound:` (host and port).
    dlr_url: str | None = None
    smsc: str | None = None  # Kannel's smsc-id to send through; None: Kannel routes
    templates: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    username: str = field(default="", repr=False)
    password: str = field(default="", repr=False)

    def template(self, event: str, language: str | None) -> str | None:
        """The wording for `event` in `language`, else in Arabic, else None."""
        texts = self.templates.get(event, {})
        return texts.get(language or "") or texts.get("ar")


def render(template: str, reference: str, line: str) -> str:
    return template.format(reference=reference, line=line)


def _string(doc: YamlDoc, key: tuple[str, ...], value: Any) -> str:
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise doc.error(key, "must be text")
    return str(value)


def _check_template(doc: YamlDoc, key: tuple[str, ...], text: str, max_parts: int) -> None:
    try:
        fields = [(name, spec, conversion) for _, name, spec, conversion
                  in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        raise doc.error(key, f"not a template: {exc} (write a brace as {{{{ or }}}})") \
            from None
    if any(spec or conversion for _, spec, conversion in fields):
        raise doc.error(key, "a placeholder is {reference} or {line}, nothing after its name")
    names = {name for name, _, _ in fields}
    unknown = sorted(names - set(PLACEHOLDERS))
    if unknown:
        raise doc.error(key, f"unknown placeholder {{{unknown[0]}}} (known: "
                             f"{', '.join('{' + p + '}' for p in PLACEHOLDERS)})")
    length = measure(text.format(**_LONGEST))
    if length.parts > max_parts:
        raise doc.error(key, f"{length.units} {length.encoding} characters once filled in: "
                             f"{length.parts} SMS parts, over max_parts {max_parts}")


def _templates(doc: YamlDoc, raw: Any, max_parts: int,
               languages: Iterable[str]) -> dict[str, dict[str, str]]:
    if not isinstance(raw, dict):
        raise doc.error(("sms", "templates"), "must map events to {language: text}")
    known_keys(doc, ("sms", "templates"), raw, EVENTS)
    out: dict[str, dict[str, str]] = {}
    for event, texts in raw.items():
        key = ("sms", "templates", str(event))
        if not isinstance(texts, dict) or not texts:
            raise doc.error(key, "must map languages to a text")
        out[str(event)] = {}
        for language, text in texts.items():
            text_key = (*key, str(language))
            value = _string(doc, text_key, text)
            if not value.strip():
                raise doc.error(text_key, "empty text")
            _check_template(doc, text_key, value, max_parts)
            out[str(event)][str(language)] = value
    for language in languages:
        if language not in out.get(REGISTERED, {}):
            raise doc.error(("sms", "templates", REGISTERED),
                            f"no text in '{language}', a language the menu speaks")
    return out


def load_sms_config(path: Path, secrets: Mapping[str, str],
                    languages: Iterable[str] = ("ar", "en")) -> SmsConfig:
    """The file's `sms:` section (a missing file or section: texts off)."""
    loaded = load_optional_mapping(path, SECTIONS, "an `sms:` section")
    if loaded is None or loaded[1].get("sms") is None:
        return SmsConfig()
    doc, data = loaded
    raw = data["sms"]
    if not isinstance(raw, dict):
        raise doc.error(("sms",), "must be a mapping")
    known_keys(doc, ("sms",), raw, _KEYS)
    enabled = raw.get("enabled", False)
    if not isinstance(enabled, bool):
        raise doc.error(("sms", "enabled"), "must be true or false")
    max_parts = raw.get("max_parts", SmsConfig.max_parts)
    if not isinstance(max_parts, int) or isinstance(max_parts, bool) or not 1 <= max_parts <= 10:
        raise doc.error(("sms", "max_parts"), "must be a whole number from 1 to 10")
    urls = {}
    for name in ("kannel_url", "dlr_url"):
        if raw.get(name) is None:
            continue
        url = _string(doc, ("sms", name), raw[name])
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            raise doc.error(("sms", name), f"not an http(s) URL: {url!r}")
        urls[name] = url
    sender = _string(doc, ("sms", "sender"), raw.get("sender", ""))
    line = _string(doc, ("sms", "line"), raw.get("line", ""))
    if enabled and not (sender and line):
        raise doc.error(("sms",), "sender and line are needed when enabled")
    smsc = raw.get("smsc")
    return SmsConfig(
        enabled=enabled, kannel_url=urls.get("kannel_url", SmsConfig.kannel_url),
        sender=sender, line=line, max_parts=max_parts, dlr_url=urls.get("dlr_url"),
        smsc=None if smsc is None else _string(doc, ("sms", "smsc"), smsc),
        templates=_templates(doc, raw.get("templates", {}), max_parts,
                             languages if enabled else ()),
        username=secrets.get("BALAGH_KANNEL_USERNAME", ""),
        password=secrets.get("BALAGH_KANNEL_PASSWORD", ""))

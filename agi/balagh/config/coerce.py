"""Values of balagh.yaml and the environment made into settings' types, each refusal naming
where the value came from: `file:line: key: problem`, or the environment variable."""

from __future__ import annotations

import ipaddress
from typing import Any

from balagh.config.yamlsrc import ConfigError, YamlDoc

__all__ = ["ENV_OVERRIDES", "database_url", "err", "flag", "loopback", "proxies"]

# Environment overrides: variable -> (section, key). Read last, so they win.
ENV_OVERRIDES: dict[str, tuple[str, str]] = {
    "BALAGH_ARI_ENABLED": ("ari", "enabled"),
    "BALAGH_ARI_URL": ("ari", "url"),
    "BALAGH_ARI_APP": ("ari", "app"),
    "BALAGH_ARI_USERNAME": ("ari", "username"),
    "BALAGH_ARI_PASSWORD": ("ari", "password"),
    "BALAGH_AMI_HOST": ("ami", "host"),
    "BALAGH_AMI_PORT": ("ami", "port"),
    "BALAGH_AMI_USERNAME": ("ami", "username"),
    "BALAGH_AMI_SECRET": ("ami", "secret"),
    "BALAGH_FASTAGI_ENABLED": ("fastagi", "enabled"),
    "BALAGH_FASTAGI_HOST": ("fastagi", "host"),
    "BALAGH_FASTAGI_PORT": ("fastagi", "port"),
    "BALAGH_INBOUND_ENABLED": ("inbound", "enabled"),
    "BALAGH_INBOUND_HOST": ("inbound", "host"),
    "BALAGH_INBOUND_PORT": ("inbound", "port"),
    "BALAGH_CONSOLE_HOST": ("console", "host"),
    "BALAGH_CONSOLE_PORT": ("console", "port"),
    "BALAGH_CONSOLE_SECURE_COOKIES": ("console", "secure_cookies"),
    "BALAGH_CONSOLE_TRUSTED_PROXIES": ("console", "trusted_proxies"),
    "BALAGH_DATA_DIR": ("", "data_dir"),
    "BALAGH_PBX_DIR": ("", "pbx_dir"),
    "BALAGH_IVR_FILE": ("", "ivr_file"),
    "BALAGH_ROUTING_FILE": ("", "routing_file"),
    "BALAGH_SUPERVISORS_FILE": ("", "supervisors_file"),
    "BALAGH_AGENT_LANGUAGE": ("", "agent_language"),
    "BALAGH_WRAPUP_SECONDS": ("", "wrapup_seconds"),
    "BALAGH_HANDOVER_FILE": ("", "handover_file"),
    "BALAGH_REACHBACK_FILE": ("", "reachback_file"),
    "BALAGH_SECRETS_FILE": ("", "secrets_file"),
    "BALAGH_SPOOL_DIR": ("", "spool_dir"),
    "BALAGH_DATABASE_URL": ("", "database_url"),
    "BALAGH_DATABASE_PASSWORD": ("", "database_password"),
    "BALAGH_LOG_CALLER_NUMBERS": ("", "log_caller_numbers"),
    "BALAGH_TIMEZONE": ("", "timezone"),
    "BALAGH_COUNTRY_CODE": ("", "country_code"),
    "BALAGH_METRICS_LISTEN": ("", "metrics_listen"),
}

def proxies(doc: YamlDoc | None, key: tuple[str, ...], value: Any) -> tuple[str, ...]:
    """A YAML list, or a comma-separated string (the environment), of addresses/networks."""
    entries = value.split(",") if isinstance(value, str) else value
    if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
        raise err(doc, key, "must be a list of addresses or networks, e.g. [127.0.0.1]")
    try:
        found = [str(ipaddress.ip_network(e.strip(), strict=False))
                              for e in entries if e.strip()]
    except ValueError as exc:
        raise err(doc, key, f"not an address or network: {exc}") from None
    return tuple(found)


def flag(doc: YamlDoc | None, key: tuple[str, ...], value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0"):
        return False
    raise err(doc, key, f"must be true or false, got {value!r}")


def loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def database_url(doc: YamlDoc | None, value: Any) -> str:
    """postgresql://user@host[:port]/name, with no password in it."""
    text = str(value).strip() if isinstance(value, str) else ""
    scheme, sep, rest = text.partition("://")
    if not sep or scheme not in ("postgresql", "postgres") or not rest:
        raise err(doc, ("database_url",), "must be postgresql://user@host:port/name")
    credentials, at, _ = rest.rpartition("@")
    if at and ":" in credentials:
        raise err(doc, ("database_url",), "holds a password; put it in "
                   "BALAGH_DATABASE_PASSWORD (environment or secrets_file) instead")
    return text


def err(doc: YamlDoc | None, key: tuple[str, ...], message: str) -> ConfigError:
    if doc is None:
        env = next((k for k, v in ENV_OVERRIDES.items() if v == key or v == ("", *key)), "env")
        return ConfigError("environment", None, env, message)
    return doc.error(key, message)

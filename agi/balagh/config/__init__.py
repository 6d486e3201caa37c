"""Service settings: defaults in code < balagh.yaml < environment.

Which balagh.yaml: `--config`, BALAGH_CONFIG, /etc/balagh/balagh.yaml, else the shipped
defaults, read only (lookup.py).

Validated once at start-up. Secrets never live in the YAML: they come from the
environment or from a secret file (the sandbox PBX writes one on install).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from balagh.config.coerce import ENV_OVERRIDES as ENV_OVERRIDES
from balagh.config.coerce import database_url as _database_url
from balagh.config.coerce import err as _err
from balagh.config.coerce import flag as _flag
from balagh.config.coerce import loopback as _loopback
from balagh.config.coerce import proxies as _proxies
from balagh.config.lookup import FROM_SHIPPED, ConfigSource, find_config, inside
from balagh.config.nodes import NodeSettings, parse_nodes
from balagh.config.secrets import SECRET_PREFIX as SECRET_PREFIX
from balagh.config.secrets import read_env_file as read_env_file
from balagh.config.secrets import secret_values as secret_values
from balagh.config.values import (
    country_code_problem,
    ids_problem,
    listen_problem,
    port_problem,
    timezone_problem,
    url_problem,
)
from balagh.config.yamlsrc import ConfigError, YamlDoc, load_yaml

# The shipped config/, dialplan/ and sounds/: in a checkout balagh/shipped/ holds
# symlinks to the top-level folders (resolved, so messages name config/routing.yaml);
# a built wheel carries the folders themselves there as package data.
SHIPPED = Path(__file__).resolve().parents[1] / "shipped"
CONFIG_DIR = (SHIPPED / "config").resolve()
DIALPLAN_DIR = (SHIPPED / "dialplan").resolve()
SOUNDS_DIR = (SHIPPED / "sounds").resolve()
ASTERISK_CONFIG_DIR = CONFIG_DIR / "asterisk"
DEFAULT_CONFIG = CONFIG_DIR / "balagh.yaml"
DEFAULT_TIMEZONE = "Asia/Dubai"


def _home() -> Path:
    return Path(os.environ.get("HOME", "/root"))


def spool_path(database: Path) -> Path:
    """Where the spool of `database` lives by default: beside it, in the data folder."""
    return database.with_name(database.name + ".spool")


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(_home() / ".local" / "share")
    return Path(base) / "balagh"


def default_pbx_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(_home() / ".cache")
    return Path(base) / "balagh" / "sandbox"


@dataclass(frozen=True)
class AriSettings:
    # false: a FastAGI-only site (dialplan-only, FreePBX): `balagh run` never connects to
    # ARI, health checks the FastAGI listener instead (docs/dialplan-sites.md).
    enabled: bool = True
    url: str = "http://127.0.0.1:8088/"
    app: str = "balagh"
    username: str = "balagh"
    password: str = field(default="", repr=False)


@dataclass(frozen=True)
class AmiSettings:
    host: str = "127.0.0.1"
    port: int = 5038
    username: str = "balagh"
    secret: str = field(default="", repr=False)


@dataclass(frozen=True)
class FastAgiSettings:
    """The FastAGI route service for dialplan-only sites (docs/dialplan-sites.md)."""

    enabled: bool = True
    host: str = "127.0.0.1"  # loopback only: the route writes reports and sets variables
    port: int = 4573


@dataclass(frozen=True)
class ConsoleSettings:
    """`balagh console`, the supervisors' web console (docs/operators.md)."""

    host: str = "127.0.0.1"  # loopback: reach it through a TLS reverse proxy
    port: int = 8089
    # Cookies only over HTTPS. Off only for a browser on the same machine speaking plain
    # HTTP to 127.0.0.1 (the tests); behind the TLS proxy it stays on.
    secure_cookies: bool = True
    session_minutes: int = 480      # a session ends this long after its last request
    # Wrong passwords from one address for one user name within lockout_minutes before
    # that address (only) is refused for the rest of the window.
    lockout_attempts: int = 5
    lockout_minutes: int = 15
    # Addresses or networks of the reverse proxies whose X-Forwarded-For names the client
    # (audit, login throttle). Empty: the header is ignored, the peer is the client.
    trusted_proxies: tuple[str, ...] = ()
    max_body_bytes: int = 16384     # any request body (the console posts only small forms)
    max_connections: int = 100      # open connections (event streams included); then 503
    # An agent's after-call form: the dispositions offered (ids; words in texts.py), the
    # note's length, and the reasons an agent may give for a pause (AMI QueuePause).
    dispositions: tuple[str, ...] = ("genuine", "silent", "prank", "testing", "abusive",
                                     "wrong-number", "information")
    note_max_chars: int = 500
    pause_reasons: tuple[str, ...] = ("break", "wrap-up", "training", "meeting")


@dataclass(frozen=True)
class InboundSettings:
    """`balagh run`'s HTTP listener for what other systems send the app (Kannel's delivery
    reports, the units' follow-up). Off until a feature that needs it is configured."""

    enabled: bool = False
    host: str = "127.0.0.1"  # loopback: put a TLS reverse proxy in front for the units
    port: int = 8096
    max_body_bytes: int = 65536   # any larger request body is refused (413) unread
    max_connections: int = 64
    request_seconds: int = 10     # a request still unanswered after this is cut (503)


@dataclass(frozen=True)
class Settings:
    ari: AriSettings = AriSettings()
    ami: AmiSettings = AmiSettings()
    fastagi: FastAgiSettings = FastAgiSettings()
    console: ConsoleSettings = ConsoleSettings()
    inbound: InboundSettings = InboundSettings()
    data_dir: Path = field(default_factory=default_data_dir)
    pbx_dir: Path = field(default_factory=default_pbx_dir)
    ivr_file: Path = CONFIG_DIR / "ivr.yaml"
    routing_file: Path = CONFIG_DIR / "routing.yaml"
    supervisors_file: Path = CONFIG_DIR / "supervisors.yaml"
    handover_file: Path = CONFIG_DIR / "handover.yaml"
    # Texts to callers who said it is safe (reachback/sms_config.py); `sms.enabled` false
    # there (the shipped default): nothing is ever texted.
    reachback_file: Path = CONFIG_DIR / "reachback.yaml"
    sounds_dir: Path = SOUNDS_DIR
    hotline: str = "800700"
    agent_language: str = "ar"  # the language agents hear the report's whisper in
    # The Balagh queues' wrapuptime in queues.conf (AMI does not say it): an agent's
    # wrap-up after each call, for the wallboard and the per-agent figures.
    wrapup_seconds: int = 0
    secrets_file: Path | None = None
    # Where writes wait while SQLite cannot take them; on another filesystem than the
    # data folder, it also outlives a full disk. Default: beside the database.
    spool_dir: Path | None = None
    # The reports on a PostgreSQL server (postgresql://user@host:port/name) instead of
    # SQLite in data_dir; None (the default): SQLite, no server needed. The password is
    # BALAGH_DATABASE_PASSWORD (environment or secrets file), never in the URL or YAML.
    database_url: str | None = None
    database_password: str = field(default="", repr=False)
    # Callers' numbers in log lines: "masked" (+9715****4567) unless a site must log
    # them whole ("full"); the database keeps them either way, until retention.
    log_caller_numbers: str = "masked"
    # The settings file read, and why it was the one (never set from YAML).
    source: ConfigSource = field(
        default_factory=lambda: ConfigSource(DEFAULT_CONFIG, FROM_SHIPPED))
    # The hotline's time zone: times are stored in UTC and shown, and days counted, in it;
    # routing's clock rules use it too. None: routing.yaml's `timezone`, else Asia/Dubai
    # (hotline_zone()).
    timezone: str | None = None
    # The country a national number (0501234567) belongs to: +971501234567.
    country_code: str = "971"
    # `balagh run`'s Prometheus endpoint, host:port on loopback ("" = off; metrics/).
    metrics_listen: str = ""
    # The Asterisk nodes the console, health and monitor see (config/nodes.py); empty:
    # the one box that `ari` and `ami` name.
    nodes: tuple[NodeSettings, ...] = ()

    @property
    def zone(self) -> ZoneInfo:
        """The hotline's time zone, for showing times and counting days."""
        return ZoneInfo(self.timezone or DEFAULT_TIMEZONE)

    @property
    def database(self) -> Path:
        return self.data_dir / "balagh.sqlite3"

    @property
    def spool_file(self) -> Path:
        # A server's spool has a name of its own: never replayed into the other engine.
        spooled = (spool_path(self.database) if self.database_url is None
                   else self.data_dir / "balagh-postgresql.spool")
        return spooled if self.spool_dir is None else self.spool_dir / spooled.name

    @property
    def console_database(self) -> Path:
        """The console's own users, sessions and login audit (never the report store)."""
        return self.data_dir / "console.sqlite3"

    @property
    def pid_file(self) -> Path:
        """Written by `balagh run`; `balagh routes reload` signals that process."""
        return self.data_dir / "balagh.pid"

    @property
    def reload_request(self) -> Path:
        """`balagh routes reload` notes who asked here before sending SIGHUP."""
        return self.data_dir / "reload-request"

    @property
    def sandbox_secrets(self) -> Path:
        return self.pbx_dir / "secrets.env"

    @property
    def locations_file(self) -> Path:
        """Number prefixes -> emirate: beside the routing table it serves."""
        return self.routing_file.parent / "locations.yaml"



@dataclass(frozen=True)
class Node:
    """One Asterisk node as the tools reach it: its name ('' for a one-box site) and its
    ARI and AMI settings, the site's credentials included (config/nodes.py)."""

    name: str
    ari: AriSettings
    ami: AmiSettings


def nodes_of(settings: Settings) -> list[Node]:
    """Every node the tools look at: the configured ones, else the one box (named '')."""
    if not settings.nodes:
        return [Node("", settings.ari, settings.ami)]
    return [Node(node.name, replace(settings.ari, url=node.ari_url),
                 replace(settings.ami, host=node.ami_host, port=node.ami_port))
            for node in settings.nodes]


def is_shipped(path: Path) -> bool:
    """Whether `path` is one of the shipped files inside the installed package, which
    nothing may write (an upgrade replaces the package and would lose the change)."""
    return inside(path, SHIPPED) or inside(path, CONFIG_DIR)

MAX_WRAPUP_SECONDS = 3600  # an hour of wrap-up after every call is a typo, not a policy

_SECTIONS = {"ari": AriSettings, "ami": AmiSettings, "fastagi": FastAgiSettings,
             "console": ConsoleSettings, "inbound": InboundSettings}
_PATH_KEYS = {"data_dir", "pbx_dir", "ivr_file", "routing_file", "supervisors_file",
              "handover_file", "reachback_file", "sounds_dir", "secrets_file", "spool_dir"}
_SECRET_KEYS = {("ari", "password"), ("ami", "secret")}
_CHOICES = {"log_caller_numbers": ("masked", "full")}


def _coerce(doc: YamlDoc | None, key: tuple[str, ...], default: Any, value: Any) -> Any:
    name = key[-1]
    if name in _PATH_KEYS:
        if not isinstance(value, str):
            raise _err(doc, key, "must be a path")
        path = Path(value).expanduser()
        if doc is not None and not path.is_absolute():
            path = doc.path.resolve().parent / path
        return path
    if isinstance(default, bool):
        return _flag(doc, key, value)
    if key == ("console", "trusted_proxies"):
        return _proxies(doc, key, value)
    if key in (("console", "dispositions"), ("console", "pause_reasons")):  # ids: texts.py's
        entries = value.split(",") if isinstance(value, str) else value
        if (problem := ids_problem(entries)) is not None:
            raise _err(doc, key, problem)
        return tuple(e.strip() for e in entries if e.strip())
    if isinstance(default, int):
        try:
            whole = int(value)
        except (TypeError, ValueError, OverflowError):
            raise _err(doc, key, f"must be a whole number, got {value!r}") from None
        if name == "port" and (problem := port_problem(whole)):
            raise _err(doc, key, problem)
        if key == ("wrapup_seconds",) and not 0 <= whole <= MAX_WRAPUP_SECONDS:
            raise _err(doc, key, f"must be from 0 to {MAX_WRAPUP_SECONDS} seconds, got {whole}")
        return whole
    if not isinstance(value, str | int | float):
        raise _err(doc, key, f"must be a string, got {type(value).__name__}")
    if name == "url" and (problem := url_problem(value, ("http", "https"))):
        raise _err(doc, key, problem)
    if key == ("fastagi", "host") and not _loopback(str(value)):
        raise _err(doc, key, f"must be a loopback address (127.0.0.1, ::1), got {value!r}: "
                   "the route service writes reports and sets channel variables for anyone "
                   "who can reach it")
    if key == ("timezone",) and (problem := timezone_problem(value)):
        raise _err(doc, key, problem)
    if key == ("metrics_listen",) and (problem := listen_problem(str(value))):
        raise _err(doc, key, problem)
    if key == ("country_code",) and (problem := country_code_problem(str(value))):
        raise _err(doc, key, problem)
    if name in _CHOICES and str(value) not in _CHOICES[name]:
        raise _err(doc, key, f"must be one of {', '.join(_CHOICES[name])}, got {value!r}")
    return str(value)


def _apply(settings: Settings, section: str, key: str, value: Any,
           doc: YamlDoc | None) -> Settings:
    if section:
        current = getattr(settings, section)
        if key not in current.__dataclass_fields__:
            known = ", ".join(current.__dataclass_fields__)
            raise _err(doc, (section, key), f"unknown key (known: {known})")
        if doc is not None and (section, key) in _SECRET_KEYS:
            raise _err(doc, (section, key), "secrets do not belong in YAML; set "
                       f"BALAGH_{section.upper()}_{key.upper()} or a secrets_file")
        new = replace(current, **{key: _coerce(doc, (section, key), getattr(current, key), value)})
        return replace(settings, **{section: new})
    if key not in Settings.__dataclass_fields__ or key in _SECTIONS or key == "source":
        raise _err(doc, (key,), "unknown key")
    if doc is not None and key == "database_password":
        raise _err(doc, (key,), "secrets do not belong in YAML; set BALAGH_DATABASE_PASSWORD "
                   "or a secrets_file")
    if key == "database_url":
        return replace(settings, database_url=_database_url(doc, value))
    if key == "nodes":
        return replace(settings, nodes=parse_nodes(doc, value))
    default = getattr(settings, key)
    return replace(settings, **{key: _coerce(doc, (key,), default, value)})


def load_settings(path: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Build Settings from defaults, the YAML file (found in the lookup order: `path`
    from --config, BALAGH_CONFIG, /etc/balagh, the shipped one) and the environment."""
    environ = dict(os.environ if environ is None else environ)
    source = find_config(path, environ, DEFAULT_CONFIG)
    settings = Settings(source=source)
    path = source.path
    if source.explicit and path.is_dir():
        raise ConfigError(path, None, source.origin, "is a folder; name the balagh.yaml in it")
    if path.exists() or source.explicit:
        doc = load_yaml(path)
        data = doc.data or {}
        if not isinstance(data, dict):
            raise doc.error((), "top level must be a mapping")
        for key, value in data.items():
            if key in _SECTIONS:
                if not isinstance(value, dict):
                    raise doc.error((key,), "must be a mapping")
                for sub, subvalue in value.items():
                    settings = _apply(settings, key, str(sub), subvalue, doc)
            else:
                settings = _apply(settings, "", str(key), value, doc)
    for var, (section, key) in ENV_OVERRIDES.items():
        if var in environ and environ[var] != "":
            settings = _apply(settings, section, key, environ[var], None)
    if not settings.ari.enabled and not settings.fastagi.enabled:
        raise ConfigError(path, None, "ari.enabled", "ARI and FastAGI are both disabled: "
                          "nothing would route a caller; enable one of them")
    return _with_secrets(_with_routing_zone(settings), environ)


def _with_routing_zone(settings: Settings) -> Settings:
    """No `timezone` set: the one routing.yaml names, so the clock rules and every time
    shown agree (a routing.yaml that disagrees with a set one is refused by its loader)."""
    if settings.timezone is not None:
        return settings
    try:
        data = load_yaml(settings.routing_file).data
    except (ConfigError, OSError):
        return settings  # routing's own loader says what is wrong with the file
    named = data.get("timezone") if isinstance(data, dict) else None
    if isinstance(named, str) and timezone_problem(named) is None:
        return replace(settings, timezone=named)
    return settings


def _with_secrets(settings: Settings, environ: dict[str, str]) -> Settings:
    """Fill passwords not given in the environment from the secret file."""
    files = [settings.secrets_file] if settings.secrets_file else []
    files.append(settings.sandbox_secrets)
    for secret_file in files:
        values = read_env_file(secret_file)
        if not settings.ari.password and values.get("BALAGH_ARI_PASSWORD"):
            settings = replace(settings, ari=replace(settings.ari,
                                                     password=values["BALAGH_ARI_PASSWORD"]))
        if not settings.database_password and values.get("BALAGH_DATABASE_PASSWORD"):
            settings = replace(settings, database_password=values["BALAGH_DATABASE_PASSWORD"])
        if not settings.ami.secret and values.get("BALAGH_AMI_SECRET"):
            settings = replace(settings, ami=replace(settings.ami,
                                                     secret=values["BALAGH_AMI_SECRET"]))
    return settings

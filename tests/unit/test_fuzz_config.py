"""Issue 14: every shipped config file, broken on purpose, through its real loader.

A broken file must give a clean load or a ConfigError whose message is one line starting
with the file's path; never another exception, never more than CASE_SECONDS or
CASE_BYTES of memory. Hypothesis mutates the shipped files (config_mutations.KINDS);
the fixed cases below are the bad inputs the review found, each reproduced.
"""

from __future__ import annotations

import signal
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from balagh.config import load_settings
from balagh.config.yamlsrc import ConfigError
from balagh.handover.load import load_handover
from balagh.ivr.menu import load_menu
from balagh.reachback.sms_config import load_sms_config
from balagh.routing.load import load_locations, load_table
from balagh.sounds.catalogue import load_catalogue
from balagh.supervise.load import load_supervisors
from balagh.supervise.pins import hash_pin

from .config_mutations import KINDS, mutated

ROOT = Path(__file__).resolve().parents[2]
CASE_SECONDS = 5
CASE_BYTES = 200 * 1024 * 1024
EXAMPLES = 40  # per file: 7 files x 40 stay well under a minute on one core

MENU = load_menu(ROOT / "config" / "ivr.yaml")
ANSWERS = MENU.answer_values()
QUEUES = load_table(ROOT / "config" / "routing.yaml", ANSWERS).queues


class AnySecret(dict[str, str]):
    """Every BALAGH_SECRET_<NAME> has a value: the fuzz is about the file, not the env."""

    def get(self, key: str, default: Any = None) -> str:  # type: ignore[override]
        return "fuzz-secret"


LOADERS: dict[str, Callable[[Path], object]] = {
    "config/routing.yaml": lambda path: load_table(path, ANSWERS),
    "config/ivr.yaml": load_menu,
    "config/locations.yaml": lambda path: load_locations(path, ANSWERS.get("emirate")),
    "config/supervisors.yaml": lambda path: load_supervisors(path, frozenset(QUEUES)),
    "config/handover.yaml": lambda path: load_handover(path, frozenset(QUEUES), AnySecret()),
    "config/balagh.yaml": lambda path: load_settings(path, environ={}),
    "sounds/prompts.yaml": load_catalogue,
    "config/reachback.yaml": lambda path: load_sms_config(path, {}),
}


class CaseTooSlow(Exception):
    pass


@contextmanager
def bounded(what: str) -> Iterator[None]:
    """At most CASE_SECONDS (SIGALRM) and CASE_BYTES of Python allocations."""
    def too_slow(_signum: int, _frame: object) -> None:
        raise CaseTooSlow(f"{what}: more than {CASE_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.setitimer(signal.ITIMER_REAL, CASE_SECONDS)
    tracemalloc.start()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < CASE_BYTES, f"{what}: {peak / 1e6:.0f} MB"


def load_broken(name: str, data: bytes, folder: Path, what: str) -> ConfigError | None:
    """Load `data` as `name` (same file name, own folder); the ConfigError if refused."""
    path = folder / Path(name).name
    path.write_bytes(data)
    try:
        with bounded(what):
            LOADERS[name](path)
    except ConfigError as exc:
        text = str(exc)
        assert len(text.splitlines()) == 1, f"{what}: not one line: {text!r}"
        assert text.startswith(str(path)), f"{what}: does not name the file: {text!r}"
        return exc
    return None


def test_every_shipped_file_has_a_loader_and_loads():
    shipped = {str(p.relative_to(ROOT)) for p in (ROOT / "config").glob("*.yaml")}
    assert shipped | {"sounds/prompts.yaml"} == set(LOADERS)
    for name, load in LOADERS.items():
        load(ROOT / name)


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_mutated_files_fail_in_one_line_or_load(name, tmp_path_factory):
    original = (ROOT / name).read_bytes()
    folder = tmp_path_factory.mktemp("fuzz")

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(case=mutated(original))
    def broken(case: tuple[tuple[str, ...], bytes]) -> None:
        kinds, data = case
        load_broken(name, data, folder, f"{name} after {'+'.join(kinds)}")

    broken()


# -- the review's bad inputs, each a fixed case ------------------------------------

BILLION_LAUGHS = (b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
                  b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c]\n"
                  b"e: &e [*d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e]\n"
                  b"g: [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n")

EVERY_FILE: dict[str, bytes] = {
    "binary garbage": bytes(range(256)) * 4,
    "invalid UTF-8": b"queues:\n  - gen\xff\xfeeral\n",
    "deep nesting": b"a: " + b"[" * 50_000 + b"]" * 50_000 + b"\n",
    "recursive alias": b"a: &a [*a]\nb: *a\n",
    "alias bomb": BILLION_LAUGHS,
    "over 1 MB": b"# " + b"x" * 1_100_000 + b"\n",
    "python tag": b"a: !!python/object/apply:os.system ['true']\n",
    "top level list": b"- a\n- b\n",
    "NUL": b"a: b\x00\n",
}


@pytest.mark.parametrize("name", sorted(LOADERS))
@pytest.mark.parametrize("kind", sorted(EVERY_FILE))
def test_every_file_refuses_each_bad_kind_in_one_line(name, kind, tmp_path):
    error = load_broken(name, EVERY_FILE[kind], tmp_path, f"{name}: {kind}")
    if kind != "top level list" or name != "sounds/prompts.yaml":
        assert error is not None, f"{name}: {kind} was accepted"


def shipped_with(name: str, old: str, new: str) -> bytes:
    text = (ROOT / name).read_text(encoding="utf-8")
    assert old in text, f"{name} no longer holds {old!r}"
    return text.replace(old, new, 1).encode()


PIN_HASH = hash_pin("2580")
QUEUE_NAMES = ("Child-Protection", "1st", "x", "child_protection", "child.protection")
ROUTING_QUEUES = "  - child-protection\n"


@pytest.mark.parametrize("queue", QUEUE_NAMES)
def test_queue_names_the_dialplan_cannot_match_are_refused_everywhere(queue, tmp_path):
    routing = shipped_with("config/routing.yaml", ROUTING_QUEUES, f"  - {queue}\n")
    error = load_broken("config/routing.yaml", routing, tmp_path, f"routing: {queue}")
    assert error is not None and "lowercase letter" in error.message
    handover = f"endpoints:\n  {queue}:\n    - {{url: 'https://unit.example/h', secret: U}}\n"
    error = load_broken("config/handover.yaml", handover.encode(), tmp_path, "handover")
    assert error is not None and "lowercase letter" in error.message
    supervisors = (f"supervisors:\n  - {{name: amal, phones: ['201'], queues: [{queue}],\n"
                   f"     pin: '{PIN_HASH}'}}\n")
    error = load_broken("config/supervisors.yaml", supervisors.encode(), tmp_path, "sup")
    assert error is not None and "lowercase letter" in error.message


URL = "url: http://127.0.0.1:8088/"


@pytest.mark.parametrize(("name", "old", "new", "says"), [
    ("config/ivr.yaml", "attempts: 3", "attempts: 1000000000", "from 1 to 10"),
    ("config/ivr.yaml", "attempts: 3", "attempts: 0", "from 1 to 10"),
    ("config/routing.yaml", "wait: 90", "wait: 12345678901234567890123", "at most 86400"),
    ("config/routing.yaml", "in_danger: 10", "in_danger: 99999999999999", "from -1000000"),
    ("config/balagh.yaml", "port: 5038", "port: 99999999", "1 to 65535"),
    ("config/balagh.yaml", "port: 5038", "port: -1", "1 to 65535"),
    ("config/balagh.yaml", "port: 5038", "port: .inf", "whole number"),
    ("config/balagh.yaml", URL, "url: 'not a url'", "URL"),
    ("config/balagh.yaml", URL, "url: 'http://[::1'", "URL"),
    ("config/balagh.yaml", URL, "url: 'http://127.0.0.1:99999/'", "URL"),
])
def test_numbers_ports_and_urls_out_of_bounds(name, old, new, says, tmp_path):
    error = load_broken(name, shipped_with(name, old, new), tmp_path, f"{name}: {new}")
    assert error is not None and says in error.message, error


@pytest.mark.parametrize("url", ["not a url", "ftp://unit.example/h", "https://",
                                 "http://[::1", "https://unit.example:0/h",
                                 "https://unit.example:99999/h"])
def test_handover_urls_are_checked(url, tmp_path):
    handover = f"endpoints:\n  general:\n    - {{url: '{url}', secret: UNIT}}\n"
    error = load_broken("config/handover.yaml", handover.encode(), tmp_path, url)
    assert error is not None and error.key == "endpoints.general[0].url"


def test_queues_conf_names_follow_the_same_rule(tmp_path):
    from balagh.ivr.check import served_queues

    conf = tmp_path / "queues.conf"
    conf.write_text("[general]\n[balagh-general]\n[balagh-Child-Protection](balagh-queue)\n")
    with pytest.raises(ConfigError) as caught:
        served_queues(conf)
    assert str(caught.value).startswith(f"{conf}:3: balagh-Child-Protection: a queue name")
    assert served_queues(ROOT / "config" / "asterisk" / "queues.conf") >= set(QUEUES)
    with pytest.raises(ConfigError, match="cannot read"):
        served_queues(tmp_path / "missing.conf")


def test_the_mutation_kinds_are_all_used():
    """The closing note counts these; a kind dropped by mistake shows here."""
    assert sorted(KINDS) == ["aliases", "delete_line", "duplicate_line", "flip_bytes",
                             "huge_number", "random_key", "swap_value", "truncate",
                             "uncomment", "unicode"]


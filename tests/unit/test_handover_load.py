"""config/handover.yaml: good fixtures load, bad ones fail at file:line: key; secrets by name."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from balagh.config import CONFIG_DIR, Settings, load_settings, secret_values
from balagh.config.yamlsrc import ConfigError
from balagh.handover.agents import Accept, QueueAgents
from balagh.handover.load import Endpoint, HandoverConfig, load_handover

from .shipped import FIXTURES as SHARED_FIXTURES

FIXTURES = SHARED_FIXTURES / "handover"
BAD = sorted((FIXTURES / "bad").glob("*.yaml"))
QUEUES = frozenset({"child-protection", "women-protection", "general"})
SECRETS = {
    "BALAGH_SECRET_CHILD_UNIT_HOOK": "child-key",
    "BALAGH_SECRET_MIRROR_HOOK": "mirror-key",
    "BALAGH_SECRET_WOMEN_UNIT_HOOK": "women-key",
    "BALAGH_SECRET_DUTY_DESK_HOOK": "duty-key",
}
ALL_EVENTS = frozenset({"routed", "answered", "abandoned", "ended"})


def expected_error(path: Path) -> dict[str, str]:
    return dict(re.findall(r"^# expect-(line|key|message):[ ]?(.*)$", path.read_text(), re.M))


def test_good_fixture() -> None:
    config = load_handover(FIXTURES / "good" / "two-units.yaml", QUEUES, SECRETS)
    child = config.endpoints_for("child-protection")
    assert [e.url for e in child] == ["https://case-system.example/balagh/reports",
                                      "http://127.0.0.1:8099/mirror",
                                      "https://duty-desk.example/hotline"]
    assert child[0] == Endpoint("https://case-system.example/balagh/reports", "child-key",
                                ALL_EVENTS)
    assert child[1].events == {"answered"} and child[2].events == {"abandoned"}
    women = config.endpoints_for("women-protection")
    assert [(e.secret, e.events) for e in women] == [("women-key", ALL_EVENTS),
                                                     ("duty-key", {"abandoned"})]
    # A queue without its own endpoints still reaches those for every queue.
    assert [e.url for e in config.endpoints_for("general")] == [
        "https://duty-desk.example/hotline"]
    assert config.endpoints_for("*") == config.endpoints_for("general")
    assert config.endpoint("http://127.0.0.1:8099/mirror") == child[1]
    assert config.endpoint("https://nowhere.example/") is None


def test_secret_values_never_show_in_a_repr() -> None:
    config = load_handover(FIXTURES / "good" / "two-units.yaml", QUEUES, SECRETS)
    text = repr(config)
    assert "case-system.example" in text
    assert not any(value in text for value in SECRETS.values())


@pytest.mark.parametrize("name", ["empty.yaml", "blank.yaml", "no-such-file.yaml"])
def test_no_endpoints(name: str) -> None:
    config = load_handover(FIXTURES / "good" / name, QUEUES, {})
    assert config.endpoints_for("child-protection") == []
    assert config.source == FIXTURES / "good" / name


def test_the_shipped_file_has_no_endpoints() -> None:
    config = load_handover(CONFIG_DIR / "handover.yaml", QUEUES, {})
    assert config == HandoverConfig({}, CONFIG_DIR / "handover.yaml")
    assert Settings().handover_file == CONFIG_DIR / "handover.yaml"
    assert load_settings(environ={}).handover_file == CONFIG_DIR / "handover.yaml"


def test_the_setting_comes_from_the_environment(tmp_path: Path) -> None:
    settings = load_settings(environ={"BALAGH_HANDOVER_FILE": str(tmp_path / "h.yaml")})
    assert settings.handover_file == tmp_path / "h.yaml"


def test_secrets_from_the_secrets_file_and_the_environment(tmp_path: Path) -> None:
    secrets_file = tmp_path / "secrets.env"
    secrets_file.write_text("BALAGH_SECRET_CHILD_UNIT_HOOK=from-file\n"
                            "BALAGH_SECRET_MIRROR_HOOK=from-file\n")
    settings = replace(Settings(), secrets_file=secrets_file)
    values = secret_values(settings, {**SECRETS, "BALAGH_SECRET_CHILD_UNIT_HOOK": "from-env"})
    config = load_handover(FIXTURES / "good" / "two-units.yaml", QUEUES, values)
    secrets = [e.secret for e in config.endpoints_for("child-protection")]
    assert secrets == ["from-env", "mirror-key", "duty-key"]  # the environment wins
    values = secret_values(settings, {"BALAGH_SECRET_WOMEN_UNIT_HOOK": "w",
                                      "BALAGH_SECRET_DUTY_DESK_HOOK": "d"})
    config = load_handover(FIXTURES / "good" / "two-units.yaml", QUEUES, values)
    assert [e.secret for e in config.endpoints_for("child-protection")] == [
        "from-file", "from-file", "d"]


def test_secrets_default_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    config = load_handover(FIXTURES / "good" / "two-units.yaml", QUEUES)
    assert config.endpoints_for("women-protection")[0].secret == "women-key"


@pytest.mark.parametrize("path", BAD, ids=lambda path: path.stem)
def test_bad_fixture_fails_at_its_line(path: Path) -> None:
    expected = expected_error(path)
    assert set(expected) == {"line", "key", "message"}, f"{path.name}: header incomplete"
    with pytest.raises(ConfigError) as caught:
        load_handover(path, QUEUES, SECRETS)
    error = caught.value
    assert (error.line, error.key) == (int(expected["line"]), expected["key"])
    assert expected["message"] in error.message
    assert str(error).startswith(f"{path}:{expected['line']}: ")
    assert not any(value in str(error) for value in SECRETS.values())


def test_queues_are_only_checked_when_known() -> None:
    config = load_handover(FIXTURES / "bad" / "unknown-queue.yaml", None, SECRETS)
    assert len(config.endpoints_for("child-protecton")) == 1


def test_fixture_set_is_not_empty() -> None:
    assert len(BAD) >= 10


def test_agents_per_queue() -> None:
    config = load_handover(FIXTURES / "good" / "agents.yaml", QUEUES, SECRETS)
    assert config.endpoints == {}
    assert config.agents == {
        "women-protection": QueueAgents(language="en", accept=Accept(key="1", seconds=8)),
        "child-protection": QueueAgents(language=None, accept=Accept(key="5", seconds=10),
                                        screen=True),
    }


@pytest.mark.parametrize("url", ["http://127.0.0.1:8099/in", "http://127.9.9.9/in",
                                 "http://[::1]:8080/in", "http://localhost/in",
                                 "http://LOCALHOST:81/in", "https://10.0.0.1/in",
                                 "https://case-system.example/in"])
def test_plain_http_only_to_this_machine(tmp_path: Path, url: str) -> None:
    path = tmp_path / "handover.yaml"
    path.write_text(f"endpoints:\n  general:\n    - url: {url}\n      secret: DUTY_DESK_HOOK\n")
    [endpoint] = load_handover(path, QUEUES, SECRETS).endpoints["general"]
    assert endpoint.url == url


@pytest.mark.parametrize("url", ["http://10.0.0.1/in", "http://case-system.example/in",
                                 "http://localhost.example/in", "http://[::2]/in",
                                 "http://0.0.0.0/in", "http://127.0.0.1.nip.io/in"])
def test_plain_http_elsewhere_is_refused_at_its_line(tmp_path: Path, url: str) -> None:
    path = tmp_path / "handover.yaml"
    path.write_text("endpoints:\n  general:\n"
                    f"    - secret: DUTY_DESK_HOOK\n      url: {url}\n")
    with pytest.raises(ConfigError) as caught:
        load_handover(path, QUEUES, SECRETS)
    assert (caught.value.line, caught.value.key) == (4, "endpoints.general[0].url")
    assert str(caught.value).startswith(f"{path}:4: endpoints.general[0].url: must be https://")

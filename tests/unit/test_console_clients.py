"""The audit names the direct peer, unless that peer is a trusted proxy
(console.trusted_proxies): then the address the proxy forwarded."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from balagh.config import ConfigError, Settings, load_settings
from balagh.console.accounts import Accounts
from balagh.console.clients import client_address, networks, throttle_key
from balagh.console.web import create_app
from balagh.supervise.load import save_supervisors

from .test_console import PASSWORD, TABLE, StillFeed, TestClient

PROXY = ("10.0.0.5", 40000)
STRANGER = ("203.0.113.9", 40000)


def test_forwarded_for_counts_only_from_a_trusted_proxy() -> None:
    trusted = networks(["10.0.0.0/24", "::1"])
    assert client_address("203.0.113.9", "6.6.6.6", trusted) == "203.0.113.9"
    assert client_address("10.0.0.5", "198.51.100.7", trusted) == "198.51.100.7"
    # what the client wrote itself comes before the hop the proxy added
    assert client_address("10.0.0.5", "6.6.6.6, 198.51.100.7", trusted) == "198.51.100.7"
    assert client_address("10.0.0.5", "198.51.100.7, 10.0.0.9", trusted) == "198.51.100.7"
    assert client_address("10.0.0.5", "<script>", trusted) == "10.0.0.5"
    assert client_address("10.0.0.5", None, trusted) == "10.0.0.5"
    assert client_address("10.0.0.5", "198.51.100.7", ()) == "10.0.0.5"


def test_ipv6_clients_are_counted_by_their_slash_64() -> None:
    assert throttle_key("2001:db8:1:2::5") == throttle_key("2001:db8:1:2:ffff::9")
    assert throttle_key("2001:db8:1:3::5") != throttle_key("2001:db8:1:2::5")
    assert throttle_key("198.51.100.7") == "198.51.100.7" and throttle_key(None) == ""


def _client(tmp_path: Path, trusted: tuple[str, ...],
            peer: tuple[str, int]) -> tuple[TestClient, Accounts]:
    save_supervisors(TABLE, tmp_path / "supervisors.yaml")
    settings = Settings(data_dir=tmp_path, supervisors_file=tmp_path / "supervisors.yaml")
    settings = replace(settings, console=replace(settings.console, trusted_proxies=trusted))
    accounts = Accounts(settings.console_database)
    accounts.add("amina", PASSWORD, "supervisor", "Amina")
    app = create_app(settings, accounts=accounts, feed=StillFeed(settings))
    return TestClient(app, base_url="https://testserver", client=peer), accounts


def _login(client: TestClient, forwarded: str) -> None:
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert token
    client.post("/login", data={"csrf": token.group(1), "name": "amina", "password": "wrong"},
                headers={"X-Forwarded-For": forwarded})


def test_a_direct_client_cannot_write_another_address_into_the_audit(tmp_path: Path) -> None:
    client, accounts = _client(tmp_path, (), STRANGER)
    _login(client, "6.6.6.6")
    row = accounts.audit_rows(user="amina")[0]
    assert (row.action, row.remote) == ("login-failed", "203.0.113.9")


def test_behind_a_trusted_proxy_the_audit_names_the_forwarded_client(tmp_path: Path) -> None:
    client, accounts = _client(tmp_path, ("10.0.0.0/24",), PROXY)
    _login(client, "198.51.100.7")
    assert accounts.audit_rows(user="amina")[0].remote == "198.51.100.7"


def test_trusted_proxies_are_read_and_checked(tmp_path: Path) -> None:
    config = tmp_path / "balagh.yaml"
    config.write_text("console:\n  trusted_proxies: [127.0.0.1, 10.0.0.0/8]\n")
    assert load_settings(config, {}).console.trusted_proxies == ("127.0.0.1/32", "10.0.0.0/8")
    assert load_settings(config, {"BALAGH_CONSOLE_TRUSTED_PROXIES": "::1, 192.0.2.1"}
                         ).console.trusted_proxies == ("::1/128", "192.0.2.1/32")
    assert load_settings(None, {}).console.trusted_proxies == ()  # the shipped default
    config.write_text("console:\n  trusted_proxies: [proxy.example]\n")
    with pytest.raises(ConfigError, match="trusted_proxies"):
        load_settings(config, {})

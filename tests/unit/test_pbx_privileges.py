"""Issue 14: the shipped PBX users have only what Balagh uses, and everything binds to
loopback. Static checks of config/asterisk/*.conf; the e2e suite checks the live PBX."""

from __future__ import annotations

import re

from balagh.pbx.test_user import MANAGER_SECTION

from .shipped import REPO

ASTERISK = REPO / "config" / "asterisk"
# The classes that let each AMI action run (any one of them; none: every user may).
# From Asterisk's manager.c and app_queue.c. An action added to the code must be added
# here, which makes someone decide whether the app's user may send it.
ACTION_CLASSES = {
    "Originate": {"originate"},
    "Getvar": {"call", "reporting"},
    "CoreShowChannels": {"system", "reporting"},
    "QueueSummary": set(),
    "QueueStatus": set(),  # the console's wallboard (app_queue registers it with no class)
}
NEVER = {"system", "config", "command"}


def section(text: str, name: str) -> dict[str, str]:
    """key = value lines of the [name] section (the first, if it appears twice)."""
    body = text.split(f"[{name}]", 1)[1].split("\n[", 1)[0]
    values = {}
    for line in body.splitlines():
        key, sep, value = line.split(";", 1)[0].partition("=")
        if sep:
            values[key.strip()] = value.strip()
    return values


def classes(value: str) -> set[str]:
    return {item.strip() for item in value.split(",") if item.strip()}


def test_the_apps_ami_user_can_send_every_action_balagh_sends_and_no_more():
    user = section((ASTERISK / "manager.conf").read_text(), "balagh")
    write, read = classes(user["write"]), classes(user["read"])
    assert not (write | read) & NEVER
    sent = set()
    for path in (REPO / "agi" / "balagh").rglob("*.py"):
        sent.update(re.findall(r'"Action": "(\w+)"', path.read_text(encoding="utf-8")))
    assert sent <= set(ACTION_CLASSES), f"decide the class of {sent - set(ACTION_CLASSES)}"
    for action in sent:
        needed = ACTION_CLASSES[action]
        assert not needed or needed & write, f"{action} needs one of {needed}"
    assert read == {"call", "agent", "user"}
    assert user["permit"].startswith("127.0.0.1/")


def test_the_tests_user_is_the_sandboxs_only_and_still_has_no_shell():
    assert "[balagh-test]" not in (ASTERISK / "manager.conf").read_text()
    user = section(MANAGER_SECTION, "balagh-test")
    assert "system" in classes(user["write"])  # DBPut/DBDel for the e2e fixtures
    assert not (classes(user["write"]) | classes(user["read"])) & {"config", "command"}


def test_every_listener_binds_loopback():
    assert section((ASTERISK / "manager.conf").read_text(), "general")["bindaddr"] == "127.0.0.1"
    assert section((ASTERISK / "http.conf").read_text(), "general")["bindaddr"] == "127.0.0.1"
    pjsip = (ASTERISK / "pjsip.conf").read_text()
    binds = re.findall(r"^bind\s*=\s*(\S+)", pjsip, re.MULTILINE)
    assert binds and all(bind.startswith("127.0.0.1:") for bind in binds)
    endpoint = section(pjsip, "softphone")
    assert endpoint["media_address"] == "127.0.0.1"
    assert endpoint["bind_rtp_to_media_address"] == "yes"
    rtp = section((ASTERISK / "rtp.conf").read_text(), "general")
    assert (int(rtp["rtpstart"]), int(rtp["rtpend"])) == (10000, 10999)


def test_the_sandbox_gives_asterisk_no_nameservers(tmp_path):
    """res_pjsip's DNS resolver would bind 0.0.0.0 and [::]; a symlink out of the chroot
    is replaced, never written through."""
    from dataclasses import replace

    from balagh.config import Settings
    from balagh.pbx.sandbox import Sandbox

    sandbox = Sandbox(replace(Settings(), pbx_dir=tmp_path))
    (sandbox.root / "etc").mkdir(parents=True)
    host = tmp_path / "host-resolv.conf"
    host.write_text("nameserver 192.0.2.53\n")
    (sandbox.root / "etc" / "resolv.conf").symlink_to(host)
    sandbox._no_nameservers()
    resolv = sandbox.root / "etc" / "resolv.conf"
    assert not resolv.is_symlink()
    assert not [line for line in resolv.read_text().splitlines() if line.startswith("nameserver")]
    assert host.read_text() == "nameserver 192.0.2.53\n"


def test_the_sandbox_secrets_keep_other_keys_when_made_again(tmp_path):
    """`balagh pbx db` keeps the database password in the same file: a missing PBX key
    made again must not drop it."""
    from dataclasses import replace

    from balagh.config import Settings, read_env_file
    from balagh.pbx.sandbox import SECRET_KEYS, Sandbox

    sandbox = Sandbox(replace(Settings(), pbx_dir=tmp_path))
    path = sandbox.settings.sandbox_secrets
    path.write_text("BALAGH_DATABASE_PASSWORD=kept\n", encoding="utf-8")
    values = sandbox.secrets()
    assert read_env_file(path) == values
    assert values["BALAGH_DATABASE_PASSWORD"] == "kept"
    assert all(values[key] for key in SECRET_KEYS)
    assert path.stat().st_mode & 0o777 == 0o600

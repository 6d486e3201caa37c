"""`balagh pbx apply` on real files: snippets beside the site's, one include line each,
nothing of the site's overwritten, a second run changes nothing, least privilege."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest

from balagh.cli import main
from balagh.config import ASTERISK_CONFIG_DIR, read_env_file
from balagh.ivr.check import served_queues
from balagh.routing.load import load_table

from .shipped import ROUTING_FILE
from .test_pbx_privileges import section

# The site files of a stock Debian /etc/asterisk, cut short (their [general]s as shipped).
STOCK = {
    "manager.conf": "[general]\nenabled = no\nport = 5038\nbindaddr = 0.0.0.0\n",
    "ari.conf": "[general]\nenabled = yes\npretty = yes\n",
    "http.conf": "[general]\nservername=Asterisk\nbindaddr=127.0.0.1\n",
    "queues.conf": "[general]\npersistentmembers = yes\n\n[markq]\nstrategy = ringall\n",
    "extensions.conf": "[general]\nstatic=yes\n\n[default]\nexten => 100,1,Answer()\n",
    "modules.conf": "[modules]\nautoload=yes\nnoload => chan_alsa.so\n",
    "asterisk.conf": "[directories](!)\nastdatadir => /usr/share/asterisk\n",
}
# FreePBX: generated files that include the *_custom.conf ones, and a GUI-made queue.
FREEPBX = {
    "manager.conf": "[general]\nenabled = yes\nbindaddr = 0.0.0.0\n"
                    "#include manager_additional.conf\n#include manager_custom.conf\n",
    "manager_additional.conf": "", "manager_custom.conf": "",
    "ari.conf": "[general]\nenabled = yes\n#include ari_general_custom.conf\n"
                "#include ari_additional.conf\n#include ari_additional_custom.conf\n",
    "ari_general_custom.conf": "", "ari_additional.conf": "", "ari_additional_custom.conf": "",
    "queues.conf": "[general]\npersistentmembers=yes\n#include queues_general_additional.conf\n"
                   "#include queues_custom.conf\n#include queues_additional.conf\n",
    "queues_general_additional.conf": "", "queues_custom.conf": "",
    "queues_additional.conf": "[400]\nstrategy=ringall\nmember=Local/101@from-queue/n,0\n",
    "extensions.conf": "[from-internal]\ninclude => from-internal-custom\n"
                       "#include extensions_additional.conf\n#include extensions_custom.conf\n",
    "extensions_additional.conf": "", "extensions_custom.conf": "; admin's own\n",
    "http.conf": "[general]\nenabled=yes\nbindaddr=::\n#include http_custom.conf\n",
    "http_custom.conf": "",
    "modules.conf": "[modules]\nautoload=yes\n",
    "asterisk.conf": "[directories]\nastdatadir => /var/lib/asterisk\n",
}


def _tree(path: Path, files: dict[str, str]) -> Path:
    path.mkdir()
    for name, text in files.items():
        (path / name).write_text(text)
    return path


def _digest(etc: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(etc.iterdir())}


def _apply(etc: Path, secrets: Path, *extra: str) -> int:
    return main(["pbx", "apply", "--asterisk-etc", str(etc), "--secrets-file", str(secrets),
                 *extra])


def test_stock_apply_adds_one_include_per_site_file_and_overwrites_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    etc = _tree(tmp_path / "etc", STOCK)
    assert _apply(etc, tmp_path / "secrets.env") == 0
    for name, before in STOCK.items():
        after = (etc / name).read_text()
        assert after.startswith(before), name  # the site's lines, untouched
        added = after[len(before):].splitlines()
        assert all(line.startswith('#include "') for line in added), (name, added)
    assert (etc / "extensions.conf").read_text().endswith(
        '#include "extensions_balagh.conf"\n#include "extensions_balagh_dialplan.conf"\n')
    out = capsys.readouterr().out
    assert "done (stock layout)" in out and "/usr/share/asterisk/sounds" in out
    # The site's queues and Balagh's, through the include: every routing queue is served.
    assert served_queues(etc / "queues.conf") == set(load_table(ROUTING_FILE).queues)


def test_a_second_run_changes_nothing_and_says_so(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]):
    etc = _tree(tmp_path / "etc", STOCK)
    assert _apply(etc, tmp_path / "secrets.env") == 0
    first, secrets = _digest(etc), (tmp_path / "secrets.env").read_bytes()
    capsys.readouterr()
    assert _apply(etc, tmp_path / "secrets.env") == 0
    out = capsys.readouterr().out
    assert _digest(etc) == first and (tmp_path / "secrets.env").read_bytes() == secrets
    assert "nothing to change" in out
    assert all(line.startswith("unchanged") for line in out.splitlines()[:-1])


def test_ami_and_ari_users_are_exactly_the_shipped_ones_with_secrets_made_0600(tmp_path: Path):
    etc = _tree(tmp_path / "etc", STOCK)
    assert _apply(etc, tmp_path / "secrets.env") == 0
    shipped = section((ASTERISK_CONFIG_DIR / "manager.conf").read_text(), "balagh")
    written = section((etc / "balagh_manager.conf").read_text(), "balagh")
    assert written["read"] == shipped["read"] == "call,agent,user"
    assert written["write"] == shipped["write"] == "originate,reporting"
    assert {k: v for k, v in written.items() if k != "secret"} == \
        {k: v for k, v in shipped.items() if k != "secret"}
    values = read_env_file(tmp_path / "secrets.env")
    assert written["secret"] == values["BALAGH_AMI_SECRET"] and len(written["secret"]) >= 24
    ari = section((etc / "balagh_ari.conf").read_text(), "balagh")
    assert ari["password"] == values["BALAGH_ARI_PASSWORD"] and ari["read_only"] == "no"
    assert stat.S_IMODE((tmp_path / "secrets.env").stat().st_mode) == 0o600
    for name in ("balagh_manager.conf", "balagh_ari.conf"):
        assert stat.S_IMODE((etc / name).stat().st_mode) == 0o640
    assert "{{" not in "".join(p.read_text() for p in etc.iterdir())
    # The AMI listens on loopback, added to the site's [general] rather than a second one.
    assert "[general](+)\nenabled = yes\nport = 5038\nbindaddr = 127.0.0.1" in \
        (etc / "balagh_manager.conf").read_text()


def test_no_general_of_the_site_gives_one_of_our_own(tmp_path: Path):
    etc = _tree(tmp_path / "etc", {**STOCK, "http.conf": "; nothing here yet\n",
                                   "modules.conf": "; autoload defaults to yes\n"})
    assert _apply(etc, tmp_path / "secrets.env") == 0
    assert "\n[general]\nenabled = yes" in (etc / "balagh_http.conf").read_text()
    assert "\n[modules]\n" in (etc / "balagh_modules.conf").read_text()
    assert "[general](+)" in (etc / "balagh_manager.conf").read_text()


def test_the_sites_agents_file_is_made_once_and_kept(tmp_path: Path):
    etc = _tree(tmp_path / "etc", STOCK)
    assert _apply(etc, tmp_path / "secrets.env") == 0
    members = etc / "balagh_queue_members.conf"
    assert "[balagh-child-protection](+)" in members.read_text()
    members.write_text("[balagh-child-protection](+)\nmember => PJSIP/1001,0,Amal\n")
    assert _apply(etc, tmp_path / "secrets.env") == 0
    assert "PJSIP/1001,0,Amal" in members.read_text()
    # No sandbox agent (Local/...@balagh-agents) reaches a site.
    assert "balagh-agents" not in (etc / "balagh_queues.conf").read_text()


def test_dry_run_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    etc = _tree(tmp_path / "etc", STOCK)
    before = _digest(etc)
    assert _apply(etc, tmp_path / "secrets.env", "--dry-run") == 0
    assert _digest(etc) == before and not (tmp_path / "secrets.env").exists()
    out = capsys.readouterr().out
    assert 'would add    #include "balagh_manager.conf"' in out
    assert "dry run: nothing written" in out


def test_freepbx_layout_leaves_freepbx_files_alone_and_passes_ivr_check(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    etc = _tree(tmp_path / "etc", FREEPBX)
    assert _apply(etc, tmp_path / "secrets.env", "--layout", "freepbx") == 0
    owned = ("manager.conf", "ari.conf", "queues.conf", "extensions.conf", "http.conf",
             "queues_additional.conf", "extensions_additional.conf", "http_custom.conf")
    for name in owned:
        assert (etc / name).read_text() == FREEPBX[name], name
    assert (etc / "manager_custom.conf").read_text() == '#include "balagh_manager.conf"\n'
    assert (etc / "extensions_custom.conf").read_text() == (
        '; admin\'s own\n#include "extensions_balagh.conf"\n'
        '#include "extensions_balagh_dialplan.conf"\n')
    assert not (etc / "balagh_http.conf").exists()
    assert "[general]" not in (etc / "balagh_manager.conf").read_text()
    served = served_queues(etc / "queues.conf")
    assert served == set(load_table(ROUTING_FILE).queues)  # the GUI's queue 400 is not ours
    capsys.readouterr()
    assert main(["ivr", "check", "--queues-conf", str(etc / "queues.conf")]) == 0
    assert "every one ends in a queue" in capsys.readouterr().out


def test_bad_folder_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert _apply(tmp_path / "missing", tmp_path / "secrets.env") == 1
    assert "is not a folder" in capsys.readouterr().out

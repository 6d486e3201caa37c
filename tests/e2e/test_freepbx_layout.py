"""Issue 25: Balagh on a FreePBX-style tree, the dialplan-only (FastAGI) path.

FreePBX regenerates manager.conf, ari.conf, http.conf, queues.conf and extensions.conf
and leaves *_custom.conf to the admin; its GUI-made queues (here 400) live in
queues_additional.conf. `balagh pbx apply --layout freepbx` puts its include lines into
the *_custom.conf files only; the FreePBX files stay byte for byte. A call to the site's
own hotline number walks the pure-dialplan menu, the FastAGI route service of `balagh
run` decides, and Asterisk's queue_log shows balagh-child-protection entered; `ivr
check --queues-conf` passes on the generated queues.conf through its includes.
`balagh run` runs as such a site's does, FastAGI-only (`ari.enabled: false`): it logs no
ARI line. (Asterisk's ARI stays on for the test caller alone.)
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from balagh.pbx.sandbox import Sandbox

from .second_pbx import environment, second_asterisk
from .test_stock_asterisk import MEMBERS, balagh, entered, place_call, start_app

# The files FreePBX writes (cut to what Balagh meets), each including the admin's files.
FREEPBX_OWNED = {
    "manager.conf": "[general]\nenabled = yes\nport = 5038\nbindaddr = 127.0.0.1\n"
                    "displayconnects = no\ntimestampevents = yes\n\n"
                    "#include manager_additional.conf\n#include manager_custom.conf\n",
    "ari.conf": "[general]\n#include ari_general_additional.conf\n"
                "#include ari_general_custom.conf\n#include ari_additional.conf\n"
                "#include ari_additional_custom.conf\n",
    "ari_general_additional.conf": "enabled = yes\npretty = no\n",
    "http.conf": "[general]\nenabled = yes\nbindaddr = 127.0.0.1\nbindport = 8088\n"
                 "#include http_additional.conf\n#include http_custom.conf\n",
    "queues.conf": "[general]\npersistentmembers = yes\nshared_lastcall = yes\n"
                   "#include queues_general_additional.conf\n"
                   "#include queues_custom_general.conf\n#include queues_custom.conf\n"
                   "#include queues_additional.conf\n#include queues_post_custom.conf\n",
    "queues_additional.conf": "[400]\nstrategy = ringall\ntimeout = 15\n"
                              "member => Local/1400@site-agents/n,0,Sales 1400\n",
    "extensions.conf": "[globals]\n#include globals_custom.conf\n\n[from-internal]\n"
                       "include => from-internal-custom\nexten => 400,1,Queue(400)\n\n"
                       "#include extensions_additional.conf\n#include extensions_custom.conf\n",
}
EMPTY = ("manager_additional.conf", "manager_custom.conf", "ari_general_custom.conf",
         "ari_additional.conf", "ari_additional_custom.conf", "http_additional.conf",
         "http_custom.conf", "queues_general_additional.conf", "queues_custom_general.conf",
         "queues_custom.conf", "queues_post_custom.conf", "globals_custom.conf",
         "extensions_additional.conf")
# The admin's own dialplan: the hotline number into Balagh's dialplan menu, and agents.
ADMIN_CUSTOM = ("[from-internal-custom]\nexten => 800701,1,Goto(balagh-menu,800701,1)\n\n"
                "[site-agents]\nexten => _1XXX,1,Answer()\n same => n,Wait(20)\n")


def test_freepbx_layout_dialplan_only_path_routes_and_checks_pass(
        pbx: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    with second_asterisk(pbx.root, pbx.stock_etc()) as site:
        for name, text in FREEPBX_OWNED.items():
            (site.etc / name).write_text(text)
        for name in EMPTY:
            (site.etc / name).write_text("")
        (site.etc / "extensions_custom.conf").write_text(ADMIN_CUSTOM)
        site.point_at_own_dirs()
        site.namespace()
        env = environment(tmp_path / "secrets.env", tmp_path / "data")

        started = time.monotonic()
        applied = subprocess.run(balagh("pbx", "apply", "--asterisk-etc", str(site.etc),
                                        "--layout", "freepbx",
                                        "--secrets-file", str(tmp_path / "secrets.env")),
                                 capture_output=True, text=True, env=env, check=False)
        assert applied.returncode == 0, applied.stdout + applied.stderr
        for name, text in FREEPBX_OWNED.items():  # FreePBX's files: untouched
            assert (site.etc / name).read_text() == text, name
        assert (site.etc / "queues_custom.conf").read_text() == '#include "balagh_queues.conf"\n'
        (site.etc / "balagh_queue_members.conf").write_text(MEMBERS)
        checked = subprocess.run(balagh("ivr", "check", "--queues-conf",
                                        str(site.etc / "queues.conf")),
                                 capture_output=True, text=True, env=env, check=False)
        assert checked.returncode == 0, checked.stdout[-2000:]
        assert "every one ends in a queue" in checked.stdout
        site.start()
        assert "400 has" in site.cli("queue show 400")  # the GUI's queue, beside Balagh's
        start_app(site, {**env, "BALAGH_ARI_ENABLED": "0"}, tmp_path / "app.log",
                  ready=(b'"fastagi.listening"',))
        called = place_call(site, env, "800701", "from-internal-custom")
        routed = time.monotonic() - started

        assert called["asterisk_queue"] == "balagh-child-protection", called
        assert entered(site, "balagh-child-protection"), site.queue_log()
        ends = [json.loads(line) for line in (tmp_path / "app.log").read_text().splitlines()
                if '"fastagi.route_end"' in line]
        assert ends and ends[-1].get("queue") == "child-protection", ends
        assert '"event": "ari.' not in (tmp_path / "app.log").read_text()
    with capsys.disabled():
        print(f"\nFreePBX layout: apply -> first routed call (FastAGI) {routed:.1f} s; "
              f"{checked.stdout.strip().splitlines()[-1][:120]}")

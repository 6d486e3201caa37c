"""Put the native-dialplan IVR into the sandbox for the bench run, and take it out after.

config/asterisk/extensions.conf #tryincludes the file, so copying it into the chroot's
etc/asterisk and reloading the dialplan is all it takes; without it nothing changes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from balagh.pbx.sandbox import Sandbox

SOURCE = Path(__file__).resolve().parent / "native" / "extensions_bench_native.conf"
CONTEXT = "bench-native"


def deploy(sandbox: Sandbox) -> None:
    shutil.copyfile(SOURCE, sandbox.root / "etc/asterisk" / SOURCE.name)
    sandbox.cli("dialplan reload")
    shown = sandbox.cli(f"dialplan show {CONTEXT}")
    if "800700" not in shown:
        raise RuntimeError(f"the native IVR did not load: {shown.strip()[:300]}")


def remove(sandbox: Sandbox) -> None:
    (sandbox.root / "etc/asterisk" / SOURCE.name).unlink(missing_ok=True)
    sandbox.cli("dialplan reload")

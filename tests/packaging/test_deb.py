"""The Debian package in a clean Debian 12 chroot: install, upgrade, purge.

Builds balagh_<version>_<arch>.deb as `make deb` does (dh-virtualenv, from a copy of the
tracked files), and a second one with a higher version (the same files repacked, one
shipped setting changed). A minimal Debian 12 chroot is made once (debootstrap, the mirror
from this machine's apt sources) and kept as a tarball under ~/.cache/balagh/deb-test/;
each session unpacks a fresh copy. Services are not started (no systemd in a chroot).

Needs root (chroot) and the tools `make test` installs (dh-virtualenv, debootstrap);
the build fetches the wheels, so it needs the network as `make venv` does.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from balagh.pbx.mirror import debian_mirror
from balagh.store.schema import MIGRATIONS, VERSION

pytestmark = pytest.mark.deb

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "balagh" / "deb-test"
BASE = CACHE / "bookworm-base.tar"
SUITE = "bookworm"
NEWER = "0.1.0+test1"  # the upgrade's version: above any 0.1.0
SETTINGS = ("balagh.yaml", "ivr.yaml", "routing.yaml", "locations.yaml", "handover.yaml",
            "supervisors.yaml")


def run(*argv: str, cwd: Path | None = None) -> str:
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False,
                            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive",
                                 "LC_ALL": "C.UTF-8"})
    assert result.returncode == 0, f"{argv}: {result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


if os.geteuid() != 0 or not shutil.which("dpkg-buildpackage"):
    pytest.skip("needs root and dpkg-buildpackage (make test installs the tools)",
                allow_module_level=True)


def base_tarball() -> Path:
    """A minimal Debian 12 with python3 and adduser, made once and kept."""
    if BASE.exists():
        return BASE
    CACHE.mkdir(parents=True, exist_ok=True)
    work = CACHE / "bootstrap.partial"
    shutil.rmtree(work, ignore_errors=True)
    run("debootstrap", "--variant=minbase", "--include=python3,adduser", SUITE, str(work),
        debian_mirror())
    partial = BASE.with_suffix(".partial")
    run("tar", "-C", str(work), "--numeric-owner", "-cf", str(partial), ".")
    partial.rename(BASE)
    shutil.rmtree(work)
    return BASE


def build(work: Path) -> Path:
    """dist/balagh_*.deb as `make deb` makes it, from a copy of the tracked files; or the
    package BALAGH_TEST_DEB names (one `make deb` built already)."""
    if os.environ.get("BALAGH_TEST_DEB"):
        return Path(os.environ["BALAGH_TEST_DEB"])
    source = work / "src"
    source.mkdir()
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                             check=True).stdout.split(b"\0")
    for name in filter(None, tracked):
        path = Path(os.fsdecode(name))
        if (ROOT / path).is_symlink() or (ROOT / path).exists():
            (source / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / path, source / path, follow_symlinks=False)
    run("dpkg-buildpackage", "-b", "-us", "-uc", cwd=source)
    return next(work.glob("balagh_*.deb"))


def bumped(deb: Path, work: Path) -> Path:
    """The same package at version NEWER, its shipped ivr.yaml changed (a new menu text)."""
    tree = work / "newer"
    run("dpkg-deb", "-R", str(deb), str(tree))
    control = tree / "DEBIAN" / "control"
    lines = [f"Version: {NEWER}" if line.startswith("Version:") else line
             for line in control.read_text().splitlines()]
    control.write_text("\n".join(lines) + "\n")
    ivr = tree / "etc" / "balagh" / "ivr.yaml"
    ivr.write_text(ivr.read_text() + "# shipped by the newer version\n")
    md5sums = tree / "DEBIAN" / "md5sums"
    md5sums.write_text("".join(
        line if not line.endswith(" etc/balagh/ivr.yaml\n") else
        run("md5sum", "etc/balagh/ivr.yaml", cwd=tree) for line in
        md5sums.read_text().splitlines(keepends=True)))
    out = work / f"balagh_{NEWER}_amd64.deb"
    run("dpkg-deb", "--root-owner-group", "-Zgzip", "-z1", "-b", str(tree), str(out))
    return out


@dataclass
class Chroot:
    root: Path

    def sh(self, script: str) -> str:
        return run("chroot", str(self.root), "/bin/sh", "-ec", script)

    def as_balagh(self, command: str) -> str:
        return self.sh(f"cd /tmp && setpriv --reuid balagh --regid balagh --init-groups "
                       f"env HOME=/nonexistent {command}")

    def files(self) -> set[str]:
        """Every file and link, but dpkg's and apt's own records, logs, and the `-` copies
        adduser keeps of /etc/passwd and friends. (Folders are checked by name: debhelper
        leaves empty *.wants folders behind, as for any package with units.)"""
        skip = ("proc/", "dev/", "tmp/", "var/lib/dpkg/", "var/lib/apt/", "var/cache/",
                "var/log/", "run/", "root/")
        names = (str(path.relative_to(self.root)) for path in self.root.rglob("*")
                 if path.is_symlink() or not path.is_dir())
        return {name for name in names if not name.startswith(skip)
                and name not in ("etc/passwd-", "etc/group-", "etc/shadow-", "etc/gshadow-")}


@pytest.fixture(scope="session")
def packages(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    work = tmp_path_factory.mktemp("deb")
    deb = build(work)
    return deb, bumped(deb, work)


@pytest.fixture(scope="session")
def chroot(tmp_path_factory: pytest.TempPathFactory,
           packages: tuple[Path, Path]) -> Iterator[Chroot]:
    tarball = base_tarball()
    root = tmp_path_factory.mktemp("chroot")
    run("tar", "-C", str(root), "--numeric-owner", "-xf", str(tarball))
    for deb in packages:
        shutil.copy2(deb, root / "tmp" / deb.name)
    yield Chroot(root)
    shutil.rmtree(root, ignore_errors=True)


def test_install_upgrade_and_purge(chroot: Chroot, packages: tuple[Path, Path],
                                   capsys: pytest.CaptureFixture[str]):
    old, new = (f"/tmp/{deb.name}" for deb in packages)
    before = chroot.files()

    # Install: the user, the folders, the settings with paths that work from /etc/balagh.
    started = time.monotonic()
    chroot.sh(f"apt-get install -y -q {old}")
    installed_in = time.monotonic() - started  # a figure for the notes, not a bound
    passwd = chroot.sh("getent passwd balagh")
    assert passwd.strip().endswith(":/var/lib/balagh:/usr/sbin/nologin")
    assert chroot.sh("stat -c '%U:%G %a' /var/lib/balagh").strip() == "balagh:balagh 700"
    assert chroot.sh("stat -c '%U:%G %a' /etc/balagh/balagh.env").strip() == "root:root 600"
    assert chroot.sh("stat -c '%U:%G %a' /etc/balagh/supervisors.yaml").strip() == \
        "root:balagh 640"
    conffiles = chroot.sh("cat /var/lib/dpkg/info/balagh.conffiles").split()
    assert sorted(conffiles) == sorted(f"/etc/balagh/{name}" for name in SETTINGS)
    # The units as shipped (tests/unit/test_systemd_units.py verifies those with systemd:
    # a chroot has no systemd to verify them against).
    for unit in (ROOT / "systemd").iterdir():
        installed = chroot.root / "lib/systemd/system" / unit.name
        assert installed.read_bytes() == unit.read_bytes(), unit.name
    enabled = chroot.root / "etc/systemd/system/multi-user.target.wants/balagh.service"
    assert enabled.is_symlink()
    assert (chroot.root / "usr/share/balagh/sounds/ar/balagh").is_dir()
    assert "balagh 0.1.0" in chroot.as_balagh("balagh --version")
    env = "BALAGH_CONFIG=/etc/balagh/balagh.yaml"
    checked = chroot.as_balagh(f"env {env} balagh ivr check")
    assert "/etc/balagh/ivr.yaml" in checked
    assert "ok" in chroot.as_balagh(f"env {env} balagh sounds check").lower()
    assert chroot.as_balagh(f"env {env} balagh routes check")

    # An admin's edits, and a database an older Balagh left at schema v8.
    chroot.sh("printf '# edited on site\\n' >> /etc/balagh/routing.yaml")
    edited = (chroot.root / "etc/balagh/routing.yaml").read_text()
    database = chroot.root / "var/lib/balagh/balagh.sqlite3"
    with sqlite3.connect(database, isolation_level=None) as db:
        for step in range(8):
            db.executescript(f"BEGIN; {MIGRATIONS[step]}; PRAGMA user_version = {step + 1};"
                             " COMMIT;")
        db.execute("INSERT INTO reports (call_id, reference, channel, status, started_at,"
                   " updated_at) VALUES ('c1', 'R1', 'PJSIP/1', 'routed',"
                   " '2026-11-01T10:00:00Z', '2026-11-01T10:00:00Z')")
    db.close()
    chroot.sh("chown balagh:balagh /var/lib/balagh/balagh.sqlite3")

    # Upgrade: the edit kept, the new version's untouched setting taken, the database
    # migrated by the package before any restart.
    started = time.monotonic()
    upgraded = chroot.sh(f"apt-get install -y -q {new}")
    upgraded_in = time.monotonic() - started
    with capsys.disabled():
        print(f"\nDebian package: installed in {installed_in:.1f} s, upgraded (its database "
              f"migrated by db migrate) in {upgraded_in:.1f} s")
    assert "schema v8 -> v" in upgraded
    assert (chroot.root / "etc/balagh/routing.yaml").read_text() == edited
    assert "# shipped by the newer version" in (chroot.root / "etc/balagh/ivr.yaml").read_text()
    assert chroot.sh("dpkg-query -W -f '${Version}' balagh") == NEWER
    assert "balagh 0.1.0" in chroot.as_balagh("balagh --version")  # the repacked wheel
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == VERSION
        assert db.execute("SELECT sum(n) FROM stats_hourly WHERE dim = 'day' AND kind = 0"
                          ).fetchone()[0] == 1
    db.close()

    # Remove keeps settings and data; purge takes them, the user, everything.
    chroot.sh("apt-get remove -y -q balagh")
    assert (chroot.root / "etc/balagh/routing.yaml").exists() and database.exists()
    chroot.sh("apt-get purge -y -q balagh")
    assert not chroot.sh("getent passwd balagh || true").strip()
    assert chroot.files() - before == set()
    for folder in ("etc/balagh", "var/lib/balagh", "var/backups/balagh", "opt/balagh",
                   "usr/share/balagh"):
        assert not (chroot.root / folder).exists(), folder


"""Where the sandbox's Debian comes from (apt sources), and paths resolved inside its chroot."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from balagh.pbx.mirror import debian_mirror
from balagh.pbx.sandbox import SandboxError, in_chroot

MIRROR = "http://mirror.example/debian"
SECURITY = "http://security.mirror.example/debian-security"

DEB822_WITH_SECURITY_FIRST = f"""\
# Security updates first, as some installers write them.
Types: deb
URIs: {SECURITY}
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb deb-src
URIs: {MIRROR} http://second.mirror.example/debian
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""


@pytest.fixture
def apt(tmp_path: Path) -> Path:
    (tmp_path / "sources.list.d").mkdir()
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# -- debian_mirror -------------------------------------------------------------------


def test_deb822_sources_skip_the_security_stanza(apt: Path):
    write(apt / "sources.list.d" / "debian.sources", DEB822_WITH_SECURITY_FIRST)
    assert debian_mirror(apt, {}) == MIRROR


def test_deb822_only_security_falls_through_to_sources_list(apt: Path):
    write(apt / "sources.list.d" / "debian.sources",
          f"Types: deb\nURIs: {SECURITY}\nSuites: bookworm-security\nComponents: main\n")
    write(apt / "sources.list", f"deb {MIRROR} bookworm main\n")
    assert debian_mirror(apt, {}) == MIRROR


def test_deb822_deb_src_only_stanza_is_not_taken(apt: Path):
    write(apt / "sources.list.d" / "debian.sources",
          "Types: deb-src\nURIs: http://src.mirror.example/debian\nSuites: bookworm\n\n"
          f"Types: deb\nURIs: {MIRROR}\nSuites: bookworm\nComponents: main\n")
    assert debian_mirror(apt, {}) == MIRROR


def test_deb822_wins_over_sources_list(apt: Path):
    write(apt / "sources.list", "deb http://other.mirror.example/debian bookworm main\n")
    write(apt / "sources.list.d" / "debian.sources", DEB822_WITH_SECURITY_FIRST)
    assert debian_mirror(apt, {}) == MIRROR


def test_one_line_sources_list(apt: Path):
    write(apt / "sources.list", f"""\
# deb http://commented.mirror.example/debian bookworm main
deb-src {MIRROR} bookworm main

deb {SECURITY} bookworm-security main
deb {MIRROR} bookworm main contrib
deb http://later.mirror.example/debian bookworm main
""")
    assert debian_mirror(apt, {}) == MIRROR


def test_one_line_sources_list_with_options(apt: Path):
    write(apt / "sources.list",
          f"deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] {MIRROR} "
          "bookworm main\n")
    assert debian_mirror(apt, {}) == MIRROR


def test_one_line_security_with_options_is_skipped(apt: Path):
    write(apt / "sources.list",
          f"deb [arch=amd64] {SECURITY} bookworm-security main\n"
          f"deb [arch=amd64] {MIRROR} bookworm main\n")
    assert debian_mirror(apt, {}) == MIRROR


@pytest.mark.parametrize("options", [
    "[arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]",
    "[ arch=amd64 ]",
])
def test_one_line_sources_list_with_several_options(apt: Path, options: str):
    write(apt / "sources.list", f"deb {options} {MIRROR} bookworm main\n")
    assert debian_mirror(apt, {}) == MIRROR


def test_deb822_disabled_stanza_is_not_taken(apt: Path):
    write(apt / "sources.list.d" / "debian.sources",
          "Types: deb\nURIs: http://old.mirror.example/debian\nSuites: sid\nEnabled: no\n\n"
          f"Types: deb\nURIs: {MIRROR}\nSuites: sid\nComponents: main\n")
    assert debian_mirror(apt, {}) == MIRROR


def test_one_line_list_files_in_sources_list_d(apt: Path):
    write(apt / "sources.list.d" / "debian.list", f"deb {MIRROR} sid main\n")
    assert debian_mirror(apt, {}) == MIRROR


def test_empty_sources_list_falls_through_to_list_d(apt: Path):
    write(apt / "sources.list", "# See sources.list.d/\n")
    write(apt / "sources.list.d" / "debian.list", f"deb {MIRROR} sid main\n")
    assert debian_mirror(apt, {}) == MIRROR


def test_environment_override_wins(apt: Path):
    write(apt / "sources.list.d" / "debian.sources", DEB822_WITH_SECURITY_FIRST)
    override = "http://override.mirror.example/debian"
    assert debian_mirror(apt, {"BALAGH_DEBIAN_MIRROR": override}) == override


def test_environment_override_needs_no_apt_sources(tmp_path: Path):
    override = "http://override.mirror.example/debian"
    assert debian_mirror(tmp_path / "missing", {"BALAGH_DEBIAN_MIRROR": override}) == override


def test_empty_environment_override_is_ignored(apt: Path):
    write(apt / "sources.list", f"deb {MIRROR} bookworm main\n")
    assert debian_mirror(apt, {"BALAGH_DEBIAN_MIRROR": ""}) == MIRROR


def test_nothing_found_is_an_error_naming_the_override(apt: Path):
    write(apt / "sources.list", f"deb {SECURITY} bookworm-security main\n")
    write(apt / "sources.list.d" / "debian.sources",
          f"Types: deb\nURIs: {SECURITY}\nSuites: bookworm-security\n")
    with pytest.raises(RuntimeError, match="BALAGH_DEBIAN_MIRROR"):
        debian_mirror(apt, {})


def test_no_apt_dir_at_all_is_an_error(tmp_path: Path):
    with pytest.raises(RuntimeError, match="BALAGH_DEBIAN_MIRROR"):
        debian_mirror(tmp_path / "missing", {})


# -- in_chroot -----------------------------------------------------------------------


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "chroot"
    (root / "etc" / "alt").mkdir(parents=True)
    (root / "usr" / "share").mkdir(parents=True)
    (root / "usr" / "lib").mkdir(parents=True)
    return root


def test_plain_path_is_under_root(root: Path):
    assert in_chroot(root, "/usr/share/x") == root / "usr" / "share" / "x"
    assert in_chroot(root, "usr//share/") == root / "usr" / "share"
    assert in_chroot(root, "/") == root


def test_absolute_symlink_resolves_inside_root_not_on_the_host(root: Path):
    target = write(root / "etc" / "alt" / "y", "inside")
    os.symlink("/etc/alt/y", root / "usr" / "share" / "x")
    resolved = in_chroot(root, "/usr/share/x")
    assert resolved == root / "etc" / "alt" / "y"
    assert resolved.read_text() == "inside" == target.read_text()
    assert not str(resolved).startswith("/etc/")


def test_dangling_absolute_symlink_still_points_inside_root(root: Path):
    os.symlink("/etc/alt/not-yet", root / "usr" / "share" / "x")
    assert in_chroot(root, "/usr/share/x") == root / "etc" / "alt" / "not-yet"


def test_chain_of_absolute_symlinks_like_alternatives(root: Path):
    write(root / "usr" / "lib" / "real", "")
    os.symlink("/etc/alt/y", root / "usr" / "share" / "x")
    os.symlink("/usr/lib/real", root / "etc" / "alt" / "y")
    assert in_chroot(root, "/usr/share/x") == root / "usr" / "lib" / "real"


def test_symlinked_directory_in_the_middle_of_the_path(root: Path):
    write(root / "usr" / "lib" / "sounds" / "en" / "a.wav", "")
    os.symlink("/usr/lib/sounds", root / "usr" / "share" / "sounds")
    assert in_chroot(root, "/usr/share/sounds/en/a.wav") == (
        root / "usr" / "lib" / "sounds" / "en" / "a.wav")


def test_relative_symlink_resolves_from_its_directory(root: Path):
    write(root / "usr" / "share" / "z", "")
    os.symlink("z", root / "usr" / "share" / "x")
    assert in_chroot(root, "/usr/share/x") == root / "usr" / "share" / "z"


def test_symlink_loop_is_an_error(root: Path):
    os.symlink("/usr/share/b", root / "usr" / "share" / "a")
    os.symlink("/usr/share/a", root / "usr" / "share" / "b")
    with pytest.raises(SandboxError, match="loop"):
        in_chroot(root, "/usr/share/a")


def test_dotdot_inside_the_tree_is_kept_within_root(root: Path):
    os.symlink("../lib", root / "usr" / "share" / "l")
    resolved = in_chroot(root, "/usr/share/l/x")
    assert os.path.normpath(resolved) == str(root / "usr" / "lib" / "x")


@pytest.mark.parametrize("how", ["path", "symlink"])
def test_dotdot_past_the_top_stays_inside_root(root: Path, how: str):
    if how == "symlink":
        os.symlink("../../../etc/hosts", root / "usr" / "share" / "h")
        resolved = in_chroot(root, "/usr/share/h")
    else:
        resolved = in_chroot(root, "/../etc/hosts")
    assert os.path.normpath(resolved) == str(root / "etc" / "hosts")

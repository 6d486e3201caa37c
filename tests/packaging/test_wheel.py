"""An installed Balagh (a wheel, no checkout around it) finds its shipped defaults.

Builds the wheel, installs it without dependencies into an empty virtualenv, and runs
the checks an admin runs first, from a folder with no config/ in it. The dependencies
come from this test run's own environment (PYTHONPATH), so nothing is downloaded.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    # Built from a copy of the tracked tree, so the build leaves nothing in the checkout.
    source = work / "src"
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache"))
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--quiet", "--wheel-dir", str(work / "dist"), str(source)],
                   check=True, cwd=work, capture_output=True, env=env)
    wheel = next((work / "dist").glob("balagh-*.whl"))
    env_dir = work / "venv"
    venv.create(env_dir, with_pip=True)
    subprocess.run([str(env_dir / "bin/python"), "-m", "pip", "install", "--no-deps",
                    "--quiet", str(wheel)], check=True, capture_output=True, env=env)
    return env_dir


def balagh(env_dir: Path, *args: str, cwd: Path,
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # Dependencies from this environment; balagh itself only from the wheel (an editable
    # install's finder is a .pth hook, which PYTHONPATH entries do not run).
    deps = os.pathsep.join(site.getsitepackages())
    environ = {**os.environ, "PYTHONPATH": deps, "HOME": str(cwd), **(env or {})}
    environ.pop("BALAGH_CONFIG", None)
    return subprocess.run([str(env_dir / "bin/balagh"), *args], capture_output=True, text=True,
                          cwd=cwd, env=environ, check=False, timeout=120)


@pytest.mark.parametrize("command", [("routes", "check"), ("ivr", "check"),
                                     ("sounds", "check")])
def test_the_installed_wheel_checks_its_shipped_defaults(installed: Path, tmp_path: Path,
                                                         command: tuple[str, ...]):
    result = balagh(installed, *command, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    if command[0] != "sounds":  # these name the files they checked: not the checkout's
        assert "site-packages/balagh/shipped/config/" in result.stdout


def test_the_installed_wheel_says_its_version(installed: Path, tmp_path: Path):
    result = balagh(installed, "--version", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.startswith("balagh 0."), result.stderr


def test_the_installed_wheel_carries_the_report_document_schema(installed: Path,
                                                               tmp_path: Path):
    deps = os.pathsep.join(site.getsitepackages())
    env = {**os.environ, "PYTHONPATH": deps, "HOME": str(tmp_path)}
    result = subprocess.run(
        [str(installed / "bin/python"), "-c",
         "from balagh.handover.document import SCHEMA_FILE, schema; "
         "print(SCHEMA_FILE); print(schema()['$schema'])"],
        capture_output=True, text=True, cwd=tmp_path, env=env, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    path, dialect = result.stdout.splitlines()
    assert "site-packages/balagh/handover/report-event.v1.schema.json" in path
    assert dialect == "https://json-schema.org/draft/2020-12/schema"


def test_the_installed_wheel_writes_the_report_pack_from_its_templates(installed: Path,
                                                                      tmp_path: Path):
    import asyncio

    import aiosqlite

    from balagh.store.schema import migrate

    async def create() -> None:
        async with aiosqlite.connect(tmp_path / "balagh.sqlite3") as conn:
            await migrate(conn)

    asyncio.run(create())
    page = tmp_path / "report.html"
    result = balagh(installed, "report-pack", "--week", "2025-W02", "--language", "ar",
                    "-o", str(page), cwd=tmp_path, env={"BALAGH_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr
    html = page.read_text(encoding="utf-8")
    assert '<html lang="ar" dir="rtl">' in html and "لا توجد مكالمات" in html
    deps = os.pathsep.join(site.getsitepackages())
    found = subprocess.run(
        [str(installed / "bin/python"), "-c",
         "from importlib.resources import files; "
         "print(files('balagh.stats').joinpath('templates/pack.html').is_file())"],
        capture_output=True, text=True, cwd=tmp_path, check=False, timeout=120,
        env={**os.environ, "PYTHONPATH": deps, "HOME": str(tmp_path)})
    assert found.stdout.strip() == "True", found.stderr


def test_the_installed_wheel_carries_the_systemd_units(installed: Path):
    """A pip install has the units the Debian package installs (systemd/ in the wheel)."""
    shipped = next(installed.glob("lib/python3*/site-packages/balagh/shipped/systemd"))
    units = sorted(path.name for path in shipped.iterdir())
    assert units == sorted(path.name for path in (ROOT / "systemd").iterdir())
    for unit in units:
        assert (shipped / unit).read_bytes() == (ROOT / "systemd" / unit).read_bytes()

"""Where Balagh reads its configuration: the lookup order (--config, BALAGH_CONFIG,
/etc/balagh, the shipped defaults), `balagh config init` and `where`, and the shipped
files never written. Real temp folders throughout (BALAGH_ETC_DIR stands for /etc/balagh)."""

from __future__ import annotations

import io
import os
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from balagh.cli import main
from balagh.config import CONFIG_DIR, DEFAULT_CONFIG, SOUNDS_DIR, load_settings
from balagh.config.lookup import FROM_ENV, FROM_ETC, FROM_FLAG, FROM_SHIPPED
from balagh.config.starter import STARTER_FILES, write_starter
from balagh.config.yamlsrc import ConfigError
from balagh.health.files import config_check
from balagh.health.report import Status

# Variables a developer's shell may hold that would change what these tests see.
_LEAKS = ("BALAGH_CONFIG", "BALAGH_IVR_FILE", "BALAGH_ROUTING_FILE", "BALAGH_HANDOVER_FILE",
          "BALAGH_SUPERVISORS_FILE", "BALAGH_DATA_DIR", "BALAGH_SECRETS_FILE",
          "BALAGH_ARI_ENABLED", "BALAGH_FASTAGI_ENABLED")


@pytest.fixture
def etc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty stand-in for /etc/balagh, in the environment as BALAGH_ETC_DIR."""
    for name in _LEAKS:
        monkeypatch.delenv(name, raising=False)
    folder = tmp_path / "etc-balagh"
    monkeypatch.setenv("BALAGH_ETC_DIR", str(folder))
    monkeypatch.setenv("BALAGH_DATA_DIR", str(tmp_path / "data"))
    return folder


def settings_file(folder: Path, hotline: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "balagh.yaml"
    path.write_text(f'hotline: "{hotline}"\nivr_file: my-ivr.yaml\n', encoding="utf-8")
    return path


def test_lookup_order_flag_then_env_then_etc_then_shipped(tmp_path: Path, etc: Path) -> None:
    flag = settings_file(tmp_path / "flag", "111")
    env = settings_file(tmp_path / "env", "222")
    settings_file(etc, "333")
    environ = {"BALAGH_ETC_DIR": str(etc), "BALAGH_CONFIG": str(env)}

    chosen = load_settings(flag, environ)
    assert (chosen.hotline, chosen.source.origin, chosen.source.path) == ("111", FROM_FLAG, flag)
    chosen = load_settings(None, environ)
    assert (chosen.hotline, chosen.source.origin) == ("222", FROM_ENV)
    del environ["BALAGH_CONFIG"]
    chosen = load_settings(None, environ)
    assert (chosen.hotline, chosen.source.origin) == ("333", FROM_ETC)
    # Relative paths are taken from that file's folder, /etc/balagh here.
    assert chosen.ivr_file == etc / "my-ivr.yaml"
    (etc / "balagh.yaml").unlink()
    chosen = load_settings(None, environ)
    assert (chosen.source.origin, chosen.source.path) == (FROM_SHIPPED, DEFAULT_CONFIG)
    assert chosen.ivr_file == CONFIG_DIR / "ivr.yaml"


def test_a_named_file_that_is_not_there_is_an_error_not_the_defaults(tmp_path: Path,
                                                                     etc: Path) -> None:
    missing = tmp_path / "nowhere" / "balagh.yaml"
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(missing, {"BALAGH_ETC_DIR": str(etc)})
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(None, {"BALAGH_ETC_DIR": str(etc), "BALAGH_CONFIG": str(missing)})
    with pytest.raises(ConfigError, match="is a folder"):
        load_settings(tmp_path, {"BALAGH_ETC_DIR": str(etc)})


def test_init_writes_a_starter_folder_that_loads_from_there(etc: Path,
                                                            capsys: pytest.CaptureFixture[str]
                                                            ) -> None:
    assert main(["config", "init"]) == 0  # the folder from BALAGH_ETC_DIR, as /etc/balagh
    out = capsys.readouterr().out
    for name in STARTER_FILES:
        path = etc / name
        assert f"wrote {path}" in out
        assert path.stat().st_mode & 0o777 == 0o640
    settings = load_settings(None, {"BALAGH_ETC_DIR": str(etc)})
    assert settings.source.origin == FROM_ETC
    assert settings.ivr_file == etc / "ivr.yaml"
    assert settings.routing_file == etc / "routing.yaml"
    assert settings.locations_file == etc / "locations.yaml"
    assert settings.supervisors_file == etc / "supervisors.yaml"
    assert settings.sounds_dir == SOUNDS_DIR  # the shipped prompts, named absolutely
    assert settings.data_dir == Path("/var/lib/balagh")
    assert config_check(settings).status is Status.OK
    for name in STARTER_FILES[1:]:  # the site's own copies, as shipped
        assert (etc / name).read_bytes() == (CONFIG_DIR / name).read_bytes()


def test_init_refuses_to_overwrite_without_force_and_loses_nothing(
        etc: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_starter(etc)
    routing = etc / "routing.yaml"
    routing.write_text("# the site's own table\n", encoding="utf-8")
    assert main(["config", "init"]) == 1
    assert "exist(s) already; nothing written" in capsys.readouterr().err
    assert routing.read_text(encoding="utf-8") == "# the site's own table\n"
    os.chmod(routing, 0o600)
    assert main(["config", "init", "--force"]) == 0
    assert routing.read_bytes() == (CONFIG_DIR / "routing.yaml").read_bytes()
    assert routing.stat().st_mode & 0o777 == 0o640


def test_init_with_dir_and_data_dir(tmp_path: Path, etc: Path) -> None:
    folder, data = tmp_path / "site" / "balagh", tmp_path / "site-data"
    assert main(["config", "init", "--dir", str(folder), "--data-dir", str(data)]) == 0
    assert not etc.exists()
    assert load_settings(folder / "balagh.yaml", {}).data_dir == data


def test_where_names_each_file_and_its_origin(tmp_path: Path, etc: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "where"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert set(lines) >= {"settings", "ivr", "routing", "locations", "handover",
                          "supervisors", "sounds", "data", "secrets"}
    assert lines["settings"].endswith(FROM_SHIPPED)
    assert lines["routing"].endswith(FROM_SHIPPED)

    write_starter(etc, data_dir=tmp_path / "data")
    monkeypatch.setenv("BALAGH_SUPERVISORS_FILE", str(tmp_path / "sup.yaml"))
    assert main(["config", "where"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert str(etc / "balagh.yaml") in lines["settings"] and lines["settings"].endswith(FROM_ETC)
    assert str(etc / "ivr.yaml") in lines["ivr"] and lines["ivr"].endswith(FROM_ETC)
    assert lines["supervisors"].endswith("BALAGH_SUPERVISORS_FILE")
    assert "MISSING" in lines["supervisors"]  # the variable names a file not made yet
    assert lines["sounds"].split()[1] == str(SOUNDS_DIR)


def test_supervisors_refuse_to_write_the_shipped_file(etc: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    shipped = CONFIG_DIR / "supervisors.yaml"
    before = shipped.read_bytes()
    monkeypatch.setattr(sys, "stdin", io.StringIO("2468\n"))
    assert main(["supervisors", "add", "Amina", "--phone", "201", "--queues", "all",
                 "--pin-stdin"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "read-only" in err and "balagh config init" in err
    assert shipped.read_bytes() == before

    write_starter(etc)  # once /etc/balagh is there, the same command writes it
    monkeypatch.setattr(sys, "stdin", io.StringIO("2468\n"))
    assert main(["supervisors", "add", "Amina", "--phone", "201", "--queues", "all",
                 "--pin-stdin"]) == 0
    assert "Amina" in (etc / "supervisors.yaml").read_text(encoding="utf-8")
    assert shipped.read_bytes() == before


def test_health_says_down_when_a_copied_config_names_files_that_are_not_there(
        etc: Path) -> None:
    etc.mkdir()
    (etc / "balagh.yaml").write_bytes(DEFAULT_CONFIG.read_bytes())  # sounds_dir: ../sounds
    settings = load_settings(None, {"BALAGH_ETC_DIR": str(etc)})
    check = config_check(settings)
    assert check.status is Status.DOWN
    assert f"sounds_dir {etc.parent / 'sounds'} MISSING" in check.summary
    assert f"ivr_file {etc / 'ivr.yaml'} MISSING" in check.summary


def test_absent_optional_files_are_named_a_missing_secrets_file_warned(tmp_path: Path,
                                                                      etc: Path) -> None:
    write_starter(etc)
    (etc / "handover.yaml").unlink()  # read as "no unit endpoints": allowed
    settings = load_settings(None, {"BALAGH_ETC_DIR": str(etc)})
    check = config_check(settings)
    assert check.status is Status.OK
    assert f"handover_file {etc / 'handover.yaml'} absent (optional)" in check.summary
    check = config_check(replace(settings, secrets_file=tmp_path / "secrets.env"))
    assert check.status is Status.DEGRADED
    assert f"secrets_file {tmp_path / 'secrets.env'} MISSING" in check.summary


def test_ari_and_fastagi_both_disabled_is_refused(tmp_path: Path, etc: Path) -> None:
    path = tmp_path / "balagh.yaml"
    path.write_text("ari:\n  enabled: false\n", encoding="utf-8")
    assert load_settings(path, {}).ari.enabled is False
    assert load_settings(None, {"BALAGH_ARI_ENABLED": "0",
                                "BALAGH_ETC_DIR": str(etc)}).ari.enabled is False
    with pytest.raises(ConfigError, match="both disabled"):
        load_settings(path, {"BALAGH_FASTAGI_ENABLED": "no"})

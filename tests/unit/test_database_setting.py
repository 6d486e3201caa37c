"""`database_url` picks the report store's engine: unset, SQLite as always; set, the
PostgreSQL server it names, its password only from the environment or the secrets file."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from balagh.config import ConfigError, Settings, load_settings
from balagh.store.opening import open_store

from . import pg_cluster


def settings_from(tmp_path: Path, yaml: str, **environ: str) -> Settings:
    config = tmp_path / "balagh.yaml"
    config.write_text(yaml, encoding="utf-8")
    env = {"BALAGH_PBX_DIR": str(tmp_path / "pbx"), "BALAGH_DATA_DIR": str(tmp_path / "data"),
           **environ}
    return load_settings(config, env)


def test_unset_is_sqlite(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, "hotline: '800700'\n")
    assert settings.database_url is None
    assert settings.spool_file.name == "balagh.sqlite3.spool"


def test_url_from_yaml_password_from_the_secrets_file(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.env"
    secrets.write_text("BALAGH_DATABASE_PASSWORD=s3cret\n", encoding="utf-8")
    settings = settings_from(tmp_path, "database_url: postgresql://balagh@db1:5432/balagh\n"
                             f"secrets_file: {secrets}\n")
    assert settings.database_url == "postgresql://balagh@db1:5432/balagh"
    assert settings.database_password == "s3cret"
    assert "s3cret" not in repr(settings)
    assert settings.spool_file.name == "balagh-postgresql.spool"


def test_the_environment_names_the_server(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, "{}\n", BALAGH_DATABASE_URL="postgresql://b@h/n",
                             BALAGH_DATABASE_PASSWORD="pw")
    assert (settings.database_url, settings.database_password) == ("postgresql://b@h/n", "pw")


@pytest.mark.parametrize(("yaml", "words"), [
    ("database_password: s3cret\n", "secrets do not belong in YAML"),
    ("database_url: postgresql://balagh:s3cret@db1/balagh\n", "holds a password"),
    ("database_url: mysql://db1/balagh\n", "must be postgresql://"),
    ("database_url: 5432\n", "must be postgresql://"),
])
def test_bad_database_settings_are_refused_by_name(tmp_path: Path, yaml: str,
                                                   words: str) -> None:
    with pytest.raises(ConfigError, match=words) as raised:
        settings_from(tmp_path, yaml)
    assert "s3cret" not in str(raised.value)


async def test_open_store_follows_the_setting(pg_server: pg_cluster.Cluster,
                                              tmp_path: Path) -> None:
    settings = replace(Settings(data_dir=tmp_path / "data"),
                       database_url=pg_server.new_database())
    store = await open_store(settings)
    try:
        assert store.engine is not None and store.writer.db is not None
        assert not (tmp_path / "data" / "balagh.sqlite3").exists()
    finally:
        await store.close()
    store = await open_store(replace(settings, database_url=None))
    try:
        assert store.engine is None and (tmp_path / "data" / "balagh.sqlite3").exists()
    finally:
        await store.close()

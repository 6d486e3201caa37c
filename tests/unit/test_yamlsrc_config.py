"""The YAML loader's line numbers and the layered service settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from balagh.config import load_settings
from balagh.config.yamlsrc import ConfigError, format_key, load_yaml, parse_yaml

DOC = """\
queues: [a, b]
rules:
  - name: child
    when:
      age: child
  - name: other
    queue: b
"""


def test_format_key():
    assert format_key(("rules", 3, "queue")) == "rules[3].queue"
    assert format_key(()) == ""


def test_lines_of_keys_and_items():
    doc = parse_yaml(DOC, "routing.yaml")
    assert doc.line(("queues",)) == 1
    assert doc.line(("rules", 0)) == 3
    assert doc.line(("rules", 0, "when", "age")) == 5
    assert doc.line(("rules", 1, "queue")) == 7
    # An absent key is placed at its nearest ancestor that exists.
    assert doc.line(("rules", 1, "when")) == 6


def test_error_names_file_line_and_key():
    error = parse_yaml(DOC, "config/routing.yaml").error(("rules", 1, "queue"), "unknown queue 'x'")
    assert str(error) == "config/routing.yaml:7: rules[1].queue: unknown queue 'x'"
    assert (error.line, error.key) == (7, "rules[1].queue")


def test_syntax_error_has_its_line():
    with pytest.raises(ConfigError) as caught:
        parse_yaml("a: 1\nb: [1, 2\nc: 3\n", "x.yaml")
    assert caught.value.line is not None and "YAML syntax" in str(caught.value)


def test_duplicate_key_is_an_error_not_a_silent_overwrite():
    with pytest.raises(ConfigError) as caught:
        parse_yaml("options:\n  1: ar\n  2: en\n  1: fr\n", "ivr.yaml")
    assert str(caught.value) == "ivr.yaml:4: options.1: duplicate key (first on line 2)"


def test_impossible_unquoted_date_names_its_line():
    with pytest.raises(ConfigError) as caught:
        parse_yaml("holidays:\n  - 2026-12-02\n  - 2026-13-01\n", "routing.yaml")
    assert caught.value.line == 3 and "month must be in 1..12" in str(caught.value)


def test_unreadable_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_yaml(tmp_path / "missing.yaml")


# --- settings: defaults < YAML < environment ------------------------------------------------

@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    # Keep the sandbox's real secrets file out of the test.
    return {"BALAGH_PBX_DIR": str(tmp_path / "pbx")}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "balagh.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_settings_from_yaml(tmp_path, environ):
    path = write(tmp_path, "ari:\n  url: http://pbx:8088/\nami:\n  port: 5039\n"
                           "hotline: '999'\nrouting_file: rules.yaml\n")
    settings = load_settings(path, environ)
    assert settings.ari.url == "http://pbx:8088/"
    assert settings.ami.port == 5039
    assert settings.hotline == "999"
    assert settings.routing_file == tmp_path / "rules.yaml"  # relative to the YAML file
    assert settings.ari.app == "balagh"  # untouched default


def test_environment_wins_over_yaml(tmp_path, environ):
    path = write(tmp_path, "ari:\n  url: http://pbx:8088/\nami:\n  port: 5039\n")
    environ |= {"BALAGH_ARI_URL": "http://other:8088/", "BALAGH_AMI_PORT": "6000",
                "BALAGH_ARI_PASSWORD": "s3cret"}
    settings = load_settings(path, environ)
    assert (settings.ari.url, settings.ami.port) == ("http://other:8088/", 6000)
    assert settings.ari.password == "s3cret"
    assert "s3cret" not in repr(settings)


def test_secret_in_yaml_is_refused_with_its_line(tmp_path, environ):
    path = write(tmp_path, "ari:\n  url: http://pbx:8088/\n  password: hunter2\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ)
    assert str(caught.value).startswith(f"{path}:3: ari.password: secrets do not belong in YAML")


def test_secret_from_secrets_file(tmp_path, environ):
    secrets = tmp_path / "secrets.env"
    secrets.write_text("# sandbox\nBALAGH_AMI_SECRET='amisecret'\n", encoding="utf-8")
    path = write(tmp_path, f"secrets_file: {secrets}\n")
    assert load_settings(path, environ).ami.secret == "amisecret"


@pytest.mark.parametrize(("text", "where"), [
    ("hotline: '1'\nhotlin: '2'\n", ":2: hotlin: unknown key"),
    ("ami:\n  hots: pbx\n", ":2: ami.hots: unknown key"),
    ("ami:\n  port: many\n", ":2: ami.port: must be a whole number"),
])
def test_unknown_or_bad_key_is_named(tmp_path, environ, text, where):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ)
    assert str(caught.value).startswith(f"{path}{where}")


def test_bad_environment_value_names_the_variable(tmp_path, environ):
    environ["BALAGH_AMI_PORT"] = "many"
    with pytest.raises(ConfigError, match="BALAGH_AMI_PORT: must be a whole number"):
        load_settings(write(tmp_path, ""), environ)


# -- hostile or broken files: one clear error each, at once and in little memory ---------

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]\n"
    for prev, name in zip("abcdefgh", "bcdefghi", strict=False))


@pytest.mark.parametrize(("text", "message"), [
    (BOMB, "more than 100000 values once aliases are expanded"),
    ("a: &a [*a]\n", "an alias refers to itself"),
    ("x: " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
])
def test_alias_bombs_loops_and_deep_nesting_are_refused(tmp_path: Path, text: str,
                                                        message: str) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_yaml(path)
    assert message in str(caught.value)
    assert str(caught.value).startswith(str(path))


def test_binary_garbage_names_the_line_of_the_first_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "ivr.yaml"
    path.write_bytes(b"questions:\n  - id: age\n\xff\xfe\x00garbage\n")
    with pytest.raises(ConfigError) as caught:
        load_yaml(path)
    assert caught.value.line == 3
    assert "not UTF-8 text (byte 23)" in str(caught.value)


def test_a_file_too_large_to_be_config_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "routing.yaml"
    with path.open("wb") as out:
        out.truncate(6_000_000)  # sparse: 6 MB of nothing
    with pytest.raises(ConfigError, match="is 6000000 bytes; a config file is at most"):
        load_yaml(path)


# -- bombs in keys, floods of aliases, huge flat files (issue 23) -------------------------

# Each level a list of nine aliases of the level before, used only as mapping keys: the
# old loader walked values, not keys, and rendering the last key took minutes and gigabytes.
KEY_BOMB = "? &k0 [x, x, x, x, x, x, x, x, x]\n: 0\n" + "".join(
    f"? &k{level} [{', '.join([f'*k{level - 1}'] * 9)}]\n: {level}\n" for level in range(1, 9))
# The same, one level down, under a named key.
NESTED_KEY_BOMB = "queues: [a]\nrules:\n" + "".join(f"  {line}\n" for line in KEY_BOMB.splitlines())


def _load_with_little_memory(path: Path) -> str:
    """Load `path` in a child process limited to 1 GB of address space: the outcome
    (the error text), whatever the loader does with memory."""
    import subprocess
    import sys
    script = ("import resource, sys\n"
              "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
              "from balagh.config.yamlsrc import ConfigError, load_yaml\n"
              "try:\n    load_yaml(sys.argv[1])\n"
              "except ConfigError as exc:\n    print(exc)\n")
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr[-500:]
    return done.stdout.strip()


@pytest.mark.parametrize(("text", "where"), [
    (KEY_BOMB, ":1: a key must be plain text"),
    (NESTED_KEY_BOMB, ":3: rules: a key must be plain text"),
])
def test_alias_bombs_in_keys_are_refused_with_file_line_and_key(tmp_path: Path, text: str,
                                                                where: str) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text(text)
    assert len(text) < 1000  # a few hundred bytes
    assert _load_with_little_memory(path).startswith(f"{path}{where}")


def test_a_huge_flat_file_stops_at_the_first_value_too_many(tmp_path: Path) -> None:
    path = tmp_path / "locations.yaml"
    path.write_text("prefixes:\n" + "- 1\n" * 240_000)  # under the byte limit, flat
    with pytest.raises(ConfigError) as caught:
        load_yaml(path)
    assert caught.value.line == 99_999  # node 100,001 (3 before the list): counted as read
    assert "more than 100000 values: too large for a config file" in str(caught.value)


def test_a_flood_of_aliases_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ivr.yaml"
    path.write_text("a: &a x\nb:\n" + "  - *a\n" * 1001)
    with pytest.raises(ConfigError) as caught:
        load_yaml(path)
    assert caught.value.line == 1003
    assert "more than 1000 aliases" in str(caught.value)


def test_deep_block_nesting_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "handover.yaml"
    path.write_text("".join(f"{'  ' * depth}k{depth}:\n" for depth in range(80)) + "  " * 80
                    + "x\n")
    with pytest.raises(ConfigError) as caught:
        load_yaml(path)
    assert caught.value.line == 66  # the value of k64, the 65th level
    assert "nested more than 64 deep" in str(caught.value)


def test_every_yaml_load_in_the_package_goes_through_yamlsrc() -> None:
    import balagh
    package = Path(balagh.__file__).parent
    loader = package / "config" / "yamlsrc.py"
    calls = ("yaml.safe_load(", "yaml.load(", "yaml.full_load(", "yaml.unsafe_load(",
             "yaml.compose(", "yaml.load_all(", "yaml.safe_load_all(")
    offenders = [f"{source.relative_to(package)}: {call}"
                 for source in sorted(package.rglob("*.py")) if source != loader
                 for call in calls if call in source.read_text(encoding="utf-8")]
    assert offenders == []

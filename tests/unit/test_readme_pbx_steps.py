"""The README's PBX steps are what `balagh pbx apply` writes (one source: the shipped
config/asterisk files), and no doc example gives the AMI user more than Balagh uses."""

from __future__ import annotations

import re

import pytest

from balagh.config import ASTERISK_CONFIG_DIR
from balagh.pbx import snippets

from .shipped import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
PLACEHOLDERS = {"BALAGH_AMI_SECRET": "<BALAGH_AMI_SECRET>",
                "BALAGH_ARI_PASSWORD": "<BALAGH_ARI_PASSWORD>"}
RENDERED = {
    "manager": snippets.manager(PLACEHOLDERS, general=True),
    "ari": snippets.ari(PLACEHOLDERS, general=True),
    "http": snippets.http(),
}
# AMI classes no example may give: a shell (system), rewriting any .conf (config), any CLI
# command (command), or everything (all).
NEVER = {"system", "config", "command", "all"}


def _settings(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()
            if line.strip() and not line.strip().startswith(";")]


def _block_after(marker: str) -> str:
    after = README.split(f"<!-- pbx-apply: {marker} -->", 1)[1]
    return after.split("```", 2)[1]


@pytest.mark.parametrize("name", sorted(RENDERED))
def test_readme_block_is_what_apply_writes(name: str):
    assert _settings(_block_after(name)) == _settings(RENDERED[name])


def test_readme_module_list_is_the_shipped_one():
    listed = README.split("<!-- pbx-apply: modules -->", 1)[1].split("\n\n", 1)[0]
    shipped = re.findall(r"(?m)^load => (\w+)\.so",
                         (ASTERISK_CONFIG_DIR / "balagh_modules.conf").read_text())
    assert re.findall(r"`(\w+)`", listed) == shipped
    assert {"res_ari_bridges", "res_ari_asterisk", "res_stasis_snoop"} <= set(shipped)


def test_readme_names_no_sandbox_agent_and_both_sounds_folders():
    steps = README.split("## Connecting an existing Asterisk", 1)[1]
    assert "balagh-agents" not in steps
    assert "/usr/share/asterisk/sounds" in steps and "/var/lib/asterisk/sounds" in steps


def test_no_doc_example_gives_the_ami_user_a_dangerous_class():
    for path in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = re.search(r"\b(read|write)\s*=\s*([\w, ]+)", line)
            if match:
                given = {c.strip() for c in match.group(2).split(",")}
                assert not given & NEVER, f"{path.name}:{number}: {line.strip()}"

"""Balagh's Asterisk snippets for an existing PBX, made from the shipped files.

The shipped config/asterisk/*.conf and dialplan/*.conf are the one source: the sandbox
copies them whole, `balagh pbx apply` takes from them the parts a site needs (the AMI and
ARI users exactly as shipped, the HTTP/AMI/ARI [general] lines, the queues without the
sandbox's agents, the dialplan, the module list), and the README's PBX steps are checked
against what this module renders. Pure: text in, text out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from balagh.config import ASTERISK_CONFIG_DIR, DIALPLAN_DIR

LAYOUTS = ("stock", "freepbx")
# Placeholders of the shipped files -> the secrets file's keys.
SECRET_PLACEHOLDERS = {"{{AMI_SECRET}}": "BALAGH_AMI_SECRET",
                       "{{ARI_PASSWORD}}": "BALAGH_ARI_PASSWORD"}
MEMBERS_FILE = "balagh_queue_members.conf"
GENERATED = ("; Written by `balagh pbx apply` from Balagh's {source}. Do not edit: the next\n"
             "; apply writes it again.{more}\n")


@dataclass(frozen=True)
class Section:
    header: str        # "[balagh]" as written, "" for the lines before the first section
    name: str
    lines: tuple[str, ...]

    def text(self, header: str | None = None) -> str:
        head = self.header if header is None else header
        return "\n".join(([head] if head else []) + list(self.lines)).rstrip() + "\n"


def sections(text: str) -> list[Section]:
    """The file's sections in order; the first (name "") holds what comes before any."""
    found: list[Section] = []
    header, name = "", ""
    lines: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("[") and "]" in stripped:
            found.append(Section(header, name, tuple(lines)))
            header, name, lines = stripped.split(";", 1)[0].strip(), \
                stripped[1:stripped.index("]")].strip(), []
        else:
            lines.append(line)
    found.append(Section(header, name, tuple(lines)))
    return found


def _shipped(name: str) -> list[Section]:
    return sections((ASTERISK_CONFIG_DIR / name).read_text(encoding="utf-8"))


def _fill(text: str, secrets: Mapping[str, str]) -> str:
    for placeholder, key in SECRET_PLACEHOLDERS.items():
        text = text.replace(placeholder, secrets[key])
    return text


def _named(found: list[Section], name: str) -> Section:
    return next(section for section in found if section.name == name)


def _general(found: list[Section], reopen: bool) -> str:
    """The shipped [general] lines, added to the site's own [general] when it has one."""
    return _named(found, "general").text("[general](+)" if reopen else "[general]")


def manager(secrets: Mapping[str, str], *, general: bool, reopen: bool = True) -> str:
    """The AMI user as shipped (read = call,agent,user; write = originate,reporting)."""
    return _user("manager.conf", " The secret is BALAGH_AMI_SECRET of Balagh's secrets file.",
                 secrets, general=general, reopen=reopen)


def ari(secrets: Mapping[str, str], *, general: bool, reopen: bool = True) -> str:
    return _user("ari.conf", " The password is BALAGH_ARI_PASSWORD of its secrets file.",
                 secrets, general=general, reopen=reopen)


def _user(source: str, more: str, secrets: Mapping[str, str], *, general: bool,
          reopen: bool) -> str:
    """A shipped file's [balagh] user with its secret filled in, after the lines before any
    section and, with `general`, the shipped [general] lines."""
    found = _shipped(source)
    parts = [GENERATED.format(source=source, more=more), found[0].text()]
    if general:
        parts.append(_general(found, reopen))
    parts.append(_named(found, "balagh").text())
    return _fill("\n".join(parts), secrets)


def http(*, reopen: bool = True) -> str:
    found = _shipped("http.conf")
    return "\n".join([GENERATED.format(source="http.conf", more=""), found[0].text(),
                      _general(found, reopen)])


def queues() -> str:
    """The balagh-NAME queues without the sandbox's agents; the site lists its own in
    balagh_queue_members.conf, which apply makes once and never touches again."""
    found = _shipped("queues.conf")
    parts = [GENERATED.format(source="queues.conf", more=(
        "\n; Asterisk's queue for the routing table's queue NAME is balagh-NAME, beside the\n"
        "; site's other queues. Agents: " + MEMBERS_FILE + " (yours, included below)."))]
    for section in found[1:]:
        if section.name == "general":  # the site's [general] stays the site's
            continue
        lines = tuple(line for line in section.lines
                      if not line.strip().startswith("member") and "Sandbox" not in line)
        parts.append(Section(section.header, section.name, lines).text())
    parts.append(f'#include "{MEMBERS_FILE}"\n')
    return "\n".join(parts)


def queue_members(queue_names: list[str]) -> str:
    """The site's own file of agents: written once, with an example per queue."""
    lines = ["; Your agents in Balagh's queues: uncomment and give each queue its phones.",
             "; `balagh pbx apply` made this file once and never writes it again.",
             ";   member => PJSIP/1001,0,Agent 1001",
             "; With an accept key (docs/admins.md), ring through balagh-accept:",
             ";   member => Local/1001@balagh-accept/n,0,Agent 1001,PJSIP/1001",
             ""]
    for name in queue_names:
        lines += [f";[{name}](+)", ";member => PJSIP/1001,0,Agent 1001", ""]
    return "\n".join(lines)


def modules(*, reopen: bool = True) -> str:
    text = (ASTERISK_CONFIG_DIR / "balagh_modules.conf").read_text(encoding="utf-8")
    if not reopen:
        text = text.replace("[modules](+)", "[modules]")
    return GENERATED.format(source="balagh_modules.conf", more="") + text


def dialplan(name: str) -> str:
    return (DIALPLAN_DIR / name).read_text(encoding="utf-8")


def queue_names() -> list[str]:
    return [section.name for section in _shipped("queues.conf")[1:]
            if section.name != "general" and "!" not in section.header.split("]", 1)[1]]

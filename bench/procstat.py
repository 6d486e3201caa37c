"""A process's CPU time and resident memory from /proc, and the sandbox's log warnings."""

from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time so far (fields 14 and 15 of /proc/<pid>/stat)."""
    return parse_cpu(Path(f"/proc/{pid}/stat").read_text(), TICKS)


def parse_cpu(stat: str, ticks: int) -> float:
    # The command name may hold spaces: fields are counted after its closing parenthesis.
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / ticks


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class LogWatch:
    """New lines of a log file since the last look (the sandbox's messages.log)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = path.stat().st_size if path.exists() else 0

    def new_lines(self) -> list[str]:
        if not self.path.exists():
            return []
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            data = handle.read()
        self.offset += len(data)
        return data.decode("utf-8", "replace").splitlines()


def taskprocessor_warnings(lines: list[str], ignore: str = "") -> list[str]:
    """Asterisk's 'Taskprocessor 'X' queue reached 500 scheduled tasks' lines (older
    versions: 'The 'X' task processor queue reached ...'); those naming `ignore` left out."""
    found = []
    for line in lines:
        low = line.lower()
        if ("taskprocessor" in low or "task processor" in low) and "queue reached" in low:
            if not ignore or ignore not in line:
                found.append(line)
    return found

"""`balagh health`: one look at everything a caller depends on, one line per part.

Each probe (probes.py) has its own timeout and never raises: what fails becomes a line
saying so. report.py folds the lines into one status and an exit code:
0 all well, 1 degraded (calls are served, but something needs a person), 2 down (callers
are not being served by Balagh, or cannot be seen to be).
"""

from balagh.health.report import Check, Status, exit_code, overall

__all__ = ["Check", "Status", "exit_code", "overall"]

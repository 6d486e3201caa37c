"""The sandbox's AMI user for tests: more than the app's user, and only in the sandbox.

The e2e fixtures switch the sandbox agents' recording on and off with DBPut/DBDel,
which need the `system` class the app's own user must never have (manager.conf says
why). `balagh pbx` appends this user to the sandbox's manager.conf only; the file
shipped for real PBXs never has it. Its secret is the sandbox's BALAGH_TEST_AMI_SECRET.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace

from balagh.config import AmiSettings, Settings, read_env_file

USERNAME = "balagh-test"
SECRET_KEY = "BALAGH_TEST_AMI_SECRET"
USERNAME_KEY = "BALAGH_TEST_AMI_USERNAME"

# What the app's user had before it was cut down, less config and command: system for
# DBPut/DBDel (the agents' recording switch), agent for QueuePause/QueueAdd/QueueRemove,
# call for Hangup and PlayDTMF, dialplan for the VarSet events tests wait for.
MANAGER_SECTION = f"""
; Sandbox only (added by `balagh pbx`): the tests' user, see balagh/pbx/test_user.py.
[{USERNAME}]
secret = {{{{TEST_AMI_SECRET}}}}
deny = 0.0.0.0/0.0.0.0
permit = 127.0.0.1/255.255.255.255
read = system,call,agent,user,reporting,originate,dialplan
write = system,call,agent,user,reporting,originate
writetimeout = 5000
"""


def ami_for_tests(settings: Settings, environ: Mapping[str, str] | None = None) -> AmiSettings:
    """The tests' AMI login: BALAGH_TEST_AMI_USERNAME/SECRET from the environment, else
    the sandbox's secret file; the app's own login when neither has a secret."""
    env = os.environ if environ is None else environ
    secret = env.get(SECRET_KEY) or read_env_file(settings.sandbox_secrets).get(SECRET_KEY)
    if not secret:
        return settings.ami
    return replace(settings.ami, username=env.get(USERNAME_KEY) or USERNAME, secret=secret)


__all__ = ["MANAGER_SECTION", "SECRET_KEY", "USERNAME", "ami_for_tests"]

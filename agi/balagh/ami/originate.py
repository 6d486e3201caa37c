"""AMI Originate for a call the app places (reachback's callbacks): the action's fields and
what Asterisk's OriginateResponse says became of it.

The action is Async, with a ChannelId the caller chooses: Asterisk refuses a second
channel with an id that exists, so one attempt can never ring twice at once."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["ANSWERED", "FAILED", "NO_ANSWER", "originate_fields", "outcome"]

ANSWERED, NO_ANSWER, FAILED = "answered", "no-answer", "failed"
# OriginateResponse's Reason (Asterisk's AST_CONTROL_*): 4 answered, 3 rang out,
# 5 busy, 1 hung up while ringing, 8 congestion, 0 no channel at all.
_NO_ANSWER_REASONS = frozenset({"1", "3", "5"})


def originate_fields(*, channel: str, channel_id: str, context: str, variables: Mapping[str, str],
                     ring_seconds: int, caller_id: str = "") -> dict[str, str]:
    """Originate's fields (Action and Async are added by AmiSession.originate). A value
    with a comma would split Asterisk's Variable list: refused here, not sent."""
    for name, value in variables.items():
        if "," in value or "," in name or "=" in name:
            raise ValueError(f"variable {name!r} cannot be sent through Originate")
    fields = {"Channel": channel, "Context": context, "Exten": "s", "Priority": "1",
              "ChannelId": channel_id, "Timeout": str(int(ring_seconds) * 1000),
              "Variable": ",".join(f"{name}={value}" for name, value in variables.items())}
    if caller_id:
        fields["CallerID"] = caller_id
    return fields


def outcome(response: Mapping[str, str]) -> str:
    """answered | no-answer | failed, from the OriginateResponse (or the refusal)."""
    if response.get("Event") != "OriginateResponse":
        return FAILED  # refused outright (a duplicate ChannelId, a bad channel)
    if response.get("Response") == "Success" or response.get("Reason") == "4":
        return ANSWERED
    return NO_ANSWER if response.get("Reason") in _NO_ANSWER_REASONS else FAILED

"""Finding the live bridged call a supervisor asks for, through AMI.

By agent: the agent's channel (PJSIP/1001-..., Local/1001@...;1) that is in a bridge; by
reference: the caller's channel the report names. Either way BRIDGEPEER gives the other
side. The snoop then listens on the agent's channel: it hears both sides, and what it
whispers reaches the agent only.
"""

from __future__ import annotations

from dataclasses import dataclass

from balagh.ami.client import AmiSession


@dataclass(frozen=True)
class LiveCall:
    agent_channel: str   # the channel the snoop listens on
    agent_id: str        # its uniqueid (ARI's channel id)
    caller_channel: str
    caller_id: str       # the caller channel's uniqueid: the report's call_id


def agent_matches(channel: str, agent: str) -> bool:
    """Is `channel` a channel of the agent with extension (or endpoint name) `agent`?"""
    tech, _, rest = channel.partition("/")
    if tech.upper() == "LOCAL":
        return rest.split("@", 1)[0] == agent and rest.endswith(";1")
    return rest.rsplit("-", 1)[0] == agent


async def bridge_peer(ami: AmiSession, channel: str) -> str | None:
    return await ami.getvar(channel, "BRIDGEPEER")


async def find_by_agent(ami: AmiSession, agent: str) -> LiveCall | None:
    channels = await ami.action_list({"Action": "CoreShowChannels"})
    for entry in channels:
        name = str(entry.get("Channel", ""))
        if entry.get("Event") != "CoreShowChannel" or not entry.get("BridgeId"):
            continue
        if agent_matches(name, agent):
            caller = await bridge_peer(ami, name)
            caller_id = await ami.getvar(caller, "UNIQUEID") if caller else None
            if caller and caller_id:
                return LiveCall(agent_channel=name, agent_id=str(entry.get("Uniqueid", "")),
                                caller_channel=caller, caller_id=caller_id)
    return None


async def find_by_caller(ami: AmiSession, caller_channel: str, caller_id: str) -> LiveCall | None:
    agent = await bridge_peer(ami, caller_channel)
    agent_id = await ami.getvar(agent, "UNIQUEID") if agent else None
    if not agent or not agent_id:
        return None
    return LiveCall(agent_channel=agent, agent_id=agent_id, caller_channel=caller_channel,
                    caller_id=caller_id)

"""The FastAGI route service for dialplan-only and FreePBX sites (docs/dialplan-sites.md).

The dialplan asks the questions itself (dialplan/extensions_balagh_dialplan.conf, or a
site's own IVR), then `AGI(agi://127.0.0.1:4573/route)`: the answers are read from channel
variables, routed by the same table as the ARI path and written to the same report store;
the decision goes back as the variables balagh-queue reads.
"""

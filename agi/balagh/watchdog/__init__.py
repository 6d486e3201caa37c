"""`balagh watchdog`: callers are never left in a dead app.

A separate process (its own systemd unit). When the Balagh app's heartbeat
(ari/liveness.py) has not changed for `grace` seconds, every caller still held in the
app is routed by the answers stored so far and continued to the dialplan's queue;
the app, once back, finds none of them (they have left its Stasis).
"""

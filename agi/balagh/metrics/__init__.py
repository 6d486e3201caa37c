"""Prometheus metrics of `balagh run` and the console (docs/metrics.md).

Gauges are read at scrape time from state the app already keeps (its calls, the last
queue poll, the last store sample, the loop's stall, the heartbeat's echo); counters and
histograms follow app_queue's AMI events. The scrape is served from prometheus-client's
own thread: it never waits on the event loop, and the loop never waits on it.
"""

"""Reading reports, for the CLI, the console, health and statistics alike.

- `reader`       (reader.py): typed reads over a read-only connection: one report, a
                 search (and one limited to the queues a viewer may see), a timeline,
                 the monitoring audit, the routing table's history, calls per hour.
- `search`       (search.py): a search's filters as one SQL WHERE clause (pure).
- `timeline`     (timeline.py): a timeline as lines, seconds since the call started.
- `rows`         (rows.py): reports as a table, CSV or JSON; numbers masked by one rule
                 (privacy.mask_number) unless shown in full on purpose.
- `table`        (table.py): rows of cells as aligned text columns.
- `statistics`   (statistics.py, stats_connection.py, daily_counts.py, figures.py,
                 period.py): a period's figures, from stats_hourly or one scan of the
                 reports, on either engine.
- `health`       (health.py): the store's state as health reports it.

Every reader takes either engine: store.opening.report_database(settings) names the
SQLite file or the PostgreSQL server (`database_url`).

SQL text lives here and in balagh.store only. The read model imports the store's
schema-side modules and no feature (ivr, ari, ami, supervise, handover, console, cli);
tests/unit/test_read_model_rules.py keeps both so. Nothing is imported eagerly: the
CLI's commands import only the modules they use.
"""

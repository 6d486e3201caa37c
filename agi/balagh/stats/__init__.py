"""Statistics over the reports: periods, SQL aggregation, tables, charts, periodic reports.

Read-only: everything here opens the database with `mode=ro` and never writes.
"""

"""The statements that run a PostgreSQL server rather than read or write reports: the
sandbox's primary and standby (`balagh pbx db`, pbx/postgres_pair.py) and the tests'
throwaway clusters. Each takes an open autocommit psycopg connection as the superuser."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg


def in_recovery(conn: psycopg.Connection) -> bool:
    """True on a standby (still replaying), False on a primary."""
    row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
    return bool(row and row[0])


def replication(conn: psycopg.Connection) -> list[tuple[str, str, int]]:
    """pg_stat_replication of a primary: each standby's state, sync state and bytes of WAL
    not yet replayed."""
    rows = conn.execute("SELECT state, sync_state, "
                        "pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) "
                        "FROM pg_stat_replication").fetchall()
    return [(str(state), str(sync), int(lag or 0)) for state, sync, lag in rows]


def promote(conn: psycopg.Connection, wait_seconds: int) -> bool:
    """pg_promote() on a standby; True once it takes writes."""
    row = conn.execute("SELECT pg_promote(wait => true, wait_seconds => %s)",
                       (wait_seconds,)).fetchone()
    return bool(row and row[0])


def set_synchronous_standbys(conn: psycopg.Connection, names: str) -> None:
    """synchronous_standby_names on this server, taken at once (ALTER SYSTEM, reload);
    '' for none."""
    from psycopg import sql

    conn.execute(sql.SQL("ALTER SYSTEM SET synchronous_standby_names = {}").format(
        sql.Literal(names)))
    conn.execute("SELECT pg_reload_conf()")


def create_database(conn: psycopg.Connection, name: str, owner: str = "postgres") -> None:
    from psycopg import sql

    conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name),
                                                              sql.Identifier(owner)))


def login_role_and_database(conn: psycopg.Connection, role: str, database: str,
                            password: str) -> None:
    """`role` may log in with `password` and owns `database` (made when absent). The
    SCRAM verifier is made here: the password itself never reaches the server, so no
    server log can show it."""
    from psycopg import sql

    verifier = conn.pgconn.encrypt_password(password.encode(), role.encode(),
                                            b"scram-sha-256").decode()
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
    conn.execute(sql.SQL(("ALTER" if exists else "CREATE") + " ROLE {} LOGIN PASSWORD {}")
                 .format(sql.Identifier(role), sql.Literal(verifier)))
    if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                        (database,)).fetchone():
        create_database(conn, database, owner=role)

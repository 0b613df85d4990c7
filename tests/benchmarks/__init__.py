"""Benchmark scripts (not tests): run on PostgreSQL, report tables for the closing notes."""


def ensure_database(url: str) -> None:
    """Create the benchmark's PostgreSQL database when it does not exist yet (a fresh machine has only `test`)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_engine(target.set(database='postgres'), isolation_level='AUTOCOMMIT')
    try:
        with admin.connect() as conn:
            if conn.scalar(text('SELECT 1 FROM pg_database WHERE datname = :n'), {'n': target.database}) is None:
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
                print(f'created database {target.database}')
    finally:
        admin.dispose()

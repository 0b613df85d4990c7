"""Benchmark scripts (not tests): run on PostgreSQL, report tables for the closing notes."""
import os
import sys


def bench_app(url: str):
    """The app on the benchmark's PostgreSQL database, created when missing; None (and a message) for a URL that
    is not PostgreSQL: the benchmarks measure the production database."""
    if not url.startswith('postgresql'):
        print('PostgreSQL only', file=sys.stderr)
        return None
    ensure_database(url)
    os.environ['TEST_DATABASE_URL'] = url  # the testing settings read it (never DATABASE_URL) when imported
    from app import create_app
    return create_app('testing')


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

"""Benchmark: Excel exports on the 100,000-instance data of bench_service_objects (PostgreSQL).

    python -m tests.benchmarks.bench_service_objects --database-url postgresql://postgres@127.0.0.1:5432/bench
    python -m tests.benchmarks.bench_exports --database-url postgresql://postgres@127.0.0.1:5432/bench

Reads the seeded data (adds the export table when missing, changes nothing else but export rows and messages).
Each export is asked for through the Flask test client with no Redis, so the request returns after the job has
written the file: the time is the whole export (ids, rows in chunks with committed progress, the .xlsx).
Appends a table to tests/benchmarks/results_exports.md.
"""
import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime

from tests.benchmarks import bench_app

PASSWORD = 'demo1234'
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'results_exports.md')
CASES = [('street_xicun', {'kind': 'service_objects', 'view': 'all'}, 'service-object library, all versions'),
         ('street_xicun', {'kind': 'service_objects', 'view': 'approved'}, 'service-object library, approved'),
         ('street_xicun', {'kind': 'tasks', 'state': 'open'}, 'review list, open tasks'),
         ('street_xicun', {'kind': 'tasks', 'state': 'open', 'q': '李'}, 'review list, open tasks, search 李')]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--database-url', default='postgresql://postgres@127.0.0.1:5432/bench')
    p.add_argument('--runs', type=int, default=3)
    p.add_argument('--output', default=OUT, help="appended to; '-' for none")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    app = bench_app(args.database_url)
    if app is None:
        return 2
    app.config['REDIS_URL'] = None  # the job runs inline: the request returns when the file is written
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import ServiceObject
    with app.app_context():
        db.create_all()  # the export table, on data seeded before it existed
        objects = db.session.scalar(select(func.count()).select_from(ServiceObject))
        db.session.remove()
    if objects < 1000:
        print('seed the data first: python -m tests.benchmarks.bench_service_objects', file=sys.stderr)
        return 2
    rows = []
    for username, body, label in CASES:
        client = app.test_client()
        token = client.post('/api/v1/auth/token', json={'username': username, 'password': PASSWORD}).get_json()
        headers = {'Authorization': f'Bearer {token["token"]}'}
        times, job = [], None
        for _ in range(args.runs):
            t = time.perf_counter()
            r = client.post('/api/v1/exports', json=body, headers=headers)
            times.append(time.perf_counter() - t)
            job = r.get_json()
            assert r.status_code == 202 and job['status'] == 'done', job
        size = len(client.get(f'/api/v1/exports/{job["id"]}/file', headers=headers).data)
        median = statistics.median(times)
        rows.append((label, username, job['total_rows'], median, job['total_rows'] / median if median else 0, size))
        print(f'  {label}: {job["total_rows"]:,} rows in {median:.2f} s')
    lines = [f'## Exports, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC ({objects:,} service objects)', '',
             f'Median of {args.runs} runs; each run is one request with the job inline (ids, rows in chunks of 500 '
             'with committed progress, the .xlsx written with openpyxl in write-only mode).', '',
             '| export | user | rows | seconds | rows/s | file |', '|---|---|---:|---:|---:|---:|']
    lines += [f'| {label} | {user} | {n:,} | {sec:.2f} | {rate:,.0f} | {size / 1024:,.0f} KB |'
              for label, user, n, sec, rate, size in rows]
    text = '\n'.join(lines) + '\n'
    print(text)
    if args.output != '-':
        with open(args.output, 'a') as fh:
            fh.write(text + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())

"""Benchmark: whole V-order lifecycles through the JSON API (Flask test client, one process, PostgreSQL).

    python -m tests.benchmarks.bench_v_order --database-url postgresql://postgres@127.0.0.1:5432/bench

One lifecycle = publish (vol_zhang) → station publish review (station_xicun) → accept (vol_li) → acceptor
review (station_xicun) → confirm + rate (vol_zhang) → photo upload + certification (station_xicun) →
certification review with the points award (gzva). Every step is the real HTTP call a phone or inbox
client makes; task ids come from the previous response (no inbox listing is timed). Between accept and
rating the order's service time is moved into the past with one UPDATE (untimed, counted in the wall
clock), as the rating refuses an order that has not started.

Creates the schema and the demo data when the database has none; `--fresh` WIPES the database first.
Appends a markdown table to tests/benchmarks/results_v_order.md. `--profile N` runs N more lifecycles under
cProfile and prints the top functions. Not collected by pytest; importing it does nothing.
"""
import argparse
import cProfile
import io
import math
import os
import pstats
import statistics
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

from tests.benchmarks import bench_app

PASSWORD = 'demo1234'
OUT_DIR = os.path.dirname(os.path.abspath(__file__))
TARGET_PER_SECOND = 20
STEPS = ['publish', 'station review', 'volunteer accept', 'acceptor review', 'confirm + rate', 'photo upload',
         'certify', 'certify review + award']
RATINGS = {k: 5 for k in ('rating_overall', 'rating_arrangement', 'rating_effect', 'rating_attitude', 'rating_skill',
                          'rating_efficiency')}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--database-url', default='postgresql://postgres@127.0.0.1:5432/bench')
    p.add_argument('--lifecycles', type=int, default=200)
    p.add_argument('--warmup', type=int, default=10)
    p.add_argument('--fresh', action='store_true', help='drop everything in the database first')
    p.add_argument('--profile', type=int, default=0, metavar='N', help='profile N extra lifecycles (cProfile)')
    p.add_argument('--threads', type=int, default=1, metavar='N',
                   help='N clients run lifecycles at the same time in this one process, each with its own tokens '
                        '(as a threaded server serves overlapping requests); SQL columns are left out then')
    p.add_argument('--output', default=os.path.join(OUT_DIR, 'results_v_order.md'), help="appended to; '-' for none")
    return p.parse_args(argv)


def pct(values, q):
    """Nearest-rank percentile in ms."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q / 100 * len(s)) - 1))] * 1000


class QueryCounter:
    """Statements sent and seconds spent inside the driver's execute (round trip + server time)."""

    def __init__(self, engine):
        from sqlalchemy import event
        self.count, self.seconds, self._t0 = 0, 0.0, 0.0
        event.listen(engine, 'before_cursor_execute', self._before)
        event.listen(engine, 'after_cursor_execute', self._after)

    def _before(self, *args):
        self.count += 1
        self._t0 = time.perf_counter()

    def _after(self, *args):
        self.seconds += time.perf_counter() - self._t0


class Api:
    """One user's bearer-token client."""

    def __init__(self, app, username):
        self.client = app.test_client()
        r = self.client.post('/api/v1/auth/token', json={'username': username, 'password': PASSWORD})
        assert r.status_code == 200, r.get_data(as_text=True)[:300]
        self.headers = {'Authorization': f'Bearer {r.get_json()["token"]}'}

    def post(self, url, **kw):
        return self.client.post('/api/v1' + url, headers=self.headers, **kw)

    def get(self, url, **kw):
        return self.client.get('/api/v1' + url, headers=self.headers, **kw)


def prepare(app, fresh: bool):
    """Schema and demo data when missing; one approved service object for vol_zhang's orders."""
    from sqlalchemy import inspect, select, text

    from app.extensions import db
    from app.models import ServiceObject, User
    from app.services.demo import seed_demo
    with app.app_context():
        if fresh:
            with db.engine.begin() as conn:
                conn.execute(text('DROP SCHEMA public CASCADE; CREATE SCHEMA public'))
        if not inspect(db.engine).has_table('v_order'):
            db.create_all()
        if db.session.scalar(select(User.id).where(User.username == 'vol_zhang')) is None:
            seed_demo(PASSWORD)
        so = db.session.scalar(select(ServiceObject.id).where(ServiceObject.status == 'approved',
                                                              ServiceObject.household_street.has(code='xicun'))
                               .order_by(ServiceObject.id).limit(1))
        db.session.remove()
    if so is None:
        so = approved_object(app)
    return so


def approved_object(app) -> int:
    from tests.helpers import ELDER_ID, entry_data, png_bytes
    vol = Api(app, 'vol_zhang')
    fid = vol.post('/files', data={'file': (io.BytesIO(png_bytes()), 'p.png')},
                   content_type='multipart/form-data').get_json()['id']
    inst = vol.post('/processes/service_object_entry/instances',
                    json={'data': entry_data([fid], id_number=ELDER_ID)}).get_json()['instance']
    for username in ('station_xicun', 'street_xinshi'):
        task = next(t for t in inst['open_tasks'])
        r = Api(app, username).post(f'/tasks/{task["id"]}/complete', json={'decision': 'approve'})
        assert r.status_code == 200, r.get_json()
        inst = r.get_json()['instance']
    return int(inst['business_key'].split(':')[1])


class Lifecycle:
    def __init__(self, app, so_id, counter=None):
        from app.extensions import db
        from tests.helpers import png_bytes
        self.app, self.so_id, self.png = app, so_id, png_bytes()
        self.engine = db.engine
        self.users = {u: Api(app, u) for u in ('vol_zhang', 'station_xicun', 'vol_li', 'gzva')}
        self.counter = counter or QueryCounter(db.engine)

    def _order_data(self, n):
        start = datetime.now(UTC) + timedelta(hours=2)
        return {'title': f'陪长者复诊{n}', 'demand_type': 'others', 'service_object_ids': [self.so_id],
                'category': 'general', 'service_item': 'escort', 'street': 'xicun',
                'location': {'lat': 23.13, 'lng': 113.25}, 'address': '荔湾区西村街 1 号',
                'start_at': start.isoformat(), 'end_at': (start + timedelta(hours=4)).isoformat(),
                'volunteers_needed': 1, 'needs': '陪同到医院复诊'}

    def _move_service_to_past(self, instance_id):
        from sqlalchemy import text
        with self.engine.begin() as conn:
            conn.execute(text("UPDATE v_order SET start_at = start_at - interval '7 hours', "
                              "end_at = end_at - interval '7 hours' WHERE instance_id = :i"), {'i': instance_id})

    def run(self, n, timings, queries):
        """One whole lifecycle; appends each step's seconds and SQL count."""
        u = self.users
        from tests.helpers import served_day
        today = served_day()

        def step(name, fn):
            q0, s0, t0 = self.counter.count, self.counter.seconds, time.perf_counter()
            resp = fn()
            timings[name].append(time.perf_counter() - t0)
            queries[name].append((self.counter.count - q0, self.counter.seconds - s0))
            assert resp.status_code in (200, 201), (name, resp.status_code, resp.get_data(as_text=True)[:500])
            return resp.get_json()

        def task_of(body, lane):
            inst = body.get('instance', body)
            return next(t['id'] for t in inst['open_tasks'] if t['lane'] == lane)

        body = step('publish', lambda: u['vol_zhang'].post('/processes/v_order/instances',
                                                           json={'data': self._order_data(n)}))
        iid = body['instance']['id']
        t = task_of(body, 'station_admin')
        body = step('station review', lambda: u['station_xicun'].post(
            f'/tasks/{t}/complete', json={'decision': 'approve', 'data': {'dispatch_mode': 'open'}}))
        t = task_of(body, 'volunteer')
        body = step('volunteer accept', lambda: u['vol_li'].post(f'/tasks/{t}/complete',
                                                                 json={'data': {'note': '可以'}}))
        t = task_of(body, 'station_admin')
        body = step('acceptor review', lambda: u['station_xicun'].post(f'/tasks/{t}/complete',
                                                                       json={'decision': 'approve'}))
        self._move_service_to_past(iid)
        t = task_of(body, 'submitter')
        body = step('confirm + rate', lambda: u['vol_zhang'].post(f'/tasks/{t}/complete', json={'data': RATINGS}))
        t = task_of(body, 'station_admin')
        photo = step('photo upload', lambda: u['station_xicun'].post(
            '/files', data={'file': (io.BytesIO(self.png), 'photo.png')}, content_type='multipart/form-data'))
        cert = {'service_start_date': today, 'service_end_date': today, 'person_times': 1, 'object_count': 1,
                'volunteer_count': 1, 'service_hours': 3.5, 'summary': '陪同复诊', 'results': '长者满意',
                'photos': [photo['id']]}
        body = step('certify', lambda: u['station_xicun'].post(f'/tasks/{t}/complete', json={'data': cert}))
        t = task_of(body, 'association_admin')
        body = step('certify review + award', lambda: u['gzva'].post(f'/tasks/{t}/complete',
                                                                     json={'decision': 'approve'}))
        assert body['instance']['status'] == 'completed', body['instance']


def run_clients(clients, start, n, timings, queries) -> float:
    """n lifecycles spread over the clients, each client in its own thread; returns the wall-clock seconds."""
    errors = []

    def work(k, client):
        try:
            for i in range(start + k, start + n, len(clients)):
                client.run(i, timings, queries)
        except BaseException as exc:  # reported after the run: a failed step must not look like a fast one
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k, c)) for k, c in enumerate(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    if errors:
        raise errors[0]
    return wall


def profile(lifecycle, n_runs, start):
    prof = cProfile.Profile()
    timings, queries = {s: [] for s in STEPS}, {s: [] for s in STEPS}
    prof.enable()
    for i in range(n_runs):
        lifecycle.run(start + i, timings, queries)
    prof.disable()
    if os.environ.get('BENCH_PROFILE_FILE'):
        prof.dump_stats(os.environ['BENCH_PROFILE_FILE'])
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats('cumulative').print_stats(45)
    stats.sort_stats('tottime').print_stats(30)
    return out.getvalue()


def report(args, rows, wall, n, ledger_ok) -> str:
    rate = n / wall
    load = ', '.join(f'{x:.1f}' for x in os.getloadavg())
    clients = 'one client at a time' if args.threads == 1 else f'{args.threads} clients at once (threads)'
    lines = [f'\n# Benchmark: V-order lifecycles, {clients} ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)\n',
             f'{n} whole lifecycles after {args.warmup} warm-up, one process, {clients}, Flask test client (no network), '
             f'PostgreSQL, {os.cpu_count()} CPUs. Command: `python -m tests.benchmarks.bench_v_order`. '
             'Each lifecycle: 8 API calls (publish, station review, accept, acceptor review, confirm + rate, '
             'photo upload, certify, certify review + points award).\n',
             f'**{rate:.1f} lifecycles/second** (wall clock {wall:.1f} s; target ≥ {TARGET_PER_SECOND}/s: '
             f'{"PASS" if rate >= TARGET_PER_SECOND else "FAIL"}). Points ledger after the run: '
             f'{"consistent" if ledger_ok else "NOT consistent"}.\n',
             '| step | p50 ms | p95 ms | max ms | mean ms | SQL / call | ms in SQL / call |',
             '|---|---:|---:|---:|---:|---:|---:|']
    sql = args.threads == 1  # the statement counter is not per thread
    for r in rows:
        lines.append(f'| {r["step"]} | {r["p50"]:.1f} | {r["p95"]:.1f} | {r["max"]:.1f} | {r["mean"]:.1f} | '
                     + (f'{r["sql"]:.0f} | {r["sql_ms"]:.1f} |' if sql else '— | — |'))
    lines.append(f'| **whole lifecycle (sum of steps)** | | | | {sum(r["mean"] for r in rows):.1f} | '
                 + (f'{sum(r["sql"] for r in rows):.0f} | {sum(r["sql_ms"] for r in rows):.1f} |' if sql else '— | — |'))
    lines.append(f'\nLoad average while measuring: {load}. "ms in SQL" is the time inside the driver\'s execute '
                 '(round trip and server work; COMMITs are not counted); the rest of a call is Python: Flask, '
                 'SQLAlchemy, the engine, JSON.')
    return '\n'.join(lines) + '\n'


def ledger_consistent(app) -> bool:
    """Every journal entry sums to zero (the ledger's own invariant)."""
    from sqlalchemy import text

    from app.extensions import db
    with app.app_context(), db.engine.connect() as conn:
        bad = conn.execute(text('SELECT count(*) FROM (SELECT entry_id FROM ledger_posting GROUP BY entry_id '
                                'HAVING sum(amount) <> 0) x')).scalar()
    return bad == 0


def main(argv=None) -> int:
    args = parse_args(argv)
    app = bench_app(args.database_url)
    if app is None:
        return 2
    so_id = prepare(app, args.fresh)
    # no app context stays pushed: each test-client request gets its own, as on a real server (a shared
    # one would let Flask-Login's cached user in `g` act for every client)
    with app.app_context():
        lifecycle = Lifecycle(app, so_id)
        clients = [lifecycle] + [Lifecycle(app, so_id, lifecycle.counter) for _ in range(args.threads - 1)]
    warm_t, warm_q = {s: [] for s in STEPS}, {s: [] for s in STEPS}
    for i in range(args.warmup):
        clients[i % len(clients)].run(i, warm_t, warm_q)
    timings, queries = {s: [] for s in STEPS}, {s: [] for s in STEPS}
    wall = run_clients(clients, args.warmup, args.lifecycles, timings, queries)
    prof_text = profile(lifecycle, args.profile, args.warmup + args.lifecycles) if args.profile else ''
    rows = [{'step': s, 'p50': pct(timings[s], 50), 'p95': pct(timings[s], 95), 'max': max(timings[s]) * 1000,
             'mean': statistics.fmean(timings[s]) * 1000, 'sql': statistics.fmean(n for n, _ in queries[s]),
             'sql_ms': statistics.fmean(sec for _, sec in queries[s]) * 1000} for s in STEPS]
    text_out = report(args, rows, wall, args.lifecycles, ledger_consistent(app))
    print(text_out)
    if prof_text:
        print(prof_text)
    if args.output != '-':
        with open(args.output, 'a') as fh:
            fh.write(text_out)
    return 0


if __name__ == '__main__':
    sys.exit(main())

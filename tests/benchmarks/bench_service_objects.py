"""Benchmark: inbox and task completion for service-object entry at 100,000 instances (PostgreSQL).

    python -m tests.benchmarks.bench_service_objects --database-url postgresql://postgres@127.0.0.1:5432/bench

DROPS AND RECREATES every table of the given database. Seeds the demo data, builds a few template
instances per street pair through the real services (start_instance / complete_task), bulk-copies them
with COPY (fresh task UUIDs, ids, ID numbers) and then measures through the Flask test client.
Writes the table to tests/benchmarks/results.md. Not collected by pytest (no test_ prefix) and importing
this module does nothing: every app import happens inside main(), after DATABASE_URL is set.
"""
import argparse
import math
import os
import random
import re
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta

from tests.benchmarks import bench_app

PASSWORD = 'demo1234'
PROCESS_KEY = 'service_object_entry'
STREETS = ['xicun', 'fengyuan', 'beijing', 'xinshi', 'shipai']
# every street alone plus each street with its neighbour: scopes of one and of two streets
PAIRS = [(s, s) for s in STREETS] + [(s, STREETS[(i + 1) % len(STREETS)]) for i, s in enumerate(STREETS)]
KINDS = ('station', 'street', 'done')  # waiting at station review, waiting at street review, approved
REVIEWS_DONE = {'station': (), 'street': ('station_admin',), 'done': ('station_admin', 'street_admin')}
TEMPLATE_NAME = '模板'  # template service objects are named 模板〇〇〇, 模板〇〇一, ... (a name takes no digits)
SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹'
GIVEN = ['伯', '婆', '叔', '姨', '建国', '秀英', '桂芳', '志强', '淑珍', '国华', '玉兰', '德明', '丽华', '永康']
UUID_RE = r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
OUT_DIR = os.path.dirname(os.path.abspath(__file__))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--database-url', required=True, help='PostgreSQL database that will be WIPED')
    p.add_argument('--instances', type=int, default=100_000)
    p.add_argument('--open-per-role', type=int, default=10_000, help='open station and open street tasks each')
    p.add_argument('--requests', type=int, default=200)
    p.add_argument('--warmup', type=int, default=20)
    p.add_argument('--completions', type=int, default=300)
    p.add_argument('--engine-runs', type=int, default=1000)
    p.add_argument('--reuse', action='store_true', help='skip drop/seed and measure the existing data')
    p.add_argument('--seed', type=int, default=20260101)
    p.add_argument('--output', default=os.path.join(OUT_DIR, 'results.md'))
    return p.parse_args(argv)


def pct(values, q):
    """Nearest-rank percentile in ms."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q / 100 * len(s)) - 1))] * 1000


def summary(values) -> dict:
    return {'n': len(values), 'p50': pct(values, 50), 'p95': pct(values, 95), 'max': max(values) * 1000,
            'mean': statistics.fmean(values) * 1000}


# ---------------------------------------------------------------------------------------------- seeding

class Seeder:
    """Templates through the real services, then COPY-based clones of them."""

    def __init__(self, app, rng):
        from app.extensions import db
        self.app, self.db, self.rng = app, db, rng
        self.tables = db.metadata.tables

    # -- templates
    def _bench_users(self):
        """Two city-wide reviewers, so every street pair can be reviewed through complete_task."""
        from sqlalchemy import select

        from app.models import Membership, OrgUnit, User
        from app.services import transaction
        from app.services.auth import hash_password
        db = self.db
        with transaction():
            gz = db.session.scalar(select(OrgUnit).where(OrgUnit.code == 'gz'))
            users = {}
            for role in ('station_admin', 'street_admin'):
                u = User(username=f'bench_{role}', display_name=f'bench {role}', password_hash=hash_password(PASSWORD),
                         memberships=[Membership(role=role, org_unit=gz)])
                db.session.add(u)
                users[role] = u
        return users

    def make_templates(self) -> list[dict]:
        from sqlalchemy import select

        from app.models import HumanTask, User
        from app.services import files, tasks
        from app.services.demo import make_id
        from tests.helpers import entry_data, name_no, png_bytes
        db = self.db
        reviewers = self._bench_users()
        vol = db.session.scalar(select(User).where(User.username == 'vol_zhang'))
        proof = files.upload(vol, 'proof.png', png_bytes())
        templates = []
        for n, (household, residence) in enumerate(PAIRS):
            for k, kind in enumerate(KINDS):
                seq = n * len(KINDS) + k
                idn = make_id('440111', date(1945, 1, 1) + timedelta(days=seq), seq)
                name = f'{TEMPLATE_NAME}{name_no(seq, 3)}'
                inst = tasks.start_instance(vol, PROCESS_KEY, entry_data(
                    [proof.id], id_number=idn, name=name, household_street=household, residence_street=residence))
                for lane in REVIEWS_DONE[kind]:
                    task = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == inst.id,
                                                                     HumanTask.status == 'open'))
                    assert task.lane == lane, (task.lane, lane)
                    tasks.complete_task(reviewers[lane], task.id, decision='approve', reason='bench')
                templates.append({'instance_id': inst.id, 'kind': kind, 'pair': (household, residence),
                                  'id_number': idn, 'name': name})
        db.session.remove()
        return templates

    # -- loading a template's rows
    def _rows(self, conn, table, col, value, order='id'):
        from sqlalchemy import select
        t = self.tables[table]
        q = select(t).where(t.c[col] == value)
        if order:
            q = q.order_by(t.c[order])
        return [dict(r._mapping) for r in conn.execute(q)]

    def load_template(self, conn, tpl: dict) -> dict:
        from sqlalchemy import select
        iid = tpl['instance_id']
        tasks = self._rows(conn, 'human_task', 'instance_id', iid)
        scopes = []
        if tasks:
            t = self.tables['human_task_scope']
            scopes = [dict(r._mapping) for r in conn.execute(
                select(t).where(t.c.human_task_id.in_([x['id'] for x in tasks])).order_by(t.c.id))]
        rows = {'workflow_instance': self._rows(conn, 'workflow_instance', 'id', iid),
                'service_object': self._rows(conn, 'service_object', 'instance_id', iid),
                'human_task': tasks, 'human_task_scope': scopes,
                'decision': self._rows(conn, 'decision', 'instance_id', iid),
                'instance_file': self._rows(conn, 'instance_file', 'instance_id', iid, order=None)}
        inst = rows['workflow_instance'][0]
        so = rows['service_object'][0]
        tokens = [UUID_RE, rf'"service_object_id": {so["id"]}(?!\d)', rf'"instance_id": {iid}(?!\d)',
                  r'"age": \d+', re.escape(tpl['id_number']), re.escape(tpl['name'])]
        return {**tpl, 'rows': rows, 'created_at': inst['created_at'],
                'pattern': re.compile('|'.join(f'({t})' for t in tokens))}

    # -- cloning
    DATETIME_COLS = ('created_at', 'updated_at', 'completed_at', 'claimed_at', 'due_at', 'decided_at', 'at',
                     'next_timer_at')

    def _clone_rows(self, tpl, ids, new_idn, new_name, created_at):
        """Rows of one clone of `tpl`; `ids` hands out the next id per table."""
        from app.services.instances import id_search_key, searchable
        from app.services.validators import age_on, mask_id
        guid_map: dict[str, str] = {}
        shift = created_at - tpl['created_at']
        iid = ids('workflow_instance')
        so_ids = {r['id']: ids('service_object') for r in tpl['rows']['service_object']}
        task_ids = {r['id']: ids('human_task') for r in tpl['rows']['human_task']}
        new_so = next(iter(so_ids.values()))
        age = age_on(new_idn, date.today())
        title = f'{new_name}（{mask_id(new_idn)}）'

        def repl(m):
            g = m.lastindex
            if g == 1:
                return guid_map.setdefault(m.group(0), str(uuid.uuid4()))
            return (f'"service_object_id": {new_so}', f'"instance_id": {iid}', f'"age": {age}',
                    new_idn, new_name)[g - 2]

        def sub(text):
            return tpl['pattern'].sub(repl, text) if text else text

        def fix(row):
            for c in self.DATETIME_COLS:
                if row.get(c) is not None:
                    row[c] = row[c] + shift
            return row

        out = {}
        inst = fix(dict(tpl['rows']['workflow_instance'][0]))
        inst.update(id=iid, state_json=sub(inst['state_json']), title=title,
                    business_key=f'so:{new_so}')
        out['workflow_instance'] = [inst]
        out['service_object'] = [fix({**r, 'id': so_ids[r['id']], 'instance_id': iid, 'id_number': new_idn,
                                      'name': new_name, 'data_json': sub(r['data_json'])})
                                 for r in tpl['rows']['service_object']]
        out['human_task'] = [fix({**r, 'id': task_ids[r['id']], 'instance_id': iid, 'task_guid': sub(r['task_guid']),
                                  'search_text': searchable(title) if r['search_text'] else '',
                                  'id_key': id_search_key(new_idn) if r.get('id_key') else None})
                             for r in tpl['rows']['human_task']]
        out['human_task_scope'] = [fix({**r, 'id': ids('human_task_scope'), 'human_task_id': task_ids[r['human_task_id']]})
                                   for r in tpl['rows']['human_task_scope']]
        out['decision'] = [fix({**r, 'id': ids('decision'), 'instance_id': iid,
                                'human_task_id': task_ids.get(r['human_task_id']), 'data_json': sub(r['data_json'])})
                           for r in tpl['rows']['decision']]
        out['instance_file'] = [{**r, 'instance_id': iid} for r in tpl['rows']['instance_file']]
        return out

    def clone(self, templates, total, open_per_role, chunk=5000):
        """COPY `total` clones: open_per_role at each review step, the rest approved."""
        from sqlalchemy import text

        from app.services.demo import make_id
        order = ['workflow_instance', 'service_object', 'human_task', 'human_task_scope', 'decision', 'instance_file']
        engine = self.db.engine
        with engine.connect() as conn:
            loaded = [self.load_template(conn, t) for t in templates]
            next_id = {t: conn.execute(text(f'SELECT coalesce(max(id), 0) + 1 FROM {t}')).scalar()
                       for t in order if t != 'instance_file'}
        by_kind = {k: [t for t in loaded if t['kind'] == k] for k in KINDS}
        plan = (['station'] * open_per_role + ['street'] * open_per_role
                + ['done'] * max(0, total - 2 * open_per_role))
        self.rng.shuffle(plan)
        now = datetime.now(UTC)

        def ids(table):
            value = next_id[table]
            next_id[table] += 1
            return value

        columns = {t: [c.name for c in self.tables[t].columns] for t in order}
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            for start in range(0, len(plan), chunk):
                batch = {t: [] for t in order}
                for i in range(start, min(start + chunk, len(plan))):
                    kind = plan[i]
                    tpl = by_kind[kind][i % len(by_kind[kind])]
                    born = date(1936, 1, 1) + timedelta(days=i // 500)
                    idn = make_id('440106', born, i % 500)
                    name = self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)
                    days = self.rng.uniform(0, 60) if kind != 'done' else self.rng.uniform(30, 400)
                    for t, rows in self._clone_rows(tpl, ids, idn, name, now - timedelta(days=days)).items():
                        batch[t].extend(rows)
                for t in order:
                    cols = columns[t]
                    with cur.copy(f'COPY {t} ({", ".join(cols)}) FROM STDIN') as cp:
                        for row in batch[t]:
                            cp.write_row([row[c] for c in cols])
                raw.commit()
                print(f'  cloned {min(start + chunk, len(plan)):>7,} / {len(plan):,}', end='\r', flush=True)
            print()
            for t in order:
                if t != 'instance_file':
                    cur.execute(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT max(id) FROM {t}))")
            raw.commit()
            # VACUUM cannot run in a transaction; put the pooled connection back as it was afterwards
            raw.driver_connection.autocommit = True
            try:
                cur.execute('VACUUM ANALYZE')
            finally:
                raw.driver_connection.autocommit = False
        finally:
            raw.close()
        return plan


def seed(app, args, rng) -> dict:
    from app.extensions import db
    from app.services.demo import seed_demo
    t0 = time.perf_counter()
    with app.app_context():
        db.drop_all()
        db.create_all()
        seed_demo(PASSWORD)
    t1 = time.perf_counter()
    seeder = Seeder(app, rng)
    with app.test_request_context():  # forms read the locale, which needs a request
        templates = seeder.make_templates()
    t2 = time.perf_counter()
    with app.app_context():
        seeder.clone(templates, args.instances - len(templates), args.open_per_role)
    t3 = time.perf_counter()
    timings = {'schema + demo': t1 - t0, f'{len(templates)} templates via services': t2 - t1,
               'COPY clones + VACUUM ANALYZE': t3 - t2, 'total': t3 - t0}
    return timings


def template_instance_ids() -> list[int]:
    from sqlalchemy import select

    from app.extensions import db
    from app.models import ServiceObject
    ids = list(db.session.scalars(select(ServiceObject.instance_id).where(
        ServiceObject.name.startswith(TEMPLATE_NAME))))
    db.session.remove()
    return ids


# ---------------------------------------------------------------------------------------------- measuring

class QueryCounter:
    """Counts (and optionally keeps) the SQL statements sent while active."""

    def __init__(self, engine):
        from sqlalchemy import event
        self.engine, self.count, self.keep, self.statements = engine, 0, False, []
        event.listen(engine, 'before_cursor_execute', self._on)

    def _on(self, conn, cursor, statement, parameters, context, executemany):
        self.count += 1
        if self.keep:
            self.statements.append((statement, parameters))


def api_client(app, username):
    client = app.test_client()
    r = client.post('/api/v1/auth/token', json={'username': username, 'password': PASSWORD})
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    return client, {'Authorization': f'Bearer {r.get_json()["token"]}'}


def web_client(app, username):
    client = app.test_client()
    r = client.post('/login', data={'username': username, 'password': PASSWORD})
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    return client


def time_gets(client, url, headers, args, counter):
    for _ in range(args.warmup):
        assert client.get(url, headers=headers).status_code == 200
    samples = []
    before = counter.count
    for _ in range(args.requests):
        t = time.perf_counter()
        r = client.get(url, headers=headers)
        samples.append(time.perf_counter() - t)
        assert r.status_code == 200, (url, r.status_code)
    return samples, (counter.count - before) / args.requests, r


def open_task_ids(lane, path, n, exclude_instances, rng):
    """Random open tasks of `lane` whose scope lies under `path`, outside the templates."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import HumanTask, HumanTaskScope
    from app.services.jurisdiction import path_range
    lo, hi = path_range(path)
    rows = db.session.scalars(select(HumanTask.id).join(HumanTaskScope, HumanTaskScope.human_task_id == HumanTask.id)
                              .where(HumanTask.lane == lane, HumanTask.status == 'open', HumanTaskScope.path >= lo,
                                     HumanTaskScope.path < hi, HumanTask.instance_id.not_in(exclude_instances))
                              .distinct()).all()
    db.session.remove()
    rng.shuffle(rows)
    assert len(rows) >= n, f'only {len(rows)} open {lane} tasks under {path}'
    return rows[:n]


def time_completions(app, username, task_ids, warmup, counter):
    client, headers = api_client(app, username)
    samples, queries = [], []
    for i, tid in enumerate(task_ids):
        before = counter.count
        t = time.perf_counter()
        r = client.post(f'/api/v1/tasks/{tid}/complete', json={'decision': 'approve'}, headers=headers)
        elapsed = time.perf_counter() - t
        assert r.status_code == 200, (tid, r.status_code, r.get_data(as_text=True)[:300])
        if i >= warmup:
            samples.append(elapsed)
            queries.append(counter.count - before)
    return samples, statistics.fmean(queries), r.get_json()


def check_clone_completed(instance_ids):
    """A completed clone approved its own service object, not its template's."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import ServiceObject, WorkflowInstance
    for iid in instance_ids:
        inst = db.session.get(WorkflowInstance, iid)
        so = db.session.scalar(select(ServiceObject).where(ServiceObject.instance_id == iid))
        assert inst.status == 'completed' and inst.outcome == 'approved', (iid, inst.status, inst.outcome)
        assert so.status == 'approved', (iid, so.status)
    db.session.remove()


def engine_only(app, template_ids, runs):
    """load + complete + dump on the engine alone, for both review steps of the same diagram."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import HumanTask, WorkflowInstance, WorkflowVersion
    from workflows.runner import SPEC_CACHE
    results = {}
    with app.app_context():
        states = {}
        for iid in template_ids:
            task = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == iid, HumanTask.status == 'open'))
            if task is not None and task.bpmn_id not in states:
                states[task.bpmn_id] = (db.session.get(WorkflowInstance, iid).state_json, task.task_guid)
        version = db.session.scalar(select(WorkflowVersion).where(WorkflowVersion.process_key == PROCESS_KEY)
                                    .order_by(WorkflowVersion.version.desc()))
        spec_json, key = version.spec_json, version.sha256
        db.session.remove()
    for bpmn_id in ('station_review', 'street_review'):
        state, guid = states[bpmn_id]
        SPEC_CACHE.get(spec_json, key)
        results[bpmn_id] = engine_steps(spec_json, key, state, guid, runs)
    return results


def engine_steps(spec_json, key, state, guid, runs) -> list[float]:
    """Seconds of `runs` engine steps alone: load the state, complete the task, dump. The approve service task
    writes to the database; the engine-only figure replaces it with a no-op."""
    from workflows import InstanceRun, service_tasks
    original = service_tasks._REGISTRY['service_object.approve']
    service_tasks.register('service_object.approve')(lambda data, params: {'status': 'approved'})
    try:
        samples = []
        for _ in range(runs):
            t = time.perf_counter()
            run = InstanceRun.load(spec_json, state, cache_key=key)
            run.complete(guid, {'decision': 'approve'})
            run.dump()
            samples.append(time.perf_counter() - t)
        return samples
    finally:
        service_tasks.register('service_object.approve')(original)


def explain(app, counter, client, url, headers):
    """EXPLAIN (ANALYZE, BUFFERS) of the statements one inbox request sends."""
    from app.extensions import db
    counter.statements, counter.keep = [], True
    client.get(url, headers=headers)
    counter.keep = False
    plans = []
    with app.app_context(), db.engine.connect() as conn:
        for statement, params in counter.statements:
            if 'human_task' not in statement or not statement.lstrip().upper().startswith('SELECT'):
                continue
            plan = conn.exec_driver_sql('EXPLAIN (ANALYZE, BUFFERS) ' + statement, params).scalars().all()
            plans.append((statement, params, plan))
    return plans


def measure(app, args, rng) -> tuple[list, dict, list]:
    from app.extensions import db
    with app.app_context():
        counter = QueryCounter(db.engine)
        template_ids = template_instance_ids()
    info, rows = {}, []

    with app.app_context():
        from sqlalchemy import text
        with db.engine.connect() as conn:
            info['counts'] = {t: conn.execute(text(f'SELECT count(*) FROM {t}')).scalar() for t in (
                'workflow_instance', 'service_object', 'human_task', 'human_task_scope', 'decision')}
            info['open'] = dict(conn.execute(text(
                "SELECT lane, count(*) FROM human_task WHERE status = 'open' GROUP BY lane")).all())

    street_api, street_h = api_client(app, 'street_xicun')
    station_api, station_h = api_client(app, 'station_xicun')
    street_web = web_client(app, 'street_xicun')
    q = '李'
    cases = [('inbox API `GET /api/v1/tasks?state=open` (street_xicun)', street_api, '/api/v1/tasks?state=open',
              street_h, 50),
             ('inbox HTML `GET /inbox` (street_xicun)', street_web, '/inbox', {}, 50),
             (f'inbox search API `?state=open&q={q}` (street_xicun)', street_api,
              f'/api/v1/tasks?state=open&q={q}', street_h, 50),
             (f'inbox search HTML `/inbox?q={q}` (street_xicun)', street_web, f'/inbox?q={q}', {}, 50),
             ('inbox API page 50 (street_xicun)', street_api, '/api/v1/tasks?state=open&page=50', street_h, None),
             ('inbox API `GET /api/v1/tasks?state=open` (station_xicun)', station_api, '/api/v1/tasks?state=open',
              station_h, 50),
             # 统计 over every seeded case: the district's streets, and the whole city for the association
             ('statistics page `/stats` (district_liwan, 2020-2030)', web_client(app, 'district_liwan'),
              '/stats?from=2020-01-01&to=2030-12-31', {}, None),
             ('statistics page `/stats` (gzva, whole city, 2020-2030)', web_client(app, 'gzva'),
              '/stats?from=2020-01-01&to=2030-12-31', {}, None)]
    for label, client, url, headers, target in cases:
        samples, per_req, last = time_gets(client, url, headers, args, counter)
        total = last.get_json()['total'] if last.is_json else None
        rows.append({'label': label, **summary(samples), 'target': target, 'queries': per_req, 'total': total})
        print(f'  {label}: p50 {rows[-1]["p50"]:.1f} ms, p95 {rows[-1]["p95"]:.1f} ms, {per_req:.0f} queries')
    info['explain'] = explain(app, counter, street_api, '/api/v1/tasks?state=open', street_h)
    info['explain_q'] = explain(app, counter, street_api, f'/api/v1/tasks?state=open&q={q}', street_h)

    engine = engine_only(app, template_ids, args.engine_runs)
    eng_street, eng_station = summary(engine['street_review']), summary(engine['station_review'])

    warm = 10
    n = args.completions + warm
    with app.app_context():
        street_ids = open_task_ids('street_admin', '/gz/liwan/xicun/', n, template_ids, rng)
        station_ids = open_task_ids('station_admin', '/gz/liwan/xicun/xicun_station/', n, template_ids, rng)
        from app.models import HumanTask
        street_instances = [db.session.get(HumanTask, t).instance_id for t in street_ids[:50]]
        db.session.remove()
    samples, street_q, _ = time_completions(app, 'street_xicun', street_ids, warm, counter)
    street = summary(samples)
    with app.app_context():
        check_clone_completed(street_instances)
    samples, station_q, _ = time_completions(app, 'station_xicun', station_ids, warm, counter)
    station = summary(samples)
    rows.append({'label': 'complete street review `POST /api/v1/tasks/<id>/complete` (street_xicun)', **street,
                 'target': 30, 'queries': street_q, 'total': None})
    rows.append({'label': 'complete station review (station_xicun)', **station, 'target': 30,
                 'queries': station_q, 'total': None})
    rows.append({'label': 'engine only: load + complete(street_review) + dump', **eng_street, 'target': None,
                 'queries': 0, 'total': None})
    rows.append({'label': 'engine only: load + complete(station_review) + dump', **eng_station, 'target': None,
                 'queries': 0, 'total': None})
    info['ratio_street'] = street['p95'] / eng_street['p95']
    info['ratio_station'] = station['p95'] / eng_station['p95']
    return rows, info


# ---------------------------------------------------------------------------------------------- report

def report(args, seeding, rows, info) -> str:
    def verdict(r):
        return '—' if r['target'] is None else ('PASS' if r['p95'] < r['target'] else 'FAIL')

    lines = ['# Benchmark: service-object entry at scale', '',
             f'Run {datetime.now().astimezone():%Y-%m-%d %H:%M %Z} on {os.cpu_count()} CPUs, '
             f'PostgreSQL, Flask test client (in-process, no network). Command: '
             f'`python -m tests.benchmarks.bench_service_objects --database-url …`', '']
    if seeding:
        lines += ['Seeding: ' + ', '.join(f'{k} {v:.1f} s' for k, v in seeding.items()), '']
    c = info['counts']
    lines += [f'Data: {c["workflow_instance"]:,} instances, {c["service_object"]:,} service objects, '
              f'{c["human_task"]:,} human tasks, {c["human_task_scope"]:,} scope rows, {c["decision"]:,} decisions; '
              'open tasks by lane before the completion runs: '
              + ', '.join(f'{k} {v:,}' for k, v in sorted(info['open'].items(), key=lambda kv: str(kv[0]))), '',
              f'{args.requests} requests after {args.warmup} warm-up per GET row; {args.completions} distinct tasks '
              f'(after 10 warm-up) per completion row; {args.engine_runs} engine runs.', '',
              '| measurement | p50 ms | p95 ms | max ms | SQL / req | target (p95) | result |',
              '|---|---:|---:|---:|---:|---|---|']
    for r in rows:
        label = r['label'] + (f' — {r["total"]:,} matching' if r['total'] is not None else '')
        target = f'< {r["target"]} ms' if r['target'] else '—'
        lines.append(f'| {label} | {r["p50"]:.1f} | {r["p95"]:.1f} | {r["max"]:.1f} | {r["queries"]:.0f} | '
                     f'{target} | {verdict(r)} |')
    for key, label in (('ratio_street', 'street review'), ('ratio_station', 'station review')):
        ratio = info[key]
        lines.append(f'| completion / engine-only p95 ({label}) | | {ratio:.1f}× | | | ≤ 5× | '
                     f'{"PASS" if ratio <= 5 else "FAIL"} |')
    lines += ['', 'Engine-only rows replace the `service_object.approve` service task with a no-op (it writes to '
              'the database); everything else is the real `InstanceRun.load` / `complete` / `dump` on the state '
              'JSON of a seeded instance.', '']
    for key, title in (('explain', 'Inbox queries for street_xicun (page 1)'),
                       ('explain_q', 'Inbox search queries for street_xicun')):
        lines += [f'## EXPLAIN ANALYZE: {title}', '']
        for statement, _params, plan in info[key]:
            first = ' '.join(statement.split())[:160]
            lines += [f'`{first}…`', '', '```'] + plan + ['```', '']
    return '\n'.join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    app = bench_app(args.database_url)
    if app is None:
        return 2
    rng = random.Random(args.seed)
    seeding = None
    if not args.reuse:
        print(f'seeding {args.instances:,} instances ...')
        seeding = seed(app, args, rng)
        print('  ' + ', '.join(f'{k} {v:.1f} s' for k, v in seeding.items()))
    print('measuring ...')
    rows, info = measure(app, args, rng)
    text = report(args, seeding, rows, info)
    print()
    print(text)
    with open(args.output, 'w') as fh:
        fh.write(text + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())

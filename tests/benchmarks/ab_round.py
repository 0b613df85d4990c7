"""One round of an A/B comparison between two checkouts, on the 100,000-instance database `make bench` seeded.

    python -m tests.benchmarks.ab_round --database-url postgresql://postgres@127.0.0.1:5432/bench

Run it alternately in the two checkouts (A, B, A, B, ...) and compare the medians of the rounds: on a machine
whose speed drifts from minute to minute, back-to-back rounds compare code, while two separate `make bench`
runs may mostly compare minutes. Each round completes 80 station and 80 street reviews (distinct open tasks
of 西村街, after 10 warm-up each) and loads street_xicun's inbox 80 times through the API and the page.
Prints one JSON line of [p50, p95] milliseconds per measurement. Not collected by pytest.
"""
import argparse
import json
import random
import sys
import time


def pct(samples):
    s = sorted(samples)
    return [round(s[len(s) // 2] * 1000, 1), round(s[int(len(s) * .95)] * 1000, 1)]


def timed(fn, n, warmup):
    samples = []
    for i in range(n + warmup):
        t0 = time.perf_counter()
        fn(i)
        if i >= warmup:
            samples.append(time.perf_counter() - t0)
    return pct(samples)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--database-url', default='postgresql://postgres@127.0.0.1:5432/bench')
    p.add_argument('-n', type=int, default=80)
    args = p.parse_args(argv)
    from tests.benchmarks import bench_app
    from tests.benchmarks import bench_service_objects as b
    app = bench_app(args.database_url)
    if app is None:
        return 2
    n, warmup, out = args.n, 10, {}
    for name, lane, user in (('complete station review', 'station_admin', 'station_xicun'),
                             ('complete street review', 'street_admin', 'street_xicun')):
        with app.app_context():
            ids = b.open_task_ids(lane, '/gz/liwan/xicun/', n + warmup, b.template_instance_ids(), random.Random())
        api, headers = b.api_client(app, user)

        def complete(i, ids=ids, api=api, headers=headers):
            r = api.post(f'/api/v1/tasks/{ids[i]}/complete', json={'decision': 'approve'}, headers=headers)
            assert r.status_code == 200, r.get_data(as_text=True)[:300]
        out[name] = timed(complete, n, warmup)
    api, headers = b.api_client(app, 'street_xicun')
    web = b.web_client(app, 'street_xicun')
    out['inbox API'] = timed(lambda i: api.get('/api/v1/tasks?state=open', headers=headers), n, warmup)
    out['inbox page'] = timed(lambda i: web.get('/inbox'), n, warmup)
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == '__main__':
    sys.exit(main())

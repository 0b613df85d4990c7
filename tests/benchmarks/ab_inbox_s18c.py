"""One round of an A/B comparison of the inbox page (its 类型 / 排序 choices) on the 100,000-instance database that
bench_service_objects seeded. Run it alternately in two checkouts and compare the medians of the rounds:

    python -m tests.benchmarks.ab_inbox_s18c --database-url postgresql://postgres@127.0.0.1:5432/bench

Loads street_xicun's inbox `-n` times per address (after 10 warm-up) and prints one JSON line of
{address: [p50, p95, SQL statements per request]} in milliseconds. Read-only. Not collected by pytest.
"""
import argparse
import json
import sys
import time

URLS = ('/inbox', '/inbox?sort=oldest', '/inbox?process=service_object_entry', '/inbox?q=李',
        '/inbox?q=李&sort=oldest', '/inbox?state=approved', '/inbox?state=approved&sort=oldest', '/inbox?page=50&sort=oldest')


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--database-url', default='postgresql://postgres@127.0.0.1:5432/bench')
    p.add_argument('-n', type=int, default=100)
    p.add_argument('--user', default='street_xicun')
    p.add_argument('--urls', default=','.join(URLS))
    args = p.parse_args(argv)
    from tests.benchmarks import bench_app
    from tests.benchmarks import bench_service_objects as b
    app = bench_app(args.database_url)
    if app is None:
        return 2
    from app.extensions import db
    with app.app_context():
        counter = b.QueryCounter(db.engine)
    web = b.web_client(app, args.user)
    out = {}
    for url in args.urls.split(','):
        for _ in range(10):
            assert web.get(url).status_code == 200, url
        samples, before = [], counter.count
        for _ in range(args.n):
            t0 = time.perf_counter()
            r = web.get(url)
            samples.append(time.perf_counter() - t0)
            assert r.status_code == 200, url
        s = sorted(samples)
        out[url] = [round(s[len(s) // 2] * 1000, 1), round(s[min(len(s) - 1, int(len(s) * .95))] * 1000, 1),
                    round((counter.count - before) / args.n, 1)]
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == '__main__':
    sys.exit(main())

"""Test data builders shared by web, API and browser tests."""
from datetime import date

from app.services.demo import make_id

ELDER_ID = make_id('440103', date(1950, 6, 15), 55)          # male, 76 in 2026
ELDER_ID_2 = make_id('440104', date(1948, 2, 1), 66, female=True)


def name_no(i: int, width: int = 2) -> str:
    """'〇三' for 3: a number as a test person's name carries it (a person's name takes no digits)."""
    return ''.join('〇一二三四五六七八九'[int(d)] for d in f'{i:0{width}d}')


def png_bytes(width=2, height=2) -> bytes:
    """A real (tiny) PNG file."""
    from app.services.demo_cases import png
    return png(width, height)


def entry_data(file_ids, **overrides) -> dict:
    data = {'name': '陈伯', 'phone': '13800138000', 'category': 'elderly', 'id_number': ELDER_ID,
            'political_status': 'masses', 'living_status': 'alone', 'household_street': 'xicun',
            'household_address': '荔湾区西村街环市西路 1 号', 'community': '西村社区', 'residence_street': 'xinshi',
            'residence_address': '白云区新市街新市路 2 号', 'proof_files': list(file_ids),
            'filler_name': '张建国', 'filler_phone': '13700000000'}
    data.update(overrides)
    return data


def upload_png(api_client, name='proof.png') -> int:
    from io import BytesIO
    resp = api_client.post('/files', data={'file': (BytesIO(png_bytes()), name)}, content_type='multipart/form-data')
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()['id']


def start_entry(api_client, **overrides):
    fid = upload_png(api_client)
    return api_client.post('/processes/service_object_entry/instances', json={'data': entry_data([fid], **overrides)})


def run_together(app, actions):
    """Run each action(client, go) in its own thread, with its own test client and app context (so its own
    database session); `go()` waits until every thread is ready, so the requests after it race. Returns the
    actions' results in order."""
    import threading
    barrier = threading.Barrier(len(actions), timeout=30)
    results, failures = [None] * len(actions), []

    def worker(i, action):
        try:
            with app.app_context():
                results[i] = action(app.test_client(), barrier.wait)
        except Exception as exc:  # surfaced in the main thread
            failures.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(i, a)) for i, a in enumerate(actions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not failures, failures
    return results


def post_together(app, calls):
    """POST each (headers, path, json body) at the same moment; returns [(status, json)] in call order."""
    def post(headers, path, body):
        def action(client, go):
            go()
            resp = client.post(path, json=body, headers=headers)
            return resp.status_code, resp.get_json()
        return action
    return run_together(app, [post(*c) for c in calls])


def served_day() -> str:
    """The Beijing calendar day on which a V-order moved into the past (travel_past_service: it ended an hour ago)
    was served: the day a station certifies (certification dates must lie within the order's service days)."""
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo
    return (datetime.now(UTC) - timedelta(hours=1)).astimezone(ZoneInfo('Asia/Shanghai')).date().isoformat()

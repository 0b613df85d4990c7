"""Numbers no row can have, sent inside JSON bodies (file ids, object ids, task ids, item ids, counts): a clear
422/404/409 answer, never a 500."""
from tests.helpers import entry_data, upload_png
from tests.web.test_v_order_lifecycle import approved_object, order_data

HUGE = 99999999999999999999


def test_huge_numbers_in_bodies_get_an_answer_not_a_500(api):
    vol, station, gzva = api('vol_zhang'), api('station_xicun'), api('gzva')
    fid = upload_png(vol)
    so = approved_object(api)
    calls = [
        (vol, '/processes/service_object_entry/instances', {'data': entry_data([HUGE])}),
        (vol, '/processes/service_object_entry/instances', {'data': entry_data([fid, 2**31])}),
        (vol, '/processes/v_order/instances', {'data': order_data([HUGE])}),
        (vol, '/processes/v_order/instances', {'data': order_data([so], volunteers_needed=HUGE)}),
        (station, '/tasks/batch', {'task_ids': [HUGE, 2**31, -1], 'decision': 'approve'}),
        (api('vol_li'), '/processes/relative_gift/instances', {'data': {'item_id': HUGE}}),
        (gzva, '/shop/pool/allocations', {'username': 'vol_li', 'amount': HUGE, 'reason': 'x', 'request_token': 'tok-1'}),
        (vol, '/shop/donations', {'target': HUGE, 'amount': 1, 'point_type': 'elderly_time', 'request_token': 'tok-2'}),
    ]
    for client, url, body in calls:
        resp = client.post(url, json=body)
        assert resp.status_code in (200, 404, 409, 422), (url, body, resp.status_code, resp.get_data(as_text=True)[:300])
        if url == '/tasks/batch':
            assert all(not r['ok'] for r in resp.get_json()['results'])

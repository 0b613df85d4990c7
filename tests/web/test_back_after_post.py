"""A page answering a POST names the address it stands for in the browser's history (pages are never cached, so
Back onto a POST's page would otherwise be the browser's "confirm form resubmission" error)."""
import re

REPLACE = re.compile(r"history\.replaceState\(history\.state, '', \"([^\"]*)\"\)")


def _history_address(resp):
    found = REPLACE.findall(resp.get_data(as_text=True))
    return found[0] if found else None


def test_a_refused_phone_form_stands_as_its_own_address(login):
    resp = login('vol_zhang').post('/m/service-objects/new', data={'name': '陈伯'})
    assert resp.status_code == 422
    assert _history_address(resp) == '/m/service-objects/new'


def test_a_get_page_rewrites_nothing(login):
    resp = login('vol_zhang').get('/m/service-objects/new')
    assert resp.status_code == 200 and _history_address(resp) is None


def test_refused_forms_of_post_only_addresses_stand_as_their_pages(login):
    gzva = login('gzva')
    resp = gzva.post('/shop/pool/allocate', data={'username': '', 'amount': '0', 'reason': ''})
    assert resp.status_code == 422
    assert _history_address(resp) == '/shop/pool'  # not /shop/pool/allocate, which has no page (405)
    resp = login('district_liwan').post('/shop/items', data={'name': ''})
    assert resp.status_code == 422
    assert _history_address(resp) == '/shop/review?status=pending'


def test_a_pager_on_a_refused_forms_page_links_the_page_not_the_post_address(app):
    from flask import g

    from app.blueprints.template_helpers import url_with
    with app.test_request_context('/shop/items', method='POST'):
        g.page_url = '/shop/review?status=approved&q=米'
        assert url_with(page=2) == '/shop/review?status=approved&q=%E7%B1%B3&page=2'
    with app.test_request_context('/m/service-objects/new?x=1', method='POST'):  # a form page of its own (GET)
        g.page_url = None
        assert url_with(page=3) == '/m/service-objects/new?x=1&page=3'
    with app.test_request_context('/shop/review?status=rejected&page=2'):
        assert url_with(page=None) == '/shop/review?status=rejected'

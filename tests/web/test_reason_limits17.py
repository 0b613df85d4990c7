"""A reviewer's reason over 500 characters is refused with its count and kept for editing, never cut: on a district's
resource review (one and a batch) and on an order's 取消 / 收回派单, which cut or dropped it before."""
from lxml import html as lxml_html

from app.extensions import db
from app.models import VOrder
from tests.web.shop_helpers import item
from tests.web.test_v_order_lifecycle import approved_object
from tests.web.test_v_order_rules import publish

PENDING_LIWAN = '康复理疗体验（1 次）'
LONG = '证明材料不全，' * 72  # 504 characters
TOO_LONG = f'意见不能超过 500 个字（现有 {len(LONG)} 个字），请删减后再提交'


def _doc(resp):
    return lxml_html.fromstring(resp.get_data(as_text=True))


def _status(name):
    db.session.expire_all()
    return item(name).status


def test_a_resource_review_refuses_a_long_reason_and_keeps_it(login):
    page = login('district_liwan')
    target = item(PENDING_LIWAN)
    resp = page.post(f'/shop/review/{target.id}', data={'decision': 'reject', 'reason': LONG})
    assert resp.status_code == 422
    doc = _doc(resp)
    [box] = doc.xpath(f'//textarea[@id="f-reason-{target.id}"]')
    assert box.text == LONG and box.get('maxlength') is None  # all of it kept, nothing cut by the browser
    assert TOO_LONG in resp.get_data(as_text=True)
    assert _status(PENDING_LIWAN) == 'pending'

    resp = page.post('/shop/review/batch', data={'task_ids': [str(target.id)], 'decision': 'reject', 'reason': LONG})
    assert resp.status_code == 422 and TOO_LONG in resp.get_data(as_text=True)
    assert _doc(resp).xpath('//textarea[@id="f-batch-reason"]')[0].text == LONG
    assert _status(PENDING_LIWAN) == 'pending'

    ok = page.post(f'/shop/review/{target.id}', data={'decision': 'reject', 'reason': LONG[:500]})
    assert ok.status_code == 302 and _status(PENDING_LIWAN) == 'rejected'


def test_cancelling_an_order_with_a_long_reason_keeps_it_and_the_order(api, login):
    inst = publish(api('vol_zhang'), approved_object(api))
    order_id = int(inst['business_key'].split(':')[1])
    page = login('vol_zhang')
    resp = page.post(f'/orders/{order_id}/cancel', data={'reason': LONG})
    assert resp.status_code == 422
    doc = _doc(resp)
    [box] = doc.xpath('//textarea[@id="f-close-reason"]')
    assert box.text == LONG and box.get('aria-invalid') == 'true'
    assert TOO_LONG in ' '.join(doc.xpath('//p[@class="field-error"]//text()'))
    db.session.expire_all()
    assert db.session.get(VOrder, order_id).status == 'pending_review'

    resp = page.post(f'/orders/{order_id}/cancel', data={'reason': '  '})  # no reason: said at the box, not a flash
    assert resp.status_code == 422 and '请填写原因' in ' '.join(_doc(resp).xpath('//p[@class="field-error"]//text()'))
    resp = page.post(f'/orders/{order_id}/cancel', data={'reason': '家里已安排'})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(VOrder, order_id).status == 'cancelled'

"""Messages read in the reader's language: the text is stored in Chinese and English when it is written (the
recipient's language is unknown then), whatever language the acting user's pages speak; a reviewer's reason is
shown as typed; messages stored before English was kept read in Chinese."""
from sqlalchemy import select

from app.extensions import db
from app.models import Message, User
from app.services import messages, transaction
from tests.helpers import start_entry
from tests.web.conftest import open_task


def _rejected_entry(api):
    """vol_zhang's entry, rejected by a station user whose pages speak English."""
    vol = api('vol_zhang')
    inst_id = start_entry(vol).get_json()['instance']['id']
    station = api('station_xicun', lang='en')
    task = open_task(station, inst_id)
    resp = station.post(f'/tasks/{task["id"]}/complete', json={'decision': 'reject', 'reason': '身份证照片不清晰'})
    assert resp.status_code == 200, resp.get_json()
    return inst_id


def test_a_decision_reads_in_each_readers_language(api):
    _rejected_entry(api)
    zh = api('vol_zhang').get('/messages').get_json()['items'][0]
    # the reviewer's English pages do not leak into what a Chinese reader gets
    assert zh['title'].startswith('您的提交「陈伯') and '社工站初审：不通过，原因：身份证照片不清晰' in zh['title']
    en = api('vol_zhang', lang='en').get('/messages').get_json()['items'][0]
    assert en['id'] == zh['id']
    assert en['title'].startswith('Your submission “陈伯'), en['title']
    assert 'Station first review: rejected. Reason: 身份证照片不清晰' in en['title'], en['title']
    assert en['body'] == zh['body'] == '身份证照片不清晰'  # the reviewer's own words, as typed


def test_new_task_message_in_english_on_the_page(api, login):
    vol = api('vol_zhang')
    inst_id = start_entry(vol).get_json()['instance']['id']
    open_task(api('station_xicun'), inst_id)
    page = login('station_xicun')
    zh = page.get('/messages').get_data(as_text=True)
    assert '<strong>新待办：社工站初审 · 陈伯' in zh
    en = page.get('/messages?lang=en').get_data(as_text=True)
    assert '<strong>New task: Station first review · 陈伯' in en, en[:2000]
    assert '新待办' not in en


def test_an_order_aborted_by_an_english_reader_tells_the_others_in_their_language(api):
    from tests.web.test_v_order_rules import staffed_order
    inst = staffed_order(api)
    vol_li = api('vol_li')
    order_id = int(inst['business_key'].split(':')[1])
    resp = api('station_xicun', lang='en').post(f'/orders/{order_id}/abort', json={'reason': '长者住院'})
    assert resp.status_code == 200, resp.get_json()
    zh = [m['title'] for m in vol_li.get('/messages').get_json()['items']]
    assert '「陪陈伯复诊」已被西村街社工站中止，原因：长者住院' in ' '.join(zh), zh
    en = [m['title'] for m in api('vol_li', lang='en').get('/messages').get_json()['items']]
    assert 'V-order “陪陈伯复诊” was aborted by 西村街社工站. Reason: 长者住院' in en, en
    assert 'Acceptor review approved: you are confirmed as a volunteer for V-order “陪陈伯复诊”' in en, en


def test_a_message_stored_before_english_was_kept_reads_in_chinese(app, api):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == 'vol_wang'))
        with transaction():
            messages.send([user.id], kind='info', title='旧消息：仅有中文')
        row = db.session.scalar(select(Message).where(Message.user_id == user.id))
        assert row.title_en is None
    assert api('vol_wang', lang='en').get('/messages').get_json()['items'][0]['title'] == '旧消息：仅有中文'


def test_records_written_by_an_english_reader_stay_in_chinese(api):
    from app.models import Decision
    from tests.web.test_v_order_lifecycle import approved_object, order_data
    so = approved_object(api)
    inst = api('vol_zhang').post('/processes/v_order/instances', json={'data': order_data([so])}).get_json()['instance']
    order_id = int(inst['business_key'].split(':')[1])
    assert api('vol_zhang', lang='en').post(f'/orders/{order_id}/cancel', json={'reason': '家属已安排'}).status_code == 200
    titles = db.session.scalars(select(Decision.task_title).where(Decision.instance_id == inst['id'])).all()
    assert '取消订单' in titles and 'Cancel order' not in titles, titles

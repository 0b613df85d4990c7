"""The blacklist reason box (加入黑名单 on 名单与敏感词) and the removal's reason box behave as every other reason box:
no silent cut at 500 characters, a counter that says how much is over, and the server refuses a longer reason with
the whole typed text kept; the API refuses it too."""
import html as html_lib
import re

from sqlalchemy import select

from app.extensions import db
from app.models import UnitListEntry

LONG = ('该团队多次发布与实际不符的活动信息，' * 34)[:600]


def _black_box(page):
    return page[page.index('id="field-reason-black"'):page.index('id="field-reason-black"') + 3000]


def _blacklisted():
    db.session.expire_all()
    return [e.org_unit.code for e in db.session.scalars(select(UnitListEntry).where(UnitListEntry.kind == 'black'))]


def test_the_box_counts_instead_of_cutting(login):
    assert len(LONG) == 600
    box = _black_box(login('gzva').get('/activities/admin').get_data(as_text=True))
    textarea = re.search(r'<textarea id="f-reason-black"[^>]*>', box).group(0)
    assert 'maxlength' not in textarea and 'data-count-max="500"' in textarea
    assert 'count-f-reason-black' in textarea and 'id="count-f-reason-black"' in box and '已输入 0 / 500' in box


def test_a_long_reason_is_refused_with_the_count_and_the_text_kept(login, api):
    resp = login('gzva').post('/activities/admin/lists/black', data={'org_unit': 'team_a', 'reason': LONG})
    assert resp.status_code == 422 and _blacklisted() == []
    box = _black_box(resp.get_data(as_text=True))
    kept = re.search(r'<textarea id="f-reason-black"[^>]*>(.*?)</textarea>', box, re.S).group(1)
    assert html_lib.unescape(kept) == LONG
    assert '已输入 600 / 500，超出 100 个字，请删减' in box
    assert '意见不能超过 500 个字（现有 600 个字），请删减后再提交' in box
    gzva = api('gzva')
    refused = gzva.post('/unit-lists/black', json={'org_unit': 'team_a', 'reason': LONG})
    assert refused.status_code == 422 and _blacklisted() == []
    assert refused.get_json()['errors']['reason'] == ['意见不能超过 500 个字（现有 600 个字），请删减后再提交']
    fits = gzva.post('/unit-lists/black', json={'org_unit': 'team_a', 'reason': LONG[:500]})
    assert fits.status_code == 201 and fits.get_json()['reason'] == LONG[:500]


def test_a_long_removal_reason_is_refused_on_its_page_with_the_text_kept(login, api):
    assert api('gzva').post('/unit-lists/black', json={'org_unit': 'team_a', 'reason': '发布虚假信息'}).status_code == 201
    gzva = login('gzva')
    ask = gzva.get('/activities/admin/lists/black/delete?org_unit=team_a').get_data(as_text=True)
    assert 'maxlength' not in re.search(r'<textarea id="f-reason"[^>]*>', ask).group(0) and '已输入 0 / 500' in ask
    resp = gzva.post('/activities/admin/lists/black/delete', data={'org_unit': 'team_a', 'confirm': 'yes', 'reason': LONG})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422 and _blacklisted() == ['team_a']
    kept = re.search(r'<textarea id="f-reason"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    assert html_lib.unescape(kept) == LONG and '超出 100 个字' in page and '现有 600 个字' in page
    done = gzva.post('/activities/admin/lists/black/delete', data={'org_unit': 'team_a', 'confirm': 'yes', 'reason': '已整改'},
                     follow_redirects=True)
    assert '已移出名单' in done.get_data(as_text=True) and _blacklisted() == []

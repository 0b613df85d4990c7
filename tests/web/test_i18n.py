"""Language choice: Chinese by default; English through ?lang=en, the lang cookie or Accept-Language, on pages
and in API errors; the committed English catalogue is complete."""
import os
import re

from babel.messages.pofile import read_po

from tests.helpers import start_entry

CJK = re.compile(r'[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]')
MAIN_NAV = re.compile(r'<nav class="mainnav"[^>]*>(.*?)</nav>', re.S)
TRANSLATIONS = os.path.join(os.path.dirname(__file__), '..', '..', 'app', 'translations')
EN_PO = os.path.join(TRANSLATIONS, 'en', 'LC_MESSAGES', 'messages.po')
EN_MO = os.path.join(TRANSLATIONS, 'en', 'LC_MESSAGES', 'messages.mo')
PLACEHOLDER = re.compile(r'%\(\w+\)[sd]|%[sd]')


def _nav(html):
    found = MAIN_NAV.search(html)
    assert found, 'no main navigation on the page'
    return found.group(1)


def test_catalogue_is_compiled_complete_and_keeps_placeholders():
    assert os.path.exists(EN_MO) and os.path.getmtime(EN_MO) >= os.path.getmtime(EN_PO), \
        'app/translations/en is not compiled or is stale: run `make translations`'
    with open(EN_PO, 'rb') as fh:
        catalog = read_po(fh)
    messages = [m for m in catalog if m.id]
    assert messages
    for m in messages:
        # a plural entry (ngettext) has a tuple of ids and one translation per English plural form
        ids, strings = (m.id, m.string) if isinstance(m.id, tuple) else ((m.id,), (m.string,))
        assert all(strings) and not m.fuzzy, f'untranslated or fuzzy: {m.id!r}'
        for string in strings:
            assert not CJK.search(string), f'Chinese left in the translation of {m.id!r}'
            assert sorted(PLACEHOLDER.findall(ids[0])) == sorted(PLACEHOLDER.findall(string)), m.id


def test_inbox_in_english_with_lang_parameter(login):
    page = login('station_xicun')
    html = page.get('/inbox?lang=en').get_data(as_text=True)
    nav = _nav(html)
    assert '<html lang="en">' in html
    for text in ('Reviews to do', 'Service objects', 'My submissions', 'Volunteer activities'):
        assert text in nav, text
    assert not CJK.search(nav), nav
    assert 'Messages' in html and 'Log out' in html and 'Review status' in html


def test_inbox_is_chinese_by_default(login):
    page = login('station_xicun')
    html = page.get('/inbox').get_data(as_text=True)
    nav = _nav(html)
    assert '<html lang="zh-CN">' in html
    assert '待办审核' in nav and '服务对象库' in nav and '我的提交' in nav
    assert 'Reviews to do' not in html and '退出' in html


def test_english_from_cookie_and_from_accept_language(login):
    page = login('station_xicun')
    assert page.get('/lang/en').status_code == 302
    assert 'Reviews to do' in _nav(page.get('/inbox').get_data(as_text=True))
    assert page.get('/lang/zh').status_code == 302
    assert '待办审核' in _nav(page.get('/inbox').get_data(as_text=True))
    other = login('station_xicun')
    nav = _nav(other.get('/inbox', headers={'Accept-Language': 'en-GB,en;q=0.9'}).get_data(as_text=True))
    assert 'Reviews to do' in nav and not CJK.search(nav)
    assert '待办审核' in _nav(other.get('/inbox', headers={'Accept-Language': 'zh-CN,zh;q=0.9,en;q=0.5'})
                            .get_data(as_text=True))


def test_api_validation_error_in_english_with_accept_language(api):
    resp = start_entry(api('vol_zhang', lang='en'), phone='12345', community='')
    assert resp.status_code == 422
    body = resp.get_json()
    assert body['message'] == 'Some entries are invalid; please correct them as indicated'
    assert body['errors']['phone'] == [
        'A mobile number has 11 digits starting with 1; a landline needs its area code, e.g. 020-81234567']
    assert body['errors']['community'] == ['This field is required']
    assert not any(CJK.search(m) for msgs in body['errors'].values() for m in msgs), body


def test_api_validation_error_in_chinese_by_default(api):
    resp = start_entry(api('vol_zhang'), phone='12345')
    assert resp.status_code == 422
    body = resp.get_json()
    assert body['message'] == '提交的内容有误，请按提示修改'
    assert body['errors']['phone'] == ['手机号码应为 11 位数字，以 1 开头；固定电话须带区号，如 020-81234567']


def test_texts_written_by_the_page_script_follow_the_language(login):
    """The photo counter and batch-selection texts app.js writes come from the page, in its language."""
    import json
    page = login('vol_zhang')
    found = {}
    for lang in ('zh', 'en'):
        html = page.get(f'/m/new?lang={lang}').get_data(as_text=True)
        raw = re.search(r'<script type="application/json" id="js-strings">(.*?)</script>', html, re.S)
        assert raw, 'page has no js-strings block'
        found[lang] = json.loads(raw.group(1))
    assert found['zh']['selected'] == '已选 %(n)s 项' and found['en']['selected'] == '%(n)s selected'
    assert set(found['zh']) == set(found['en'])
    assert not any(CJK.search(v) for v in found['en'].values()), found['en']

"""Form hints speak the page's language: each shipped form's hint has an English text, and English pages show it
(they used to show no hint at all) while Chinese pages keep theirs."""
import glob
import json
import os

FORMS = os.path.join(os.path.dirname(__file__), '..', '..', 'forms')


def _props(node):
    if isinstance(node, dict):
        if 'x-hint' in node:
            yield node
        for value in node.values():
            yield from _props(value)
    elif isinstance(node, list):
        for value in node:
            yield from _props(value)


def test_every_shipped_hint_has_an_english_text():
    missing = [(os.path.basename(path), prop['x-hint']) for path in glob.glob(os.path.join(FORMS, '*.json'))
               for prop in _props(json.load(open(path, encoding='utf-8'))) if not prop.get('x-hint_en')]
    assert not missing, missing


def test_the_phone_entry_form_shows_its_hints_in_each_language(login):
    page = login('vol_zhang')
    zh = page.get('/m/service-objects/new').get_data(as_text=True)
    assert '手机号码，或带区号的固定电话（如 020-81234567）' in zh and 'A mobile number, or a landline' not in zh
    en = page.get('/m/service-objects/new?lang=en').get_data(as_text=True)
    assert 'A mobile number, or a landline with its area code' in en and '带区号的固定电话' not in en
    assert 'aria-describedby="hint-phone' in en


def test_the_activity_form_shows_its_tag_hint_in_english(login):
    en = login('team_a').get('/activities/new?lang=en').get_data(as_text=True)
    assert "also needs the Veterans Affairs Bureau's final review" in en.replace('&#39;', "'")

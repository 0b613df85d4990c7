"""Every process and user-task name of the shipped diagrams is in the translatable list, and English pages
show it in English."""
import glob
import os
import re

from flask_babel import refresh

from app.services.step_names import NAMES, step_name

BPMN = os.path.join(os.path.dirname(__file__), '..', '..', 'bpmn')
SHOWN = re.compile(r'<bpmn:(?:process|userTask)\b[^>]*\bname="([^"]+)"')


def test_every_shipped_step_name_is_listed():
    shown = {n for f in glob.glob(os.path.join(BPMN, '*.bpmn')) for n in SHOWN.findall(open(f, encoding='utf-8').read())}
    listed = {n._args[0] for n in NAMES}
    assert shown - listed == set(), 'add these names to app/services/step_names.py and translate them'


def test_step_names_follow_the_language(app):
    with app.test_request_context('/?lang=en'):
        assert step_name('社工站初审') == 'Station first review'
        assert step_name('社工站初审、镇街终审') == 'Station first review, Street final review'
        assert step_name('管理员在编辑器里新起的名字') == '管理员在编辑器里新起的名字'
    with app.test_request_context('/'):
        refresh()  # the test's app context cached the English locale
        assert step_name('社工站初审、镇街终审') == '社工站初审、镇街终审'

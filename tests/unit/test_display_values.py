"""Submitted values as reviewers read them: date-times in Beijing time, ID numbers masked."""
from app.blueprints.template_helpers import option_label

DATE_TIME = {'type': 'string', 'format': 'date-time'}


def test_date_times_show_in_beijing_time():
    assert option_label(DATE_TIME, '2026-11-23T18:17:26+00:00') == '2026-11-24 02:17'
    assert option_label(DATE_TIME, '2030-05-01T09:00') == '2030-05-01 09:00'  # typed on a page: already Beijing time
    assert option_label(DATE_TIME, '不是时间') == '不是时间'


def test_id_numbers_are_masked():
    assert option_label({'type': 'string', 'format': 'cn-id-card'}, '440103195006150551') != '440103195006150551'

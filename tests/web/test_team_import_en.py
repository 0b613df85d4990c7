"""The volunteer import in English (walk w1en §8): the English page and template name the columns in English, a file
headed in English imports like one headed in Chinese, messages name columns in the reader's language, and every
.xlsx download has a real ASCII fallback file name (not ".xlsx")."""
import re
from io import BytesIO

from openpyxl import load_workbook

from tests.web.test_exports import _export, jobs_inline  # noqa: F401  (the fixture: exports run inline)
from tests.web.test_team_import import GOOD, OTHER, post_page, team_members, users, xlsx

ENGLISH = ['Name', 'ID number', 'Mobile number', 'Guardian name', 'Guardian relation', 'Guardian ID number',
           'Guardian mobile number']
CHINESE = re.compile('[\u4e00-\u9fff]')
TEMPLATE = '/teams/team_a/volunteers/template.xlsx'


def _sheets(data: bytes) -> dict[str, list[list]]:
    book = load_workbook(BytesIO(data))
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in book.worksheets}


def test_english_template_has_english_sheets_headers_and_instructions(login):
    resp = login('team_a').get(TEMPLATE + '?lang=en')
    assert resp.status_code == 200
    assert resp.headers['Content-Disposition'] == 'attachment; filename=volunteer-import-template.xlsx'
    sheets = _sheets(resp.data)
    assert list(sheets) == ['Volunteers', 'Instructions']
    assert sheets['Volunteers'][0] == ENGLISH and len(sheets['Volunteers']) == 2
    notes = [row[0] for row in sheets['Instructions']]
    assert notes[0].startswith('Row 1 is the header row')
    chinese_headers = [line for line in notes if CHINESE.search(line)]
    assert chinese_headers == ['The headers may be in English or in Chinese; the Chinese headers are: '
                               '姓名, 身份证号码, 手机号码, 监护人姓名, 监护人关系, 监护人身份证号码, 监护人手机号码']
    # the English template, filled in, imports (its example row is recognised as in the Chinese one)
    html = post_page(login('team_a'), data=BytesIO(resp.data), name='volunteers.xlsx').get_data(as_text=True)
    assert '这是模板中的示例行' in html


def test_chinese_template_keeps_its_chinese_layout_and_gets_an_ascii_fallback_name(login):
    resp = login('team_a').get(TEMPLATE)
    disposition = resp.headers['Content-Disposition']
    assert disposition.startswith('attachment; filename=volunteer-import-template.xlsx; filename*=UTF-8'), disposition
    assert disposition.endswith("''%E5%BF%97%E6%84%BF%E8%80%85%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx")
    sheets = _sheets(resp.data)
    assert list(sheets) == ['志愿者', '填写说明'] and sheets['志愿者'][0][:3] == ['姓名', '身份证号码', '手机号码']
    assert 'Name、ID number、Mobile number' in sheets['填写说明'][1][0], 'says English headers work too'


def test_a_file_headed_in_english_imports(login):
    before = users()
    header = ENGLISH[:2] + ['MOBILE NUMBER'] + ENGLISH[3:]  # however it is capitalised
    resp = post_page(login('team_a'), data=xlsx(GOOD[:2], header=header))
    assert resp.status_code == 200, resp.get_data(as_text=True)[:2000]
    assert users() == before + 2 and {'13912345601', '13912345602'} <= team_members()


def _summary(resp) -> str:
    return resp.get_data(as_text=True).split('id="error-summary"')[1].split('</div>')[0]


def test_english_page_names_the_columns_in_english_and_accepts_chinese_ones(login):
    client = login('team_a')
    html = client.get('/teams/team_a/volunteers/import?lang=en').get_data(as_text=True)
    assert 'The headers are: Name, ID number, Mobile number, Guardian name' in html
    assert 'the Chinese headers are: 姓名, 身份证号码' in html
    # a file without the mobile column: the message names the missing column and all of them in English
    resp = client.post('/teams/team_a/volunteers/import?lang=en', content_type='multipart/form-data',
                       data={'file': (xlsx([OTHER[:2]], header=ENGLISH[:2]), 'v.xlsx')})
    assert resp.status_code == 422
    summary = _summary(resp)
    assert 'is missing: Mobile number. Use the import template; its headers are: Name, ID number' in summary
    assert '手机号码' not in summary
    # a Chinese-headed file with a bad row: its column is named in English on the English page
    resp = client.post('/teams/team_a/volunteers/import?lang=en', content_type='multipart/form-data',
                       data={'file': (xlsx([OTHER[:2] + ('1391234560',)]), 'v.xlsx')})
    assert resp.status_code == 422 and 'Mobile number' in _summary(resp) and '手机号码' not in _summary(resp)


def test_export_downloads_have_an_ascii_fallback_name(api, login):
    job, _ = _export(api('station_xicun'), kind='tasks', state='open')
    for resp in (api('station_xicun').get(f'/exports/{job["id"]}/file'),
                 login('station_xicun').get(f'/exports/{job["id"]}/download')):
        assert resp.status_code == 200
        plain = resp.headers['Content-Disposition'].split('filename=')[1].split(';')[0]
        assert re.fullmatch(r'export_\d{8}-\d{4}\.xlsx', plain), resp.headers['Content-Disposition']

"""A search that finds nothing in the shown inbox tab points to the tabs where it does find the case."""
import re

from tests.web.conftest import open_task, submit


def test_search_with_no_match_in_this_tab_links_the_tab_that_has_it(api, login):
    vol, station = api('vol_zhang'), api('station_xicun')
    done = open_task(station, submit(vol, 1))['id']
    assert station.post(f'/tasks/{done}/complete', json={'decision': 'approve'}).status_code == 200
    page = login('station_xicun')

    html = page.get('/inbox?q=长者〇一号').get_data(as_text=True)  # 未审核: it was approved already
    assert '没有找到与“长者〇一号”相关的任务' in html
    link = re.search(r'<a class="elsewhere" href="([^"]+)">到“已通过”查看 1 条</a>', html)
    assert link, html[html.find('empty'):][:600]
    assert '“未通过”' not in html[html.find('class="empty"'):]  # a tab with nothing found is not offered
    followed = page.get(link.group(1).replace('&amp;', '&')).get_data(as_text=True)
    assert f'/inbox/tasks/{done}' in followed and 'aria-current="page">已通过' in followed

    nothing = page.get('/inbox?q=没有这个人').get_data(as_text=True)
    assert '没有找到与“没有这个人”相关的任务' in nothing and 'class="elsewhere"' not in nothing


def test_the_hint_speaks_english(api, login):
    vol, station = api('vol_zhang'), api('station_xicun')
    done = open_task(station, submit(vol, 2))['id']
    assert station.post(f'/tasks/{done}/complete', json={'decision': 'reject', 'reason': '照片模糊'}).status_code == 200
    page = login('station_xicun')
    html = page.get('/inbox?q=长者〇二号', headers={'Accept-Language': 'en'}).get_data(as_text=True)
    assert re.search(r'class="elsewhere"[^>]*>See 1 in "Not approved"</a>', html), html[html.find('empty'):][:600]

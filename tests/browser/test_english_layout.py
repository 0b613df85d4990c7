"""English pages (longer labels than the Chinese) at phone, tablet and desktop widths: no page scrolls sideways, a
header or label is never split inside a word, the header stays about as short as the Chinese one, and switching
the language keeps what was typed on the page."""
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login_as
from tests.helpers import png_bytes
from tests.web.test_messages_exports_fixes import RATINGS
from tests.web.test_v_order_lifecycle import approved_object, complete, open_task, travel_past_service
from tests.web.test_v_order_rules import certification, publish, staffed_order

pytestmark = pytest.mark.browser

# the words of an element's text that the browser split across two lines (a line may break after a space, "/" or "-")
SPLIT_WORDS = """el => {
  const split = [], range = document.createRange();
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    let top = null;
    for (let i = 0; i < node.length; i++) {
      range.setStart(node, i); range.setEnd(node, i + 1);
      const rect = range.getClientRects()[0];
      if (!rect) continue;
      if (top !== null && rect.top > top + 2 && !/[\\s\\/-]/.test(node.data[i - 1])) split.push(node.data.slice(0, i + 1));
      top = rect.top;
    }
  }
  return split;
}"""


def _page(new_page, username, lang, width, kind='desktop'):
    page = new_page(kind)
    page.set_viewport_size({'width': width, 'height': 800})
    login_as(page, username)
    host = urlsplit(page.url).hostname
    page.context.add_cookies([{'name': 'lang', 'value': lang, 'domain': host, 'path': '/'}])
    return page


def _page_width(page):
    return page.evaluate('document.documentElement.scrollWidth')


def _certifying_order(api):
    """An order the station certified: the association's review waits (待认证（已提交，广志协审核中）)."""
    inst = staffed_order(api)
    travel_past_service(inst['id'])
    vol, station = api('vol_zhang'), api('station_xicun')
    complete(vol, open_task(vol, inst['id']), data=RATINGS)
    complete(station, open_task(station, inst['id']), data=certification(station))
    return inst


def test_the_orders_list_wraps_a_long_status_and_breaks_headers_between_words(new_page, api, shot):
    _certifying_order(api)
    page = _page(new_page, 'street_xicun', 'en', 768)
    page.goto('/orders')
    badge = page.locator('table.orders tbody .badge').first
    expect(badge).to_contain_text("association's review")
    shot(page, 'orders-768')
    assert _page_width(page) <= 768
    header = page.locator('table.orders th.wrap')
    assert header.evaluate(SPLIT_WORDS) == []
    assert header.bounding_box()['height'] < 100, 'the header is not a column of single letters'
    page.set_viewport_size({'width': 1280, 'height': 800})
    assert header.evaluate(SPLIT_WORDS) == [] and badge.evaluate(SPLIT_WORDS) == []
    page.set_viewport_size({'width': 375, 'height': 800})
    assert _page_width(page) <= 375
    shot(page, 'orders-375')


@pytest.mark.parametrize('username, path', [('station_xicun', '/library'), ('district_liwan', '/shop/review'),
                                            ('admin', '/admin/cases'), ('admin', '/admin/processes')])
@pytest.mark.parametrize('lang', ['en', 'zh'])
def test_wide_lists_scroll_inside_their_box_at_tablet_width(new_page, app, shot, username, path, lang):
    assert app.test_cli_runner().invoke(args=['demo-cases']).exit_code == 0
    page = _page(new_page, username, lang, 768)
    page.goto(path)
    expect(page.locator('main table.list tbody tr').first).to_be_visible()
    shot(page, path.strip('/').replace('/', '-'))
    assert _page_width(page) <= 768


@pytest.mark.parametrize('lang', ['en', 'zh'])
def test_the_inbox_in_large_text_scrolls_inside_its_box_at_tablet_width(new_page, app, shot, lang):
    assert app.test_cli_runner().invoke(args=['demo-cases']).exit_code == 0
    page = _page(new_page, 'station_xicun', lang, 768)
    page.context.add_cookies([{'name': 'big', 'value': '1', 'domain': urlsplit(page.url).hostname, 'path': '/'}])
    page.goto('/inbox')
    expect(page.locator('body.elder main table.list tbody tr').first).to_be_visible()
    shot(page, 'inbox-big')
    assert _page_width(page) <= 768


@pytest.mark.parametrize('lang', ['en', 'zh'])
def test_the_inbox_filters_fit_a_phone(new_page, app, shot, lang):
    assert app.test_cli_runner().invoke(args=['demo-cases']).exit_code == 0
    page = _page(new_page, 'station_xicun', lang, 375, kind='phone')
    page.goto('/inbox')
    expect(page.locator('.list-option select').first).to_be_visible()
    shot(page, 'inbox')
    assert _page_width(page) <= 375


def test_handle_on_its_page_reads_whole_in_the_pick_column(new_page, api, shot):
    so = approved_object(api)
    inst = publish(api('vol_zhang'), so)
    station = api('station_xicun')
    complete(station, open_task(station, inst['id']), decision='approve', data={'dispatch_mode': 'open'})
    for lang, lines in (('en', 2), ('zh', 1)):
        page = _page(new_page, 'vol_wang', lang, 1280)
        page.goto('/inbox')
        alone = page.locator('td.pick .not-batchable').first
        expect(alone).to_be_visible()
        shot(page, f'inbox-{lang}')
        assert alone.evaluate(SPLIT_WORDS) == []
        line_height = alone.evaluate('e => parseFloat(getComputedStyle(e).lineHeight)')
        assert alone.bounding_box()['height'] < (lines + .5) * line_height


def test_the_editor_tabs_keep_their_labels_whole(new_page, shot):
    page = _page(new_page, 'admin', 'en', 1280)
    page.goto('/admin/processes/v_order')
    tabs = page.locator('.ed-tabs [role=tab]')
    expect(tabs.first).to_have_text('Properties')
    shot(page, 'editor')
    for i in range(tabs.count()):
        assert tabs.nth(i).evaluate(SPLIT_WORDS) == [], tabs.nth(i).inner_text()


@pytest.mark.parametrize('username, width, kind', [('station_xicun', 375, 'phone'), ('vol_zhang', 375, 'phone'),
                                                   ('gzva', 768, 'desktop'), ('station_xicun', 768, 'desktop')])
def test_the_english_header_is_about_as_short_as_the_chinese(new_page, shot, username, width, kind):
    heights = {}
    for lang in ('zh', 'en'):
        page = _page(new_page, username, lang, width, kind)
        page.goto('/messages')
        heights[lang] = page.locator('header.top').bounding_box()['height']
        assert _page_width(page) <= width
        shot(page, f'{lang}-{width}')
    assert heights['en'] <= 1.3 * heights['zh'], heights
    # every entry of the menu is still one tap away
    menu = page.get_by_role('button', name='Menu')
    if menu.is_visible():
        menu.click()
    expect(page.locator('#mainnav a', has_text='Export to Excel')).to_be_visible()


def test_switching_the_language_keeps_what_was_typed(new_page, tmp_path):
    page = new_page('phone')
    login_as(page, 'vol_zhang')
    page.goto('/m/service-objects/new')
    page.locator('#f-name').fill('李阿婆')
    page.get_by_role('button', name='提交').click()
    expect(page.locator('.field-error').first).to_be_visible()   # refused: the page answers the POST
    page.locator('header a[lang=en]').click()
    expect(page.locator('html')).to_have_attribute('lang', 'en')
    expect(page.locator('#f-name')).to_have_value('李阿婆')
    # a picked photo cannot come along: the link asks first, and staying keeps the page as it is
    photo = tmp_path / 'photo.png'
    photo.write_bytes(png_bytes())
    page.locator('input[type=file]').first.set_input_files(str(photo))
    asked = []
    page.once('dialog', lambda d: (asked.append(d.message), d.dismiss()))
    page.locator('header a[lang=zh-CN]').click()
    page.wait_for_timeout(300)
    assert asked == [page.locator('header a[lang=zh-CN]').get_attribute('data-confirm')], asked
    expect(page.locator('html')).to_have_attribute('lang', 'en')
    expect(page.locator('#f-name')).to_have_value('李阿婆')


def _png_pixels(data: bytes) -> list[list[tuple]]:
    """Rows of (r, g, b) of a screenshot (8-bit RGB or RGBA, not interlaced, as Chromium writes them)."""
    import struct
    import zlib
    pos, idat, width = 8, b'', 0
    while pos < len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b'IHDR':
            width, height, depth, colour = struct.unpack('>IIBB', body[:10])
            assert depth == 8 and colour in (2, 6), (depth, colour)
            size = 3 if colour == 2 else 4
        elif kind == b'IDAT':
            idat += body
        pos += 12 + length
    raw, stride, rows, prev = zlib.decompress(idat), width * size, [], bytearray(width * size)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left, up = line[i - size] if i >= size else 0, prev[i]
            corner = prev[i - size] if i >= size else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        rows.append([tuple(line[x * size:x * size + 3]) for x in range(width)])
        prev = line
    return rows


def _edge_darkness(page, box, side: str) -> int:
    """How far from white a 3-px strip at one inner edge of the box is over its body rows: the median pixel's distance
    (a row's border line or a letter crossing the strip does not count; a shadow darkens the whole strip)."""
    body = page.locator('main .table-scroll table.list tbody')
    body.evaluate('el => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 60)')
    rect, rows = box.bounding_box(), body.bounding_box()
    x = rect['x'] + 1 if side == 'left' else rect['x'] + rect['width'] - 4
    shot = page.screenshot(clip={'x': x, 'y': rows['y'] + 2, 'width': 3,
                                 'height': min(rows['height'], page.viewport_size['height'] - rows['y']) - 4})
    darkness = sorted(255 - min(px) for row in _png_pixels(shot) for px in row)
    return darkness[len(darkness) // 2]


def test_a_list_wider_than_its_box_shows_a_shadow_where_more_columns_are(new_page, app):
    """At 768 px the English case list scrolls inside its box: a shadow at the right edge says more columns lie
    beyond; scrolled to the end, the shadow is at the left edge and the right edge is plain."""
    assert app.test_cli_runner().invoke(args=['demo-cases']).exit_code == 0
    page = _page(new_page, 'admin', 'en', 768)
    page.goto('/admin/cases')
    box = page.locator('main .table-scroll').first
    assert box.evaluate('el => el.scrollWidth > el.clientWidth'), 'the list is wider than its box'
    assert _edge_darkness(page, box, 'right') > 12 and _edge_darkness(page, box, 'left') < 5
    box.evaluate('el => { el.scrollLeft = el.scrollWidth; }')
    assert _edge_darkness(page, box, 'left') > 12 and _edge_darkness(page, box, 'right') < 5

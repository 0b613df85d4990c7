"""统计 at desktop width: the wide table of figures scrolls inside its own box, in Chinese and in the longer
English, instead of pushing the whole page (and the header) sideways; English text is set in a Latin font."""
import pytest

from tests.browser.conftest import login_as

pytestmark = pytest.mark.browser


@pytest.mark.parametrize('lang', ['zh', 'en'])
def test_the_statistics_table_scrolls_within_the_page(new_page, lang):
    page = new_page('desktop')
    page.set_viewport_size({'width': 1366, 'height': 800})
    login_as(page, 'gzva')
    page.goto('/stats' + ('?lang=en' if lang == 'en' else ''))
    assert page.locator('table.stats tr.total').count() == 1
    assert page.evaluate('document.documentElement.scrollWidth') <= 1366
    if lang == 'en':
        font = page.evaluate("getComputedStyle(document.body).fontFamily")
        assert not font.startswith('"Noto Sans CJK'), font

"""Symbols drawn by the pages come from the text fonts every phone and the Debian test browser have (Noto CJK,
DejaVu): an emoji such as ✋ drew as an empty box (豆腐块) on the 可接订单 tile where no emoji font is installed."""
import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / 'app' / 'templates'
# pictographs and dingbats; the few dingbats below are in the text fonts and are allowed
SYMBOLS = re.compile('[\u2600-\u27bf\U0001f000-\U0001faff]')
IN_TEXT_FONTS = set('★✓✔✘☛')


def test_no_template_draws_an_emoji_that_text_fonts_lack():
    found = []
    for path in TEMPLATES.rglob('*.html'):
        for n, line in enumerate(path.read_text(encoding='utf-8').splitlines(), 1):
            found += [f'{path.relative_to(TEMPLATES)}:{n}: {ch} (U+{ord(ch):04X})'
                      for ch in SYMBOLS.findall(line) if ch not in IN_TEXT_FONTS]
    assert not found, found

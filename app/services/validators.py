"""Chinese resident ID numbers, mobile numbers, people's names, titles, and calendar days typed into filters."""
import re
import unicodedata
from datetime import date

from flask_babel import lazy_gettext as _l

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# [0-9], not \d: \d also matches full-width and Arabic-Indic digits, which would be stored as typed
_ID_RE = re.compile(r'^[1-9][0-9]{5}(19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9X]$')
_MOBILE_RE = re.compile(r'^1[3-9][0-9]{9}$')
# zero-width spaces and joiners, word joiner, byte-order mark, soft hyphen: pasted along with text, never meant
_INVISIBLE = re.compile('[\\u200b-\\u200d\\u2060\\ufeff\\u00ad]')


def id_check_digit(first17: str) -> str:
    """GB 11643 check character for the first 17 digits."""
    return '10X98765432'[sum(int(c) * w for c, w in zip(first17, _WEIGHTS)) % 11]


def half_width(value: str) -> str:
    """What a Chinese IME in full-width mode typed (１３８…, Ｘ, －, the ideographic space) as plain ASCII (NFKC), with
    invisible characters dropped; for numbers only: names and addresses keep their Chinese punctuation."""
    return _INVISIBLE.sub('', unicodedata.normalize('NFKC', value or ''))


def clean_text(value: str, multiline: bool = False) -> str:
    """Typed text as it is kept: invisible characters dropped, ends trimmed; in a one-line field (a name, an address)
    pasted tabs and line breaks and runs of spaces become one space."""
    text = _INVISIBLE.sub('', value or '')
    if multiline:
        return text.replace('\r\n', '\n').strip()
    return re.sub(r'\s+', ' ', text).strip()


def normalize_id(value: str) -> str:
    """440103 19450101 001x, full-width digits, dashes: the 18 characters of the number, X upper-case."""
    return re.sub(r'[\s\-]', '', half_width(value)).upper()


def id_birth_date(id_number: str) -> date | None:
    """Birth date encoded in a valid-looking ID, None when the date is impossible."""
    try:
        return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None


def is_valid_id(value: str, today: date | None = None) -> bool:
    """Format (born in 1900 or later: nobody older is alive), real birth date not in the future, check digit."""
    s = normalize_id(value)
    if not _ID_RE.match(s):
        return False
    born = id_birth_date(s)
    if born is None or born > (today or date.today()):
        return False
    return s[17] == id_check_digit(s[:17])


def id_gender(id_number: str) -> str:
    """'male' or 'female' from the 17th digit."""
    return 'male' if int(id_number[16]) % 2 else 'female'


def age_on(id_number: str, day: date) -> int:
    """Whole years of age on `day`."""
    born = id_birth_date(id_number)
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def normalize_mobile(value: str) -> str:
    """+86 138-0013 8000, (138) 0013 8000, full-width digits: the 11 digits."""
    s = re.sub(r'[\s\-()]', '', half_width(value))
    return re.sub(r'^(\+?86|0086)', '', s)


def is_valid_mobile(value: str) -> bool:
    return bool(_MOBILE_RE.match(normalize_mobile(value)))


# a landline with its area code: 010 / 02x (3 digits) or 0xxx (4), an optional dash, 7 or 8 digits (never starting
# with 0 or 1), and an optional extension (-123, 转123, ext123)
_LANDLINE_RE = re.compile(r'^(0[1-9][0-9]{1,2})-?([2-9][0-9]{6,7})(?:(?:-|转|ext\.?|#)([0-9]{1,6}))?$', re.IGNORECASE)


def normalize_contact_phone(value: str) -> str:
    """A contact number as kept: a mobile as its 11 digits (normalize_mobile); a landline without spaces, with
    (020) written 020-, an extension after a dash; anything else as typed, spaces dropped."""
    if is_valid_mobile(value):
        return normalize_mobile(value)
    text = re.sub(r'\s+', '', half_width(value))
    text = re.sub(r'^[(]([0-9]{3,4})[)]-?', r'\1-', text)
    found = _LANDLINE_RE.match(text)
    if found is None:
        return text
    area, number, ext = found.groups()
    return f'{area}{"-" if "-" in text[:len(area) + 1] else ""}{number}' + (f'-{ext}' if ext else '')


def is_valid_contact_phone(value: str) -> bool:
    """A mainland mobile (11 digits) or a landline with its area code (020-81234567, 0755-8123456-801)."""
    return is_valid_mobile(value) or bool(_LANDLINE_RE.match(normalize_contact_phone(value)))


NAME_DOT = '·'  # the middle dot between the parts of a minority or foreign name (买买提·艾力), as an ID card has it
# what phones and IMEs type for that dot: the katakana and half-width dots, bullets, a full stop between the parts
_NAME_DOT_LIKE = re.compile('[.\uff0e\u30fb\uff65\u2022\u2027\u2219\u22c5\u2e31\u0387]')
_FULL_WIDTH_LATIN = {c: c - 0xfee0 for r in ((0xff21, 0xff3a), (0xff41, 0xff5a)) for c in range(r[0], r[1] + 1)}
# emoji: the pictograph planes (faces, hands, animals, flags, Mahjong tiles...), the emoji among the symbols and
# dingbats of the BMP (☀ ☺ ♥ ⚽ ✅ ✈ ❤ ⭐...; not ★ ☆ ✓ ① → or Chinese punctuation), the emoji presentation selector and
# the keycap (1️⃣); joiners are dropped by clean_text, and emoji tags are format characters
_EMOJI = re.compile(
    '[\U0001F000-\U0001FAFF\u231A\u231B\u2328\u23CF\u23E9-\u23F3\u23F8-\u23FA'
    '\u2600-\u2604\u260E\u2611\u2614\u2615\u2618\u261D\u2620\u2622\u2623\u2626\u262A\u262E\u262F\u2638-\u263A'
    '\u2640\u2642\u2648-\u2653\u265F\u2660\u2663\u2665\u2666\u2668\u267B\u267E\u267F\u2692-\u2697\u2699\u269B'
    '\u269C\u26A0\u26A1\u26A7\u26AA\u26AB\u26B0\u26B1\u26BD\u26BE\u26C4\u26C5\u26C8\u26CE\u26CF\u26D1\u26D3\u26D4'
    '\u26E9\u26EA\u26F0-\u26F5\u26F7-\u26FA\u26FD\u2702\u2705\u2708-\u270D\u270F\u2712\u2714\u2716\u271D\u2721'
    '\u2728\u2733\u2734\u2744\u2747\u274C\u274E\u2753-\u2755\u2757\u2763\u2764\u2795-\u2797\u27A1\u27B0\u27BF'
    '\u2B1B\u2B1C\u2B50\u2B55\uFE0E\uFE0F\u20E3]')
# control, format (bidi overrides...), surrogate, private-use and unassigned characters
_SPECIAL_CATEGORIES = frozenset({'Cc', 'Cf', 'Cs', 'Co', 'Cn'})
_SHOWN_CATEGORIES_NOT = _SPECIAL_CATEGORIES | {'Mn', 'Mc', 'Me', 'Zs', 'Zl', 'Zp'}


def _ideograph_plane(ch: str) -> bool:
    """Planes 2 and 3 hold CJK ideographs only: a rare character of a name (扩展 H, I...) is one even where this
    Python's Unicode tables are older than it."""
    return 0x20000 <= ord(ch) <= 0x3FFFD


def _shown(chars) -> str:
    """The refused characters a message can show (at most 5, each once); invisible ones cannot be shown."""
    visible = [c for c in chars if unicodedata.category(c) not in _SHOWN_CATEGORIES_NOT]
    return ''.join(list(dict.fromkeys(visible))[:5])


def normalize_person_name(value: str) -> str:
    """A name as it is kept: one line, full-width Latin letters as ASCII, the dots phones type between the parts of a
    minority name (・ • . ．) as “·”, without spaces around it."""
    text = clean_text(value).translate(_FULL_WIDTH_LATIN)
    return re.sub(r'\s*·\s*', NAME_DOT, _NAME_DOT_LIKE.sub(NAME_DOT, text))


def _name_char(name: str, i: int) -> bool:
    """A letter of any script (汉字 included, 〇 and rare ideographs too), or a combining mark on one (é typed as e +
    accent, an ideographic variation selector); never a digit, symbol, emoji or punctuation."""
    ch = name[i]
    if unicodedata.category(ch).startswith('L') or ch == '〇' or _ideograph_plane(ch):
        return True
    return unicodedata.category(ch) in ('Mn', 'Mc') and not _EMOJI.match(ch) and i > 0 and _name_char(name, i - 1)


def person_name_problem(name: str):
    """Why a person's name (as normalize_person_name keeps it) is refused, or None: a real-name record takes Chinese
    characters, letters, spaces and “·” only (no emoji, digits or symbols), the dot and spaces between the parts."""
    bad = [c for i, c in enumerate(name) if c not in ' ' + NAME_DOT and not _name_char(name, i)]
    if bad:
        shown = _shown(bad)
        if shown:
            return _l('姓名只能包含汉字、字母、空格和“·”，请删除“%(chars)s”', chars=shown)
        return _l('姓名只能包含汉字、字母、空格和“·”（其中有看不见的特殊字符，请重新输入姓名）')
    if re.search(f'^[ {NAME_DOT}]|[ {NAME_DOT}]$|[ {NAME_DOT}]{{2}}', name):
        return _l('“·”和空格只能用在姓名的字与字之间，不能放在开头、结尾，也不能连用')
    return None


def _special(ch: str) -> bool:
    return bool(_EMOJI.match(ch)) or (unicodedata.category(ch) in _SPECIAL_CATEGORIES and not _ideograph_plane(ch))


def title_problem(title: str):
    """Why a title (of an order, an activity) is refused, or None: emoji and control characters only; Chinese and
    other punctuation, ★ ① → and the like are kept."""
    bad = [c for c in title if _special(c)]
    if not bad:
        return None
    shown = _shown(bad)
    if shown:
        return _l('标题不能包含表情符号或特殊字符，请删除“%(chars)s”', chars=shown)
    return _l('标题不能包含表情符号或特殊字符（其中有看不见的控制字符，请重新输入标题）')


def mask_id(id_number: str) -> str:
    """Show the first 4 and last 4 characters only (PIPL)."""
    return id_number[:4] + '*' * 10 + id_number[-4:] if len(id_number) == 18 else id_number


def mask_name(name: str) -> str:
    """李阿婆 -> 李**: enough for the submitter to recognise a person, not to learn a name from an ID number."""
    return name[:1] + '*' * (len(name) - 1) if name else name


def mask_phone(phone: str | None) -> str:
    """13700000001 -> 137****0001: enough to check a number the volunteer gives, not to learn it from the page."""
    return f'{phone[:3]}****{phone[-4:]}' if phone and len(phone) >= 8 else ''


def typed_day(raw, field: str, errors: dict) -> date | None:
    """A YYYY-MM-DD day typed into a filter (None when empty); an unreadable one adds a message under `field`."""
    text = half_width(str(raw or '')).strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        shape = re.fullmatch(r'([0-9]{4})-([0-9]{2})-([0-9]{2})', text)
        if shape and 1 <= int(shape.group(2)) <= 12:  # 2026-02-30: written right, but no such day
            errors[field] = [_l('日期不存在：%(day)s 这一天没有，请检查月份和日期', day=text)]
        else:
            errors[field] = [_l('日期格式不正确，应为 年-月-日，例如 2026-11-30')]
        return None


REASON_MAX = 500  # a reviewer's reason: the maxLength of forms/review.json, a batch's and a resource review's


def reason_too_long(reason, max_len: int = REASON_MAX, label=None):
    """The message for a reviewer's reason longer than `max_len` (counted as it is kept), else None: a longer reason
    is refused, never cut, so the submitter reads all of it. `label`: the field's name where it is not 意见
    (撤回原因)."""
    n = len(clean_text(reason, multiline=True)) if isinstance(reason, str) else 0
    if n <= max_len:
        return None
    if label is not None:
        return _l('%(label)s不能超过 %(max)s 个字（现有 %(n)s 个字），请删减后再提交', label=label, max=max_len, n=n)
    return _l('意见不能超过 %(max)s 个字（现有 %(n)s 个字），请删减后再提交', max=max_len, n=n)

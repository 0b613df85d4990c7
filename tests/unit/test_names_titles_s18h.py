"""The rules of a person's name and of a title (app.services.validators), one character kind at a time."""
import pytest

from app.services.validators import normalize_person_name, person_name_problem, title_problem


@pytest.fixture(autouse=True)
def _chinese(app):
    with app.test_request_context():
        yield


@pytest.mark.parametrize('typed, kept', [
    ('陈伯', '陈伯'),
    ('买买提·艾力', '买买提·艾力'),
    ('买买提・艾力', '买买提·艾力'),          # the katakana dot a Japanese-style IME types
    ('阿依古丽 . 买买提', '阿依古丽·买买提'),  # a full stop between the parts, with spaces
    ('John Smith', 'John Smith'),
    ('Ｍａｒｙ', 'Mary'),                    # full-width letters
    ('José', 'José'),
    ('李〇', '李〇'),
    ('\U00030000\U0002EBF0', '\U00030000\U0002EBF0'),  # rare ideographs, one newer than this Python's tables
])
def test_names_of_every_kind_a_register_holds_are_kept(typed, kept):
    assert normalize_person_name(typed) == kept
    assert person_name_problem(normalize_person_name(typed)) is None


@pytest.mark.parametrize('typed, shown', [
    ('李😀大山', '😀'), ('黄伯❤️', '❤'), ('梁2号', '2'), ('陈伯（示例）', '（）'), ('张@三', '@'), ('王🇨🇳', '🇨🇳'),
])
def test_emoji_digits_and_symbols_in_a_name_are_named(typed, shown):
    assert str(person_name_problem(normalize_person_name(typed))) == \
        f'姓名只能包含汉字、字母、空格和“·”，请删除“{shown}”'


def test_invisible_characters_and_a_stray_dot_in_a_name_are_refused():
    assert str(person_name_problem('李\u202e王')) == \
        '姓名只能包含汉字、字母、空格和“·”（其中有看不见的特殊字符，请重新输入姓名）'
    for name in ('·艾力', '艾力·', '买买提··艾力'):
        assert str(person_name_problem(name)) == '“·”和空格只能用在姓名的字与字之间，不能放在开头、结尾，也不能连用'


@pytest.mark.parametrize('title', ['陪周奶奶散步（周六）', '★重阳节「敬老」活动——第①期！', '✓ 报名 → 签到',
                                   '《老兵茶话会》：第 2 期'])
def test_titles_keep_punctuation_and_plain_symbols(title):
    assert title_problem(title) is None


@pytest.mark.parametrize('title, message', [
    ('陪周奶奶散步😀', '标题不能包含表情符号或特殊字符，请删除“😀”'),
    ('❤️关爱长者', '标题不能包含表情符号或特殊字符，请删除“❤”'),
    ('老兵\u0007茶话会', '标题不能包含表情符号或特殊字符（其中有看不见的控制字符，请重新输入标题）'),
    ('老兵\u202e茶话会', '标题不能包含表情符号或特殊字符（其中有看不见的控制字符，请重新输入标题）'),
])
def test_titles_refuse_emoji_and_control_characters(title, message):
    assert str(title_problem(title)) == message

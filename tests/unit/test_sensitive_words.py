"""Sensitive-word matching: normalization and speed with 10,000 words."""
import random
import time

from app.services.sensitive_words import build_automaton, find_in, normalize


def test_normalize_folds_width_case_and_separators():
    assert normalize('敏 感\u3000词') == '敏感词'
    assert normalize('ＡＢＣ') == 'abc'
    assert normalize('A·B-C_d.e，f、g\u200bh') == 'abcdefgh'


def test_mixed_width_and_inserted_spaces_are_caught():
    automaton = build_automaton(['敏感词', 'abc', 'ＸＹＺ１２３'])
    text = '标题里有 敏 感 词，还有Ａｂ Ｃ以及 x y z 1 2 3'
    assert find_in(automaton, text) == ['敏感词', 'abc', 'ＸＹＺ１２３']
    assert find_in(automaton, '干干净净的活动介绍') == []


def test_repeated_hits_are_named_once():
    automaton = build_automaton(['赌博'])
    assert find_in(automaton, '赌博 赌 博 赌·博') == ['赌博']


def test_empty_list_matches_nothing():
    assert find_in(build_automaton([]), '任何内容') == []


def _words(n, rng):
    alphabet = [chr(c) for c in range(0x4e00, 0x4e00 + 3000)]
    return list({''.join(rng.choice(alphabet) for _ in range(rng.randint(2, 5))) for _ in range(n * 2)})[:n]


def test_ten_thousand_words_build_and_match_fast():
    rng = random.Random(5)
    words = _words(10_000, rng)
    alphabet = [chr(c) for c in range(0x4e00, 0x4e00 + 3000)] + list(' ，。ＡＢabc123')
    text = ''.join(rng.choice(alphabet) for _ in range(2000)) + ' '.join(words[1234])
    t0 = time.perf_counter()
    automaton = build_automaton(words)
    t1 = time.perf_counter()
    hits = find_in(automaton, text)
    t2 = time.perf_counter()
    print(f'\n10,000 words: build {1000 * (t1 - t0):.1f} ms, match 2,000 chars {1000 * (t2 - t1):.2f} ms, '
          f'total {1000 * (t2 - t0):.1f} ms')
    assert words[1234] in hits
    assert t2 - t0 < 0.2
    assert t2 - t1 < 0.02


def test_symbols_emoji_and_invisible_characters_between_characters_are_ignored():
    automaton = build_automaton(['敏感词', 'k粉'])
    for text in ('敏😀感词', '敏♥感★词', '敏\u200d感\ufe0f词', '敏\xa0感\t词', '敏\n感\u2003词', '敏｜感／词', 'Ｋ\u3000粉'):
        assert find_in(automaton, text), text
    assert find_in(automaton, '敏捷的感知力，词汇丰富') == []


def test_normalize_keeps_letters_digits_and_cjk():
    assert normalize('重阳节2030活动Ａ１') == '重阳节2030活动a1'

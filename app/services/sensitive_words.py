"""Sensitive-word interception (敏感词拦截): 广志协's word list and a fast Aho-Corasick matcher.

Text and words are compared after NFKC (full-width -> half-width), lower-casing and removing every
space, punctuation mark, symbol (emoji too) and invisible character, so "敏 感 词", "敏·感·词", "敏😀感词"
and "ＡＢＣ" vs "abc" match.
The automaton is cached per process and rebuilt when the list's version counter changes.
"""
import json
import threading
import unicodedata

import ahocorasick
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, ListVersion, SensitiveWord
from app.services import paged, transaction
from app.services.errors import Forbidden, NotFound, ValidationFailed

LIST_KEY = 'sensitive_words'
MAX_WORD = 100
# Unicode categories dropped before matching: punctuation (P), symbols incl. emoji (S), separators and
# spaces (Z), control and format characters such as zero-width joiners (C); plus variation selectors
_DROPPED_CATEGORIES = frozenset('PSZC')
_VARIATION_SELECTORS = frozenset(map(chr, [*range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)]))


def normalize(text: str) -> str:
    """NFKC (full-width -> half-width), lower case, without spaces, punctuation, symbols or invisible characters."""
    folded = unicodedata.normalize('NFKC', text or '').lower()
    return ''.join(c for c in folded
                   if unicodedata.category(c)[0] not in _DROPPED_CATEGORIES and c not in _VARIATION_SELECTORS)


def _too_broad(key: str) -> bool:
    """A single Latin (or Greek, Cyrillic) letter or digit: nearly every text contains it. One Chinese character
    is a real word and stays allowed."""
    if len(key) != 1:
        return False
    return key.isdigit() or unicodedata.name(key, '').split(' ')[0] in ('LATIN', 'GREEK', 'CYRILLIC')


def build_automaton(words) -> ahocorasick.Automaton:
    """An automaton over the normalized words; each key maps to the word as 广志协 entered it."""
    automaton = ahocorasick.Automaton()
    for word in words:
        key = normalize(word)
        if key:
            automaton.add_word(key, word)
    if len(automaton):
        automaton.make_automaton()
    return automaton


def find_in(automaton, text: str) -> list[str]:
    """Listed words found in `text`, in order of first appearance, without repeats."""
    if not len(automaton) or not text:
        return []
    return list(dict.fromkeys(word for _end, word in automaton.iter(normalize(text))))


class _Cache:
    def __init__(self):
        self.version = None
        self.automaton = None
        self.lock = threading.Lock()


_CACHE = _Cache()


def current_version() -> int:
    return db.session.scalar(select(ListVersion.version).where(ListVersion.key == LIST_KEY)) or 0


def _fingerprint() -> tuple:
    """The list's version counter plus its newest row (id, time): two index lookups. The counter alone
    repeats when a database is recreated or restored, which would leave another list's matcher cached."""
    newest = db.session.execute(select(SensitiveWord.id, SensitiveWord.created_at)
                                .order_by(SensitiveWord.id.desc()).limit(1)).first()
    return (current_version(), *(tuple(newest) if newest else (None, None)))


def _automaton():
    key = _fingerprint()
    if _CACHE.version != key or _CACHE.automaton is None:
        words = db.session.scalars(select(SensitiveWord.word)).all()
        automaton = build_automaton(words)
        with _CACHE.lock:
            _CACHE.version, _CACHE.automaton = key, automaton
    return _CACHE.automaton


def find(text: str) -> list[str]:
    """Listed words contained in `text` (reads the current list)."""
    return find_in(_automaton(), text)


def check_fields(values: dict, fields) -> None:
    """ValidationFailed naming the words when any of `fields` contains a listed word."""
    automaton = _automaton()
    errors = {}
    for name in fields:
        value = values.get(name)
        text = '、'.join(value) if isinstance(value, list) else str(value or '')
        hits = find_in(automaton, text)
        if hits:
            errors[name] = [_l('包含敏感词：%(words)s，请修改后再提交', words='、'.join(hits))]
    if errors:
        raise ValidationFailed(errors)


def _require_association(user) -> None:
    if not any(m.role == 'association_admin' for m in user.memberships):
        raise Forbidden(_l('只有广志协管理员可以维护敏感词'))


def _bump() -> int:
    row = db.session.get(ListVersion, LIST_KEY)
    if row is None:
        row = ListVersion(key=LIST_KEY, version=0)
        db.session.add(row)
    row.version = (row.version or 0) + 1
    return row.version


def _audit(user, action, word) -> None:
    db.session.add(AuditLog(actor_id=user.id, action=action, target=word[:200],
                            detail_json=json.dumps({'word': word}, ensure_ascii=False)))


def list_words(user, q=None, page=1, per_page=50):
    """(rows, total) of the word list, newest first."""
    _require_association(user)
    cond = SensitiveWord.word.contains(q.strip()[:50], autoescape=True) if q else True
    return paged(select(SensitiveWord).where(cond).order_by(SensitiveWord.id.desc()), page, per_page)


def add_words(user, words) -> list[dict]:
    """Add words, all or none: a word already listed, or repeated in `words` (after normalization), is refused and
    named; one audit row per word. Returns [{'id', 'word'}] (read before the commit expires the rows)."""
    result = add_new_words(user, words, strict=True)
    return result['added']


def add_new_words(user, words, strict=False) -> dict:
    """Add the new words of a pasted list; the ones already listed or repeated in the list are skipped and named
    ({'added': [{'id', 'word'}], 'listed': [words], 'repeated': [words]}). A blank, symbols-only or too long line
    refuses the whole list (ValidationFailed naming every such line); with `strict` a skipped word does too."""
    _require_association(user)
    words = [w.strip() for w in (words or []) if isinstance(w, str) and w.strip()]
    if not words:
        raise ValidationFailed({'word': [_l('请输入敏感词')]})
    keys, problems = [], []
    for word in words:
        key = normalize(word)
        if not key:
            problems.append(_l('“%(w)s”只包含空格或符号，不能作为敏感词', w=word))
        elif _too_broad(key):
            problems.append(_l('“%(w)s”只有一个字母或数字，几乎所有文字都会被拦截，不能作为敏感词；请输入完整的词（单个汉字可以）',
                               w=word))
        elif len(word) > MAX_WORD:
            problems.append(_l('“%(w)s…”超过 %(n)s 个字，不能作为敏感词', w=word[:10], n=MAX_WORD))
        keys.append(key)
    if problems:
        raise ValidationFailed({'word': problems})
    with transaction():
        listed = _listed(keys)
        added, seen, on_list, repeated = [], set(), [], []
        for word, key in zip(words, keys, strict=True):
            if key in listed:
                on_list.append(word)
                continue
            if key in seen:
                repeated.append(word)
                continue
            seen.add(key)
            row = SensitiveWord(word=word, normalized=key, created_by_id=user.id)
            db.session.add(row)
            _audit(user, 'sensitive_word.add', word)
            added.append(row)
        if strict and (on_list or repeated):
            raise ValidationFailed({'word': [*(_l('敏感词“%(w)s”已在列表中', w=w) for w in on_list),
                                             *(_l('敏感词“%(w)s”重复输入了', w=w) for w in repeated)]})
        if added:
            _bump()
            db.session.flush()
        added = [{'id': row.id, 'word': row.word} for row in added]
    return {'added': added, 'listed': on_list, 'repeated': repeated}


def _listed(keys) -> set[str]:
    """Which of the normalized keys are on the list already (one query per 1,000 keys)."""
    keys, found = sorted(set(keys)), set()
    for i in range(0, len(keys), 1000):
        found.update(db.session.scalars(select(SensitiveWord.normalized)
                                        .where(SensitiveWord.normalized.in_(keys[i:i + 1000]))))
    return found


def remove_word(user, word) -> None:
    """Remove a word (matched after normalization, or exactly as listed); audited. None given is asked for (422), as
    adding does; a word not listed is a 404."""
    _require_association(user)
    word = word.strip() if isinstance(word, str) else ''
    if not word:
        raise ValidationFailed({'word': [_l('请输入敏感词')]})
    key = normalize(word)
    with transaction():
        row = db.session.scalar(select(SensitiveWord).where(
            (SensitiveWord.normalized == key) | (SensitiveWord.word == word)).order_by(SensitiveWord.id).limit(1))
        if row is None:
            raise NotFound(_l('敏感词不在列表中'))
        _audit(user, 'sensitive_word.remove', row.word)
        db.session.delete(row)
        _bump()

"""Drive bpmn/relative_gift.bpmn on the engine alone (recording service tasks), dumping and loading
the state between every step: submit -> hold -> 广志协 review -> approve | reject | 30-day expiry."""
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.workflows.support import compiled_spec, operators, reload, started, step
from workflows import lint, scope_codes

ROOT = Path(__file__).resolve().parents[2]
DIAGRAM = ROOT / 'bpmn' / 'relative_gift.bpmn'
KEY = 'relative_gift'
ROLES = {'submitter', 'association_admin'}
FORMS = {'relative_gift.json', 'review.json'}
OPERATORS = ('gift.hold', 'gift.approve', 'gift.reject', 'gift.expire')
SUBMIT = {'gift_id': 7, 'item_id': 3, 'relative_name': '张大爷', 'review_scope': ['gz']}


@pytest.fixture
def calls():
    recorded: list[str] = []

    def make(name):
        def handler(data, params):
            recorded.append(name)
            assert data['gift_id'] == 7  # every step works on the submitted request
            return {'ok': True}
        return handler

    with operators({n: make(n) for n in OPERATORS}):
        yield recorded


@pytest.fixture
def spec(calls):
    return compiled_spec(DIAGRAM, KEY, ROLES, FORMS)


def submitted(spec):
    run = started(spec, {'instance_id': 1})
    [task] = run.ready_tasks()
    assert (task.bpmn_id, task.lane, task.form) == ('submit', 'submitter', 'relative_gift.json')
    assert run.next_timer_at() is None  # the clock starts only once the request waits for review
    return step(run, spec, 'submit', SUBMIT)


def test_diagram_lints_clean_has_di_and_no_scripts(calls):
    xml = DIAGRAM.read_bytes()
    assert lint(xml, KEY, roles=ROLES, forms=FORMS) == []
    assert b'<bpmndi:BPMNDiagram' in xml and xml.count(b'<bpmndi:BPMNShape') >= 14
    assert b'scriptTask' not in xml and b'preScript' not in xml


def test_submit_holds_points_then_waits_for_association_review(spec, calls):
    run = submitted(spec)
    assert calls == ['gift.hold']
    [task] = run.ready_tasks()
    assert (task.bpmn_id, task.lane, task.form, scope_codes(task)) == ('review', 'association_admin', 'review.json',
                                                                        ['gz'])
    due = run.next_timer_at()
    expected = datetime.now(UTC) + timedelta(days=30)
    assert abs((due - expected).total_seconds()) < 60
    assert task.due_at == due


def test_approval_posts_the_hold_once_and_ends(spec, calls):
    run = step(submitted(spec), spec, 'review', {'decision': 'approve'})
    assert run.is_completed()
    assert calls == ['gift.hold', 'gift.approve']
    assert run.completed_bpmn_ids()[-1] == 'end_approved'
    assert run.next_timer_at() is None


def test_rejection_voids_the_hold_and_ends(spec, calls):
    run = step(submitted(spec), spec, 'review', {'decision': 'reject', 'reason': '关系证明不清晰'})
    assert run.is_completed()
    assert calls == ['gift.hold', 'gift.reject']
    assert run.completed_bpmn_ids()[-1] == 'end_rejected'


def test_anything_but_approve_never_spends(spec, calls):
    run = step(submitted(spec), spec, 'review', {'decision': None})
    assert calls == ['gift.hold', 'gift.reject']
    assert run.is_completed()


def test_thirty_days_without_review_expires_the_hold(spec, calls):
    run = submitted(spec)
    run.fire_timers()
    run = reload(run, spec)
    assert [t.bpmn_id for t in run.ready_tasks()] == ['review']  # 29 days and more to go: nothing happens
    assert run.advance_clock(timedelta(days=29, hours=23)) == 1
    run.fire_timers()
    run = reload(run, spec)
    assert calls == ['gift.hold'] and not run.is_completed()
    run.advance_clock(timedelta(hours=1, minutes=1))
    run = reload(run, spec)
    run.fire_timers()
    run = reload(run, spec)
    assert run.is_completed() and run.ready_tasks() == []
    assert calls == ['gift.hold', 'gift.expire']
    assert run.completed_bpmn_ids()[-1] == 'end_expired'
    assert 'review' not in run.completed_bpmn_ids()

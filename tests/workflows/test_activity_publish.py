"""Drive bpmn/activity_publish.bpmn on the engine alone (stubbed service tasks), dumping and
loading the state between every step."""
from pathlib import Path

import pytest

from tests.workflows.support import assert_shipped_diagram_clean, compiled_spec, operators, started, step
from workflows import scope_codes

ROOT = Path(__file__).resolve().parents[2]
DIAGRAM = ROOT / 'bpmn' / 'activity_publish.bpmn'
KEY = 'activity_publish'
ROLES = {'submitter', 'association_admin', 'veterans_admin'}
FORMS = {'activity_publish.json', 'review.json'}
OPERATORS = ('activity.classify', 'activity.skip_review', 'activity.reject', 'activity.publish', 'activity.abandon')
START = {'instance_id': 1}


class Stub:
    """Recording service-task handlers; classify answers from `flags` (changeable between rounds)."""

    def __init__(self):
        self.calls: list[tuple[str, dict]] = []
        self.flags = {'whitelisted': False, 'blacklisted': False, 'veterans': False}

    def handler(self, name):
        def run(data, params):
            self.calls.append((name, params))
            return dict(self.flags) if name == 'activity.classify' else {'ok': True}
        return run

    def names(self):
        return [n for n, _ in self.calls]


@pytest.fixture
def stub():
    s = Stub()
    with operators({n: s.handler(n) for n in OPERATORS}):
        yield s


@pytest.fixture
def spec(stub):
    return compiled_spec(DIAGRAM, KEY, ROLES, FORMS)


def start(spec):
    return started(spec, START)


def submit(run, spec, revision, tags=()):
    return step(run, spec, 'submit', {'title': '重阳敬老', 'tags': list(tags), 'revision': revision, 'activity_id': 7,
                                      'team_unit': 'team_a', 'review_scope': ['gz'], 'veterans_scope': ['gz']})


def test_diagram_lints_clean_and_has_di(stub):
    assert_shipped_diagram_clean(DIAGRAM, KEY, ROLES, FORMS, min_shapes=20)


def test_not_whitelisted_not_veterans_association_is_final(spec, stub):
    run = submit(start(spec), spec, 1)
    [task] = run.ready_tasks()
    assert (task.bpmn_id, task.lane, scope_codes(task)) == ('association_review', 'association_admin', ['gz'])
    run = step(run, spec, 'association_review', {'decision': 'approve'})
    assert run.is_completed()
    assert stub.names() == ['activity.classify', 'activity.publish']
    assert run.completed_bpmn_ids()[-2:] == ['publish', 'end_published']


def test_not_whitelisted_veterans_needs_bureau(spec, stub):
    stub.flags['veterans'] = True
    run = submit(start(spec), spec, 1, tags=['veterans'])
    run = step(run, spec, 'association_review', {'decision': 'approve'})
    [task] = run.ready_tasks()
    assert (task.bpmn_id, task.lane, scope_codes(task)) == ('veterans_review', 'veterans_admin', ['gz'])
    assert 'activity.publish' not in stub.names()
    run = step(run, spec, 'veterans_review', {'decision': 'approve'})
    assert run.is_completed() and stub.names()[-1] == 'activity.publish'


def test_whitelisted_skips_association_review(spec, stub):
    stub.flags['whitelisted'] = True
    run = submit(start(spec), spec, 1)
    assert run.is_completed()
    assert stub.names() == ['activity.classify', 'activity.skip_review', 'activity.publish']
    assert 'association_review' not in run.completed_bpmn_ids()


def test_whitelisted_veterans_still_needs_bureau(spec, stub):
    stub.flags.update(whitelisted=True, veterans=True)
    run = submit(start(spec), spec, 1, tags=['veterans'])
    assert [t.bpmn_id for t in run.ready_tasks()] == ['veterans_review']
    assert 'activity.publish' not in stub.names()
    run = step(run, spec, 'veterans_review', {'decision': 'reject', 'reason': '时间冲突'})
    assert [t.bpmn_id for t in run.ready_tasks()] == ['submit']
    assert 'activity.publish' not in stub.names()
    run = submit(run, spec, 2, tags=['veterans'])
    run = step(run, spec, 'veterans_review', {'decision': 'approve'})
    assert run.is_completed()
    assert stub.names().count('activity.publish') == 1


def test_blacklisted_and_whitelisted_cannot_skip(spec, stub):
    stub.flags.update(whitelisted=True, blacklisted=True)
    run = submit(start(spec), spec, 1)
    assert [t.bpmn_id for t in run.ready_tasks()] == ['association_review']
    assert 'activity.skip_review' not in stub.names()


def test_association_reject_then_resubmit(spec, stub):
    run = submit(start(spec), spec, 1)
    run = step(run, spec, 'association_review', {'decision': 'reject', 'reason': '地点不清楚'})
    [task] = run.ready_tasks()
    assert (task.bpmn_id, task.lane) == ('submit', 'submitter')
    assert stub.calls[-1] == ('activity.reject', {'stage': 'association'})
    # the lists are read again on every round: the team was whitelisted meanwhile
    stub.flags['whitelisted'] = True
    run = submit(run, spec, 2)
    assert run.is_completed()
    assert stub.names() == ['activity.classify', 'activity.reject', 'activity.classify', 'activity.skip_review',
                            'activity.publish']


def test_veterans_reject_returns_to_submitter(spec, stub):
    stub.flags['veterans'] = True
    run = submit(start(spec), spec, 1)
    run = step(run, spec, 'association_review', {'decision': 'approve'})
    run = step(run, spec, 'veterans_review', {'decision': 'reject', 'reason': '请补充安全预案'})
    assert stub.calls[-1] == ('activity.reject', {'stage': 'veterans'})
    run = submit(run, spec, 2)
    run = step(run, spec, 'association_review', {'decision': 'approve'})
    run = step(run, spec, 'veterans_review', {'decision': 'approve'})
    assert run.is_completed()


def test_revision_cap_abandons(spec, stub):
    run = submit(start(spec), spec, 21)
    assert run.is_completed()
    assert stub.names() == ['activity.abandon']
    assert run.completed_bpmn_ids()[-1] == 'end_abandoned'


@pytest.mark.parametrize('white', [False, True])
@pytest.mark.parametrize('black', [False, True])
@pytest.mark.parametrize('veterans', [False, True])
def test_every_list_and_veterans_combination_routes_as_the_spec_says(spec, stub, white, black, veterans):
    """Approving every step: association review unless whitelisted and not blacklisted; the bureau
    for every veterans' activity; published exactly once, and only after the last required review."""
    stub.flags.update(whitelisted=white, blacklisted=black, veterans=veterans)
    run = submit(start(spec), spec, 1)
    expected = ([] if white and not black else ['association_review']) + (['veterans_review'] if veterans else [])
    seen = []
    while not run.is_completed():
        assert 'activity.publish' not in stub.names()
        [task] = run.ready_tasks()
        seen.append(task.bpmn_id)
        run = step(run, spec, task.bpmn_id, {'decision': 'approve'})
    assert seen == expected
    assert stub.names().count('activity.publish') == 1 and stub.names()[-1] == 'activity.publish'
    assert ('activity.skip_review' in stub.names()) == (white and not black)


def test_veterans_activity_rejected_by_association_never_reaches_the_bureau(spec, stub):
    stub.flags['veterans'] = True
    run = submit(start(spec), spec, 1, tags=['veterans'])
    run = step(run, spec, 'association_review', {'decision': 'reject', 'reason': '请补充安全预案'})
    assert [t.bpmn_id for t in run.ready_tasks()] == ['submit']
    assert 'veterans_review' not in run.completed_bpmn_ids()
    assert stub.calls[-1] == ('activity.reject', {'stage': 'association'})
    # whitelisted meanwhile: the second round skips the association but still waits for the bureau
    stub.flags['whitelisted'] = True
    run = submit(run, spec, 2, tags=['veterans'])
    assert [t.bpmn_id for t in run.ready_tasks()] == ['veterans_review']
    assert 'activity.publish' not in stub.names()
    run = step(run, spec, 'veterans_review', {'decision': 'approve'})
    assert run.is_completed() and stub.names().count('activity.publish') == 1


def test_blacklisted_only_team_is_reviewed_and_can_be_rejected_repeatedly(spec, stub):
    stub.flags['blacklisted'] = True
    run = submit(start(spec), spec, 1)
    for revision in (2, 3):
        run = step(run, spec, 'association_review', {'decision': 'reject', 'reason': '信息不全'})
        run = submit(run, spec, revision)
    run = step(run, spec, 'association_review', {'decision': 'approve'})
    assert run.is_completed()
    assert stub.names().count('activity.reject') == 2 and 'activity.skip_review' not in stub.names()

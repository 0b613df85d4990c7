"""Drive bpmn/activity_signup.bpmn on the engine alone (stubbed service tasks), dumping and loading the state between
every step: the review goes to the publishing unit's lane (team or station), scoped to that unit."""
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.workflows.support import assert_shipped_diagram_clean, compiled_spec, recording, started, step
from workflows import scope_codes

ROOT = Path(__file__).resolve().parents[2]
DIAGRAM = ROOT / 'bpmn' / 'activity_signup.bpmn'
KEY = 'activity_signup'
ROLES = {'submitter', 'team_admin', 'station_admin'}
FORMS = {'activity_signup.json', 'review.json'}
OPERATORS = ('signup.approve', 'signup.reject', 'signup.expire')
STARTS_AT = (datetime.now(UTC) + timedelta(days=3)).isoformat()  # the activity's start: the review's deadline


@pytest.fixture
def calls():
    with recording(OPERATORS) as seen:
        yield seen


@pytest.fixture
def spec(calls):
    return compiled_spec(DIAGRAM, KEY, ROLES, FORMS)


def submitted(spec, kind, unit):
    run = started(spec, {'instance_id': 1})
    return step(run, spec, 'submit', {'activity_id': 7, 'signup_id': 3, 'publisher_kind': kind,
                                      'publisher_unit': unit, 'team_scope': [unit], 'station_scope': [unit],
                                      'expire_at': STARTS_AT})


def test_diagram_lints_clean_has_di_and_no_scripts(calls):
    assert_shipped_diagram_clean(DIAGRAM, KEY, ROLES, FORMS, min_shapes=12)


def test_team_activity_is_reviewed_by_the_team_and_approved(spec, calls):
    run = submitted(spec, 'team', 'team_a')
    [task] = run.ready_tasks()
    assert (task.bpmn_id, task.lane, scope_codes(task)) == ('team_review', 'team_admin', ['team_a'])
    run = step(run, spec, 'team_review', {'decision': 'approve', 'reason': ''})
    assert run.is_completed() and [n for n, _ in calls] == ['signup.approve']
    assert calls[0][1]['signup_id'] == 3


def test_station_activity_is_reviewed_by_the_station_and_rejected_with_reason(spec, calls):
    run = submitted(spec, 'station', 'xicun_station')
    [task] = run.ready_tasks()
    assert (task.bpmn_id, task.lane, scope_codes(task)) == ('station_review', 'station_admin', ['xicun_station'])
    run = step(run, spec, 'station_review', {'decision': 'reject', 'reason': '名额已满'})
    assert run.is_completed() and [n for n, _ in calls] == ['signup.reject']
    assert calls[0][1]['reason'] == '名额已满'


@pytest.mark.parametrize('kind,unit,review', [('team', 'team_a', 'team_review'),
                                              ('station', 'xicun_station', 'station_review')])
def test_a_sign_up_still_unreviewed_when_the_activity_starts_ends_by_itself(spec, calls, kind, unit, review):
    run = submitted(spec, kind, unit)
    assert run.ready_bpmn_ids() == [review]
    assert abs(run.next_timer_at() - datetime.fromisoformat(STARTS_AT)) < timedelta(seconds=1)
    run.advance_clock(timedelta(days=2, hours=23))  # an hour before the start: nothing happens
    run.fire_timers()
    assert run.ready_bpmn_ids() == [review] and calls == []
    run.advance_clock(timedelta(hours=1, minutes=1))
    run.fire_timers()
    assert run.is_completed() and run.ready_bpmn_ids() == [] and [n for n, _ in calls] == ['signup.expire']

"""The v_order diagram on the engine alone, with a JSON round trip between every step."""
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from workflows import InstanceRun, compile_diagram, service_tasks

ROOT = Path(__file__).resolve().parents[2]
ROLES = {'submitter', 'station_admin', 'association_admin', 'provider_admin', 'volunteer'}
FORMS = {p.name for p in (ROOT / 'forms').glob('*.json')}
OPERATORS = ('order.reject', 'order.abandon', 'order.open', 'order.acceptor_added', 'order.acceptor_decided',
             'order.expire_check', 'order.start',
             'order.rated', 'order.certify_rejected', 'order.remind', 'order.award')


class World:
    """Stub business side: counts acceptors like the real service tasks do (pending ones hold a place; an accept
    task is open after `order.open`, after an acceptance that left places, and after a reopening review)."""

    def __init__(self, needed):
        self.needed, self.approved, self.pending, self.calls = needed, 0, 0, []
        self.inviting, self.started = False, False

    def handler(self, name):
        def run(data, params):
            self.calls.append((name, params.get('kind')))
            if name == 'order.open':
                self.inviting = True
            if name == 'order.acceptor_added':
                self.pending += 1
                self.inviting = self.approved + self.pending < self.needed and not self.started
                return {'more': self.inviting}
            if name == 'order.acceptor_decided':
                self.pending -= 1
                self.approved += data['decision'] == 'approve'
                if self.approved >= self.needed:
                    step = 'staffed'
                elif self.inviting:
                    step = 'wait'
                elif self.approved + self.pending < self.needed and not self.started:
                    step, self.inviting = 'reopen', True
                else:
                    step = 'wait' if self.pending else 'settle'
                return {'next': step}
            if name == 'order.expire_check':
                self.started, self.inviting = True, False
                return {'next': 'wait' if self.pending else 'start' if self.approved else 'expired'}
            return {}
        return run


@pytest.fixture
def world():
    made = World(needed=2)
    saved = {n: service_tasks._REGISTRY.get(n) for n in OPERATORS}
    for n in OPERATORS:
        service_tasks.register(n)(made.handler(n))
    yield made
    for n, fn in saved.items():
        service_tasks.register(n)(fn) if fn else service_tasks.unregister(n)


def compiled(xml=None):
    xml = xml or (ROOT / 'bpmn' / 'v_order.bpmn').read_bytes()
    return compile_diagram(xml, 'v_order', roles=ROLES, forms=FORMS)


def start_data(start_in=timedelta(hours=2)):
    start = datetime.now(UTC) + start_in
    end = start + timedelta(hours=3)
    return {'revision': 0, 'station_scope': ['xicun_station'], 'street_scope': ['xicun'], 'review_scope': ['gz'],
            'provider_scope': ['provider_a'], 'expire_at': start.isoformat(),
            'remind7_at': (end + timedelta(days=7)).isoformat(), 'remind12_at': (end + timedelta(days=12)).isoformat(),
            'overdue_at': (end + timedelta(days=14)).isoformat()}


class Driver:
    def __init__(self, spec, data):
        self.spec = spec
        self.run = InstanceRun.start(spec, data, cache_key='vo')

    def step(self, bpmn_id, data=None):
        ready = [t for t in self.run.ready_tasks() if t.bpmn_id == bpmn_id]
        assert ready, f'{bpmn_id} not in {self.ready()}'
        self.run.complete(ready[0].guid, data or {})
        self.run = InstanceRun.load(self.spec, self.run.dump(), cache_key='vo')
        return self

    def ready(self):
        return sorted(t.bpmn_id for t in self.run.ready_tasks())


def test_open_dispatch_lifecycle_with_two_volunteers(world):
    d = Driver(compiled().spec_json, start_data())
    d.step('submit', {'revision': 1}).step('publish_review', {'decision': 'approve', 'dispatch_mode': 'open'})
    assert d.ready() == ['accept']
    d.step('accept')
    assert d.ready() == ['accept', 'acceptor_review'], 'the first acceptor is reviewed while the order stays open'
    d.step('accept')
    assert d.ready() == ['acceptor_review', 'acceptor_review'], 'two places, two acceptors under review'
    d.step('acceptor_review', {'decision': 'approve'})
    assert d.ready() == ['acceptor_review'], 'both places are taken: nobody else may accept'
    d.step('acceptor_review', {'decision': 'reject', 'reason': '资质不符'})
    assert d.ready() == ['accept'], 'the rejection frees a place: the order opens again'
    d.step('accept').step('acceptor_review', {'decision': 'approve'})
    assert d.ready() == ['confirm']
    d.step('confirm', {'rating_overall': 5}).step('certify', {'service_hours': 3})
    d.step('certify_review', {'decision': 'reject', 'reason': '照片不清'})
    assert d.ready() == ['certify']
    d.step('certify', {'service_hours': 3}).step('certify_review', {'decision': 'approve'})
    assert d.run.is_completed()
    names = [n for n, _ in world.calls]
    assert names.count('order.award') == 1 and names.count('order.acceptor_decided') == 3


def test_provider_dispatch_and_publish_rejection(world):
    world.needed = 1
    d = Driver(compiled().spec_json, start_data())
    d.step('submit', {'revision': 1}).step('publish_review', {'decision': 'reject', 'reason': '地址不详'})
    assert d.ready() == ['submit']
    d.step('submit', {'revision': 2}).step('publish_review', {'decision': 'approve', 'dispatch_mode': 'provider'})
    assert d.ready() == ['provider_dispatch']
    d.step('provider_dispatch', {'volunteer': 'vol_li', 'provider_action': 'dispatch'})
    d.step('acceptor_review', {'decision': 'approve'})
    assert d.ready() == ['confirm']


def test_nobody_accepts_by_start_time_expires(world):
    d = Driver(compiled().spec_json, start_data())
    d.step('submit', {'revision': 1}).step('publish_review', {'decision': 'approve', 'dispatch_mode': 'open'})
    assert d.run.next_timer_at() is not None
    d.run.advance_clock(timedelta(hours=3))
    d.run.fire_timers()
    assert d.run.is_completed() and ('order.expire_check', None) in world.calls


def test_certification_reminders_at_day_7_12_and_overdue_at_14(world):
    world.needed = 1
    d = Driver(compiled().spec_json, start_data(start_in=timedelta(minutes=1)))
    d.step('submit', {'revision': 1}).step('publish_review', {'decision': 'approve', 'dispatch_mode': 'open'})
    d.step('accept').step('acceptor_review', {'decision': 'approve'}).step('confirm', {})
    assert d.ready() == ['certify']
    # the service ends ~3 h from now: day 7 of the deadline is 7 days 3 hours away
    for moved, expected in ((timedelta(days=7, hours=4), ['day7']), (timedelta(days=5), ['day7', 'day12']),
                            (timedelta(days=2), ['day7', 'day12', 'overdue'])):
        d.run.advance_clock(moved)
        d.run.fire_timers()
        d.run = InstanceRun.load(d.spec, d.run.dump(), cache_key='vo')
        assert [k for n, k in world.calls if n == 'order.remind'] == expected
        assert d.ready() == ['certify'], 'reminders never take the task away from the station'


def test_association_final_review_switched_on_by_editing_the_diagram(world):
    world.needed = 1
    xml = (ROOT / 'bpmn' / 'v_order.bpmn').read_bytes()
    edited = xml.replace(b'xsi:type="bpmn:tFormalExpression">False</bpmn:conditionExpression>',
                         b'xsi:type="bpmn:tFormalExpression">True</bpmn:conditionExpression>')
    assert edited != xml
    d = Driver(compiled(edited).spec_json, start_data())
    d.step('submit', {'revision': 1}).step('publish_review', {'decision': 'approve', 'dispatch_mode': 'open'})
    assert d.ready() == ['association_review']
    d.step('association_review', {'decision': 'approve'})
    assert d.ready() == ['accept']


def test_provider_dispatches_several_volunteers_before_any_review(world):
    d = Driver(compiled().spec_json, start_data())
    d.step('submit', {'revision': 1}).step('publish_review', {'decision': 'approve', 'dispatch_mode': 'provider'})
    d.step('provider_dispatch', {'volunteer': 'vol_li', 'provider_action': 'dispatch'})
    assert d.ready() == ['acceptor_review', 'provider_dispatch']
    d.step('provider_dispatch', {'volunteer': 'vol_wang', 'provider_action': 'dispatch'})
    assert d.ready() == ['acceptor_review', 'acceptor_review']
    d.step('acceptor_review', {'decision': 'approve'}).step('acceptor_review', {'decision': 'approve'})
    assert d.ready() == ['confirm']


def _two_places_one_acceptor_then_start_time(world):
    d = Driver(compiled().spec_json, start_data())
    d.step('submit', {'revision': 1}).step('publish_review', {'decision': 'approve', 'dispatch_mode': 'open'})
    d.step('accept')
    d.run.advance_clock(timedelta(hours=3))
    d.run.fire_timers()
    d.run = InstanceRun.load(d.spec, d.run.dump(), cache_key='vo')
    assert d.ready() == ['acceptor_review'], 'the start time closes acceptance, not the review under way'
    assert not d.run.is_completed()
    return d


def test_start_time_passes_during_a_review_and_the_approved_acceptor_serves(world):
    d = _two_places_one_acceptor_then_start_time(world)
    d.step('acceptor_review', {'decision': 'approve'})
    assert d.ready() == ['confirm'], 'one of two places filled: the service starts with one volunteer'
    d.step('confirm', {}).step('certify', {}).step('certify_review', {'decision': 'approve'})
    assert d.run.is_completed()


def test_start_time_passes_during_a_review_and_the_rejection_expires_the_order(world):
    d = _two_places_one_acceptor_then_start_time(world)
    d.step('acceptor_review', {'decision': 'reject', 'reason': '时间冲突'})
    assert d.run.is_completed() and d.ready() == []
    assert [n for n, _ in world.calls].count('order.expire_check') == 2

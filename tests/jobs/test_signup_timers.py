"""A sign-up still waiting for review when its activity starts ends by itself, fired by the rq worker on a real Redis
(what `flask worker` does every minute): the team's task leaves the inbox, the history says why, the volunteer is told
once and the page shows 已过期. The clock moves through the engine's seam."""
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import ActivitySignup, Decision
from tests.jobs.test_v_order_timers import _instance, _messages, advance_to_next_timer, run_worker
from tests.web.shop_helpers import move_clock
from tests.web.test_activity_signups import publish, sign_up, signup_tasks


def test_a_sign_up_unreviewed_at_the_start_ends_and_the_volunteer_is_told(api, login, with_redis):
    activity_id = publish(api)
    resp = sign_up(api('vol_li'), activity_id, phone='13800001111')
    assert resp.status_code == 201, resp.get_json()
    instance_id = resp.get_json()['signup']['instance_id']
    team = api('team_a')
    assert [t['instance_id'] for t in signup_tasks(team)] == [instance_id]
    start = _instance(instance_id).next_timer_at  # the review's deadline is the activity's start

    move_clock(instance_id, start - _instance(instance_id).updated_at - timedelta(hours=1))
    run_worker(with_redis)  # an hour before the start: nothing fires
    assert [t['instance_id'] for t in signup_tasks(team)] == [instance_id]
    assert _messages('vol_li', 'decision') == []

    advance_to_next_timer(instance_id)
    run_worker(with_redis)
    db.session.expire_all()
    signup = db.session.scalar(select(ActivitySignup).where(ActivitySignup.instance_id == instance_id))
    assert signup.status == 'expired' and _instance(instance_id).status == 'completed'
    assert signup_tasks(team) == []
    [row] = db.session.scalars(select(Decision).where(Decision.instance_id == instance_id,
                                                      Decision.decision == 'auto')).all()
    assert (row.task_title, row.reason) == ('报名审核（逾期）', '活动开始时仍未审核，报名自动结束')
    [told] = _messages('vol_li', 'decision')
    assert '已开始，报名未获审核，已自动结束' in told.title and told.link == f'/activities/{activity_id}'
    mine = login('vol_li').get('/activities/signups/mine').get_data(as_text=True)
    assert '已过期' in mine

    run_worker(with_redis)  # fired once: no second message
    assert len(_messages('vol_li', 'decision')) == 1

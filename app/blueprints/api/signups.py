"""Activity sign-ups over the API: the same use cases and rules as the pages. Reviews go through /tasks."""
from flask import g, jsonify

from app.blueprints.api import bp
from app.blueprints.api.schemas import ReasonRequest, SignupRequest, body
from app.services import activity_signups


@bp.post('/activities/<int:activity_id>/signups')
def signup_create(activity_id):
    """{"phone", "note"?} (phone defaults to the account's) -> 201 {"signup"}; 409 with the reason when refused."""
    sent = body(SignupRequest)
    values = {'phone': sent['phone'] or g.api_user.phone, 'note': sent['note']}
    signup = activity_signups.sign_up(g.api_user, activity_id, values)
    return jsonify({'signup': activity_signups.as_dict(signup)}), 201


@bp.get('/activities/<int:activity_id>/signups')
def signup_list(activity_id):
    """The publishing unit's admins: every sign-up; anyone else: their own."""
    view = activity_signups.for_activity(g.api_user, activity_id)
    act = view['activity']
    return jsonify({'items': [activity_signups.as_dict(s) for s in view['rows']], 'total': len(view['rows']),
                    'approved': view['approved'], 'recruit_count': act.recruit_count, 'places': view['places']})


@bp.post('/signups/<int:signup_id>/cancel')
def signup_cancel(signup_id):
    """{"reason"?} -> 200 {"signup"}; 409 once the activity has started or the sign-up is no longer active."""
    signup = activity_signups.cancel(g.api_user, signup_id, body(ReasonRequest)['reason'] or None)
    return jsonify({'signup': activity_signups.as_dict(signup)})

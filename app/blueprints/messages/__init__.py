"""站内信: message list, open (mark read + follow the link), header badge, reminders flashed after login."""
from flask import Blueprint, flash
from flask_babel import gettext as _
from flask_login import current_user, user_logged_in

from app.services import messages

bp = Blueprint('messages', __name__)


@bp.app_context_processor
def unread_badge():
    """unread_count for the header; one COUNT on the (user_id, read_at, created_at) index, only when logged in."""
    if not current_user.is_authenticated:
        return {'unread_count': 0}
    return {'unread_count': messages.unread_count(current_user)}


def flash_reminders(sender, user, **extra):
    rows, total = messages.unread_reminders(user)
    for row in rows:
        flash(_('提醒：%(title)s', title=row.shown_title), 'warning')
    if total > len(rows):
        flash(_('还有 %(n)s 条未读提醒，请到消息中心查看', n=total - len(rows)), 'warning')


@bp.record_once
def _connect(state):
    user_logged_in.connect(flash_reminders, state.app)


from app.blueprints.messages import routes  # noqa: E402,F401

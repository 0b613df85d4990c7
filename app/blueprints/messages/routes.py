from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.blueprints.messages import bp
from app.blueprints.web import page_arg
from app.services import messages


@bp.before_request
@login_required
def _login():
    return None


def _safe_link(link):
    return link if link and link.startswith('/') and not link.startswith('//') else None


@bp.get('/messages')
def index():
    unread = request.args.get('unread') == '1'
    rows, total = messages.list_for(current_user, page_arg(), unread_only=unread)
    return render_template('messages/index.html', rows=rows, total=total, page=page_arg(), unread=unread)


@bp.get('/messages/<int:message_id>')
def open_message(message_id):
    return redirect(_safe_link(messages.open_message(current_user, message_id)) or url_for('messages.index'))


@bp.post('/messages/read-all')
def read_all():
    n = messages.mark_all_read(current_user)
    flash(_('已将 %(n)s 条消息标为已读', n=n), 'success')
    return redirect(url_for('messages.index'))

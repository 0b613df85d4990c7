"""用户管理: process administrators list accounts, open one, create one, add or remove a role, deactivate or
activate it and reset its password (app.services.accounts; registered on the admin blueprint, whose sign-in check
covers it). A refused change shows the page again with the message at its form and what was typed kept."""
from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.blueprints.admin import bp
from app.blueprints.web import page_arg
from app.services import accounts
from app.services.errors import Conflict, ValidationFailed


@bp.get('/users')
def users():
    """A bad filter is explained above the list and the typed filters are kept."""
    try:
        rows, total = accounts.search_users(current_user, request.args, page_arg())
        errors = {}
    except ValidationFailed as exc:
        rows, total, errors = [], 0, exc.errors
    return render_template('admin/users.html', rows=[accounts.account_row(u) for u in rows], total=total,
                           errors=errors, page=page_arg(), f=request.args, per_page=accounts.PER_PAGE,
                           pick=accounts.picker(current_user)), 422 if errors else 200


def _user_page(user_id, failed=None, errors=None, status=200, temporary=None):
    """The account's page; after a refused change, `failed` names its form (status, add, remove:<id>, reset)."""
    g.page_url = url_for('admin.user', user_id=user_id)  # a page answering a POST stands for this address
    return render_template('admin/users_detail.html', v=accounts.account_view(current_user, user_id),
                           pick=accounts.picker(current_user), failed=failed, errors=errors or {}, form=request.form,
                           temporary=temporary), status


def _refused(user_id, failed, exc):
    errors = exc.errors if isinstance(exc, ValidationFailed) else {'form': [str(exc.message)]}
    return _user_page(user_id, failed, errors, exc.status)


@bp.get('/users/<int:user_id>')
def user(user_id):
    return _user_page(user_id)


@bp.post('/users/<int:user_id>/deactivate')
def user_deactivate(user_id):
    try:
        user, ended = accounts.deactivate(current_user, user_id, request.form.get('reason'))
    except (ValidationFailed, Conflict) as exc:
        return _refused(user_id, 'status', exc)
    flash(_('已停用账号“%(name)s”：它已不能登录，%(sessions)s 个网页登录和 %(tokens)s 个接口令牌已失效，'
            '%(tasks)s 个认领中的任务已取消认领、回到待办中。', name=user.display_name, sessions=ended['ended_sign_ins'],
            tokens=ended['ended_api_logins'], tasks=len(ended['released_tasks'])), 'success')
    return redirect(url_for('admin.user', user_id=user_id))


@bp.post('/users/<int:user_id>/activate')
def user_activate(user_id):
    try:
        user = accounts.activate(current_user, user_id, request.form.get('reason'))
    except (ValidationFailed, Conflict) as exc:
        return _refused(user_id, 'status', exc)
    flash(_('已启用账号“%(name)s”，它可以再次登录。', name=user.display_name), 'success')
    return redirect(url_for('admin.user', user_id=user_id))


@bp.post('/users/<int:user_id>/roles')
def user_role_add(user_id):
    try:
        accounts.add_membership(current_user, user_id, request.form.get('role'), request.form.get('unit'))
    except (ValidationFailed, Conflict) as exc:
        return _refused(user_id, 'add', exc)
    flash(_('已添加角色。'), 'success')
    return redirect(url_for('admin.user', user_id=user_id))


@bp.post('/users/<int:user_id>/roles/<int:membership_id>/remove')
def user_role_remove(user_id, membership_id):
    try:
        _user, removed = accounts.remove_membership(current_user, user_id, membership_id)
    except (ValidationFailed, Conflict) as exc:
        return _refused(user_id, f'remove:{membership_id}', exc)
    flash(_('已移除角色：%(role)s @ %(unit)s', role=removed['role_label'], unit=removed['unit_name']), 'success')
    return redirect(url_for('admin.user', user_id=user_id))


@bp.post('/users/<int:user_id>/password')
def user_password_reset(user_id):
    """The temporary password is on this answer only (never in a flash message, which a cookie would carry)."""
    _user, temporary = accounts.reset_password(current_user, user_id)
    return _user_page(user_id, temporary=temporary)


@bp.route('/users/new', methods=['GET', 'POST'])
def user_new():
    if request.method == 'GET':
        return render_template('admin/users_new.html', pick=accounts.picker(current_user), form={}, errors={})
    try:
        user, generated = accounts.create_account(current_user, request.form)
    except ValidationFailed as exc:
        return render_template('admin/users_new.html', pick=accounts.picker(current_user), form=request.form,
                               errors=exc.errors, taken=accounts.find_user(request.form.get('username'))), exc.status
    flash(_('已新建账号“%(name)s”（%(user)s）。', name=user.display_name, user=user.username), 'success')
    if generated:
        return _user_page(user.id, temporary=generated)
    return redirect(url_for('admin.user', user_id=user.id))

"""Flask CLI commands: demo-seed, deploy-baseline, ledger-check, and the site set-up commands create-unit,
create-user, set-password (app.services.accounts)."""
import click
from flask_babel import gettext as _

from app.services import accounts, ledger_checks
from app.services.demo import deploy_baseline, seed_demo
from app.services.errors import ServiceError, ValidationFailed


def _refused(exc: ServiceError) -> click.ClickException:
    """One line for the operator (click prints "Error: ..." and exits 1), not a traceback."""
    if isinstance(exc, ValidationFailed):
        return click.ClickException('; '.join(m for messages in exc.errors.values() for m in messages))
    return click.ClickException(str(exc.message))


def _new_password(password):
    """The --password given, or typed twice without echo."""
    if password is not None:
        return password
    return click.prompt(_('新密码'), hide_input=True, confirmation_prompt=_('再输入一次新密码'))


def install(app):
    @app.cli.command('demo-seed')
    @click.option('--password', default=None, help='Shared demo password (default $DEMO_PASSWORD or demo1234).')
    def demo_seed(password):
        """Create the demo geography, users and baseline diagrams on an empty database."""
        used = seed_demo(password)
        click.echo(f'demo data ready; every demo user logs in with password: {used}')

    @app.cli.command('demo-cases')
    def demo_cases_cmd():
        """Add example cases in every state to the demo data (entries, V-orders), through the real services."""
        from app.services.demo_cases import make_demo_cases
        try:
            made = make_demo_cases()
        except RuntimeError as exc:
            raise click.ClickException(str(exc)) from None
        if not made:
            click.echo('demo cases are there already; nothing added')
        else:
            click.echo(f"added {made['entries']} service-object entries and {made['orders']} V-orders "
                       '(sign in as station_xicun, street_xicun or vol_zhang to see them)')

    @app.cli.command('deploy-baseline')
    def deploy_cmd():
        """Publish bpmn/*.bpmn files that have no published version yet."""
        for v in deploy_baseline():
            click.echo(f'published {v.process_key} v{v.version}')

    @app.cli.command('ledger-check')
    def ledger_check():
        """Reconcile the points ledger; exit status 1 when an invariant is broken."""
        problems = ledger_checks.check_invariants()
        for problem in problems:
            click.echo(problem)
        if problems:
            click.echo(f'ledger BROKEN: {len(problems)} problem(s)')
            raise SystemExit(1)
        accounts, entries = ledger_checks.counts()
        click.echo(f'ledger OK: {accounts} accounts, {entries} entries')

    install_account_commands(app)

    from app.jobs.worker import install as install_job_commands
    install_job_commands(app)


def install_account_commands(app):
    @app.cli.command('create-unit')
    @click.argument('code')
    @click.argument('name')
    @click.option('--kind', required=True, type=click.Choice(accounts.KINDS),
                  help='Unit kind. Parents: district under the city, street under a district, station under its '
                       'street (code <street>_station), team under a street or team, provider under a district or '
                       'street, association/bureau under the city; the city has no parent.')
    @click.option('--parent', 'parent_code', default=None, metavar='PARENT_CODE', help='Code of the parent unit.')
    @click.option('--veterans', is_flag=True, help='Mark a team as a veterans\' team (退役军人服务队).')
    def create_unit(code, name, kind, parent_code, veterans):
        """Create the org unit CODE named NAME (the org tree: city, districts, streets, stations, teams...)."""
        try:
            unit = accounts.create_unit(code, name, kind, parent_code, is_veterans=veterans)
        except ServiceError as exc:
            raise _refused(exc) from None
        click.echo(_('已创建单位 %(code)s（%(name)s，%(kind)s），路径 %(path)s',
                     code=unit.code, name=unit.name, kind=unit.kind, path=unit.path))

    @app.cli.command('create-user')
    @click.argument('username')
    @click.option('--name', 'display_name', default=None, metavar='DISPLAY_NAME',
                  help='Display name (required for a new user).')
    @click.option('--role', required=True, type=click.Choice(accounts.GRANTABLE_ROLES),
                  help='Role key (SPEC §1). association_admin, veterans_admin and process_admin sit on the city unit; '
                       'station_admin on a station, street_admin on a street, and so on.')
    @click.option('--unit', 'unit_code', required=True, metavar='UNIT_CODE', help='Code of the org unit of the role.')
    @click.option('--password', default=None,
                  help='Password of a new user (at least 8 characters); prompted for (twice, hidden) when left out.')
    def create_user(username, display_name, role, unit_code, password):
        """Create user USERNAME with one role on one unit; an existing user gets the membership added instead."""
        existing = accounts.find_user(username)
        if existing is None:
            password = _new_password(password)
        try:
            user, outcome = accounts.create_user(username, display_name, role, unit_code, password)
        except ServiceError as exc:
            raise _refused(exc) from None
        if outcome == 'created':
            click.echo(_('已创建用户 %(user)s（%(name)s），角色 %(role)s @ %(unit)s',
                         user=user.username, name=user.display_name, role=role, unit=unit_code))
        elif outcome == 'joined':
            click.echo(_('用户 %(user)s 已存在：已增加角色 %(role)s @ %(unit)s，姓名和密码不变（改密码用 flask set-password）',
                         user=user.username, role=role, unit=unit_code))
        else:
            click.echo(_('用户 %(user)s 已有角色 %(role)s @ %(unit)s，没有改动', user=user.username, role=role, unit=unit_code))

    @app.cli.command('set-password')
    @click.argument('username')
    @click.option('--password', default=None,
                  help='The new password (at least 8 characters); prompted for (twice, hidden) when left out.')
    @click.option('--must-change', is_flag=True, help='The user must choose a new password at the next sign-in.')
    def set_password(username, password, must_change):
        """Reset USERNAME's password; every sign-in and API token of the user ends."""
        if accounts.find_user(username) is None:
            raise click.ClickException(_('没有用户名为 %(name)s 的用户', name=username))
        try:
            user = accounts.set_password(username, _new_password(password), must_change)
        except ServiceError as exc:
            raise _refused(exc) from None
        click.echo(_('已重设用户 %(user)s 的密码，其所有登录和 API 令牌已失效', user=user.username)
                   + (_('；下次登录须修改密码') if must_change else ''))

"""Flask CLI commands: demo-seed, deploy-baseline, ledger-check."""
import click

from app.services import ledger_checks
from app.services.demo import deploy_baseline, seed_demo


def install(app):
    @app.cli.command('demo-seed')
    @click.option('--password', default=None, help='Shared demo password (default $DEMO_PASSWORD or demo1234).')
    def demo_seed(password):
        """Create the demo geography, users and baseline diagrams on an empty database."""
        used = seed_demo(password)
        click.echo(f'demo data ready; every demo user logs in with password: {used}')

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

    from app.jobs.worker import install as install_job_commands
    install_job_commands(app)

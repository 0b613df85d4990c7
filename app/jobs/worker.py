"""CLI: `flask worker` (rq worker + scheduler + timer sweep) and `flask fire-timers` (one sweep, for cron)."""
import sys

import click
from flask import current_app
from rq import Worker

from app.extensions import db
from app.jobs import QUEUE_NAME, connection, ensure_sweep, get_queue
from app.jobs.context import set_app
from app.services.timers import fire_due

NO_REDIS = ('REDIS_URL is not set: background jobs run inline right after each commit, and workflow timers '
            'need `flask fire-timers` from cron (e.g. every minute). Set REDIS_URL=redis://host:6379/0 to use a worker.')


def install(app):
    @app.cli.command('worker')
    @click.option('--burst', is_flag=True, help='Run the jobs that are due, then exit (tests, one-off runs).')
    @click.option('--interval', type=int, default=None,
                  help='Seconds between timer sweeps (default TIMER_SWEEP_SECONDS, 60).')
    def worker_cmd(burst, interval):
        """Run the rq worker for queue 'timebank' with its scheduler and the repeating timer sweep.

        \b
        Usage:  REDIS_URL=redis://127.0.0.1:6379/0 flask worker
        Needs REDIS_URL; without it jobs run inline and this command exits with status 1.
        Run one or more workers; only one holds the scheduler lock, and the timer sweep exists once
        per Redis database (fixed job id), so extra workers never fire a timer twice.
        """
        url = current_app.config.get('REDIS_URL')
        if not url:
            click.echo(NO_REDIS, err=True)
            sys.exit(1)
        set_app(current_app._get_current_object())
        if db.engine.url.database not in (None, '', ':memory:'):
            db.engine.dispose()  # the forked work horses open their own connections
        seconds = interval or current_app.config.get('TIMER_SWEEP_SECONDS', 60)
        ensure_sweep(get_queue(url), seconds)
        click.echo(f'worker on queue {QUEUE_NAME!r} ({url}); timer sweep every {seconds} s')
        Worker([QUEUE_NAME], connection=connection(url)).work(with_scheduler=True, burst=burst)

    @app.cli.command('fire-timers')
    @click.option('--limit', type=int, default=500, help='At most this many instances per run.')
    def fire_timers_cmd(limit):
        """Fire every due workflow timer once and delete expired export files (for cron, or by hand when no worker
        runs)."""
        from app.jobs.exports import purge_expired_exports
        click.echo(f'fired timers of {fire_due(limit=limit)} instance(s)')
        purge_expired_exports()

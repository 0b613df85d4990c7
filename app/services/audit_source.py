"""Where an audit row or a decision came from ("via": 'web', 'api' or 'cli'), recorded for every writer at once.

Each service that writes an `AuditLog` row would otherwise have to be told by its caller whether it runs for a page,
for the API or for a command, and most are not (撤回, 放弃接单, 兑换记录, 活动报名 …): their rows read 未记录 even
when done in the browser. Instead one `before_insert` listener stamps every new row whose writer set no "via":

- during a request: 'api' for the JSON API's requests, 'web' for any other (the blueprint layer says which requests
  are the API's through `read_requests_with`, since services never read the request themselves);
- outside a request, inside a `flask` command (click's context with Flask's ScriptInfo): 'cli', except the commands
  that run background jobs (`flask worker`, `flask fire-timers`): what a timer does is the system's, not a person's;
- anywhere else (a test calling a service, a job): nothing, as before.

A writer that knows better (accounts._audit) keeps its own "via". Rows already stored are left as they are.

A decision (a case's history row: a review, a submission, an automatic step, a reset …) gets its source the same
way, in its own `via` column rather than in its data: a decision's data is what was decided, kept as it was
(its fields are compared between a case's submissions and shown one by one). A decision without one has no recorded
source (written before, or by a job)."""
import json
from collections.abc import Callable

import click
from flask import has_request_context
from flask.cli import ScriptInfo
from sqlalchemy import event

from app.models import AuditLog, Decision

# the commands defined here run jobs (the rq worker and its work horses, the timer sweep): not a person's command
JOB_COMMAND_MODULES = ('app.jobs',)


def _a_page() -> str:
    return 'web'


_request_source: Callable[[], str] = _a_page  # until the blueprint layer says how to tell the API's requests


def read_requests_with(reader: Callable[[], str]) -> None:
    """How to tell the source of the current request ('web' or 'api'); set by the blueprint layer."""
    global _request_source
    _request_source = reader


def current() -> str | None:
    """'web', 'api' or 'cli' for a row written now, or None when nothing says (see the module's docstring)."""
    if has_request_context():
        return _request_source()
    ctx = click.get_current_context(silent=True)
    if ctx is None or ctx.find_object(ScriptInfo) is None:
        return None
    module = getattr(ctx.command.callback, '__module__', None) or ''
    if any(module == m or module.startswith(m + '.') for m in JOB_COMMAND_MODULES):
        return None
    return 'cli'


def stamped(detail_json: str | None, via: str | None) -> str | None:
    """The details with "via" added, or unchanged (None) when there is no source, the writer set one, or the details
    are not an object."""
    if via is None:
        return None
    try:
        detail = json.loads(detail_json or '{}')
    except ValueError:
        return None
    if not isinstance(detail, dict) or 'via' in detail:
        return None
    return json.dumps({**detail, 'via': via}, ensure_ascii=False, default=str)


def _stamp(mapper, connection, target: AuditLog) -> None:
    changed = stamped(target.detail_json, current())
    if changed is not None:
        target.detail_json = changed


def _stamp_decision(mapper, connection, target: Decision) -> None:
    if target.via is None:
        target.via = current()


for model, listener in ((AuditLog, _stamp), (Decision, _stamp_decision)):
    if not event.contains(model, 'before_insert', listener):
        event.listen(model, 'before_insert', listener)

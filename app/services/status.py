"""Words users see for the state of a case."""
from flask_babel import lazy_gettext as _l

from app.services.hooks import hooks_for
from app.services.step_names import step_name

OUTCOMES = {'approved': _l('已通过'), 'rejected': _l('未通过'), 'abandoned': _l('已终止'),
            'cancelled': _l('已取消'), 'expired': _l('已过期'), 'withdrawn': _l('已撤回')}


def status_label(instance, open_tasks) -> str:
    """e.g. 待社工站初审 / 审核不通过，待修改 / 已通过; a process may name its own (V-orders: SPEC §2.2)."""
    own = hooks_for(instance.process_key).status_label(instance)
    if own:
        return own
    if instance.status == 'completed':
        return str(OUTCOMES.get(instance.outcome, _l('已完成')))
    if instance.status == 'cancelled' and instance.outcome in OUTCOMES:  # ended early: 已撤回 by its submitter
        return str(OUTCOMES[instance.outcome])
    if instance.status == 'error':
        return str(_l('流程异常，管理员处理中'))
    if any(t.lane == 'submitter' for t in open_tasks):  # only a rejection sends a started case back
        return str(_l('审核不通过，待修改'))
    if open_tasks:
        return str(_l('待%(step)s', step=step_name('、'.join(t.title for t in open_tasks))))
    return str(_l('处理中'))

"""Per-process business hooks: the domain side of a form task (validation, derived data, rows)."""
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class CaseVariable:
    """A variable a process's hooks put into the case data, as the diagram editor explains it: what it means
    (`label`, Chinese with its English translation) and, for a scope variable, the kind of org unit whose codes it
    holds (`unit`: street, station, provider, city; app.services.accounts.PARENT_KINDS)."""

    label: object
    unit: str | None = None


class ProcessHooks:
    """Defaults for a process without domain rules; subclasses override what they need."""

    process_key = ''
    start_roles: set[str] | None = None  # None: anyone logged in may start
    display_form: str | None = None  # form definition that labels the submitted data
    # the scope variables (管辖范围变量) the process puts into the case data, name -> CaseVariable with its unit: a
    # user task's `scope` property must name one of them, one its lane's role can see (process_admin checks it)
    scope_variables: dict[str, CaseVariable] = {}
    # other variables the hooks put into the case data, which a condition may read (name -> CaseVariable)
    data_variables: dict[str, CaseVariable] = {}
    # forms whose fields the hooks do not keep in the case data (their prepare hands the engine its own variables)
    unkept_forms: frozenset[str] = frozenset()

    def can_start(self, user) -> bool:
        return self.start_roles is None or any(m.role in self.start_roles for m in user.memberships)

    def prepare(self, user, instance, task, form_key: str, clean: dict) -> dict:
        """Data handed to the engine for this completed form (may raise ValidationFailed)."""
        return clean

    def problems(self, user, instance, task, form_key: str, valid: dict) -> dict:
        """When the form already has errors: the domain rules' errors for the fields that are valid (`valid`),
        checked without writing anything, so that one refused submission names every problem at once."""
        return {}

    def display(self, instance) -> dict:
        """Business data a reviewer sees next to the task."""
        return {}

    def task_subject(self, instance, ready) -> str | None:
        """Whom or what a new task is about, when one case may have several alike open at once (shown next to
        the step on lists and in the history, and searched); `ready` is the engine's READY task."""
        return None

    def task_notice(self, task) -> object | None:
        """What the 新待办 message of a new task says besides its step, as its body (a message text, see
        app.services.messages), e.g. who sent a V-order back to the station and why; None: nothing."""
        return None

    def task_title(self, task) -> object | None:
        """The title of a new task's 新待办 message in the words of those it goes to (a message text, see
        app.services.messages), e.g. a V-order offered to volunteers: 有新的订单可以接：陪吴伯散步; None: the
        inbox's words, 新待办：<step> · <case>."""
        return None

    def decision_text(self, instance, decision) -> object | None:
        """The title of the message that tells the submitter of a reviewer's decision on their case, in their words
        (a message text, see app.services.messages; a rejection's should name the reason), e.g. a sign-up's
        报名成功：您已被录取参加「…」（when, where）; None: 您的提交「<case>」<step>：已通过 / 不通过，原因：…"""
        return None

    def audit_step(self, task, clean: dict) -> tuple[object, str | None] | None:
        """(step name, reason) of the history row of a completed form that is not the step's usual outcome, e.g. a
        provider returning the V-order it was to dispatch (服务商退回订单, with its reason); None: the step's own name
        and the form's `reason`."""
        return None

    def task_display(self, task, run=None, page=False) -> dict:
        """What a reviewer sees next to this task: the case's data, plus what concerns this task alone (several
        tasks of one case may be open at once). `run`: the instance's loaded engine state, when the caller has it.
        `page`: for the task's page, which may add facts that help the reviewer but are not the data decided on
        (a V-order's 接单人情况); the decision's audit row keeps the data without them."""
        return self.display(task.instance)

    def reason_hint(self, task) -> str:
        """What the reviewer is told under the reason box: who reads a rejection's reason and what it is for."""
        return str(_l('不通过的原因会显示给提交人，请写清楚需要怎样修改。'))

    def batch_defaults(self, task, decision) -> dict:
        """What a batch decision fills in on this review's form beyond the decision and the reason (the batch
        request's own `data` takes precedence), e.g. how a V-order approved in a batch is dispatched."""
        return {}

    def batch_done(self, task, decision) -> str | None:
        """What a batch result says was done with this task, read once it is decided (None: 已通过 / 未通过)."""
        return None

    def batch_hint(self, task) -> str | None:
        """What the inbox's batch bar says, when it lists this review, about deciding it in a batch."""
        return None

    def not_yet(self, instance, task) -> str | None:
        """Why a submitter's step cannot be done yet and from when (None: it can be done now), e.g. a V-order's
        service is confirmed and rated once it has started. The step's own rule refuses it as well."""
        return None

    def done_message(self, task) -> str | None:
        """What the submitter is told after doing one of their steps other than a resubmission (None: 已提交：<step>)."""
        return None

    def form_options(self, user, form_key: str, task=None) -> dict:
        """Choices a form of this process offers the user beyond its own enums (field name -> [(value, label)]);
        `task`: the task the form completes (None for a start form)."""
        return {}

    def task_values(self, instance, form_key: str) -> dict:
        """What a task's form starts with: e.g. a certification the association sent back, to be corrected."""
        return {}

    def resubmit_values(self, instance) -> dict:
        """What a returned submission form is pre-filled with."""
        return self.display(instance)

    def offer_link(self, task) -> str | None:
        """Where a 新待办 message about a task offered to many people leads, when not its task page (a V-order's
        accept task: the phone list of open orders); None: the usual task page or submitter's case."""
        return None

    def settled_link(self, task, taken: bool = True) -> str | None:
        """Where the 新待办 messages of an offered task lead once the offer is over: the message of the one who took it
        (`taken`; a V-order's accept task: the order they took, not the list of open orders it has left), or, when
        it ended without anyone taking it (`taken=False`: the order was cancelled, expired or withdrawn), everyone's
        (a page saying what became of the order). None: they keep their link."""
        return None

    def standing_offer(self, task) -> bool:
        """The task is one offer that a step replaces by a successor while it stands (a V-order's accept task while
        places are left): its unread messages then follow the successor instead of being settled and sent again."""
        return False

    def already_on_it(self, instance, task) -> set[int]:
        """Users a new task need not be announced to although it is in their inbox (e.g. a volunteer who already
        accepted the order, when its accept task opens again for the places left)."""
        return set()

    def decision_audience(self, instance, decision) -> dict[int, str]:
        """Who is told of a reviewer's decision, and where each one's message leads (user id -> link): the
        submitter, at their case. A process adds those who must act on what a rejection sent back, when they are
        not the submitter (a certification the association returned goes back to the street's station)."""
        return {instance.submitter_id: f'/m/cases/{instance.id}'}

    def status_label(self, instance) -> str | None:
        """The process's own words for the case's state on lists (None: derive it from the open steps)."""
        return None

    def may_view(self, user, instance) -> bool:
        """Whether `user` may see this case (and download its files) without having held one of its tasks,
        e.g. a volunteer a provider dispatched a V-order to. The default: nobody beyond the task rule."""
        return False

    def on_saved(self, instance, ready_bpmn_ids: list[str]) -> None:
        """Called after every engine step is stored (keep business status in step with the diagram)."""

    def reset_refusal(self, instance, bpmn_id: str) -> str | None:
        """Why an operator may not send the case back to the completed step `bpmn_id` (None: they may)."""
        return None

    def on_reset(self, instance, run, step: str, reason: str) -> None:
        """An operator's reset rewound the engine to `step` (before it is stored): undo the process's own rows of
        what the reset withdrew, and tell whoever that concerns beyond the submitter."""

    def on_withdraw(self, instance, reason) -> None:
        """The submitter withdraws the case (撤回, before the engine cancels it and inside the same transaction): undo
        the process's own rows of the submission, e.g. release a gift's held points. Only a process whose hooks
        override this lets its submitter withdraw (app.services.submissions.withdraw)."""


_HOOKS: dict[str, ProcessHooks] = {}


def register(hooks: ProcessHooks) -> ProcessHooks:
    _HOOKS[hooks.process_key] = hooks
    return hooks


def hooks_for(process_key: str) -> ProcessHooks:
    return _HOOKS.get(process_key) or ProcessHooks()


def may_start_any(user) -> bool:
    """Whether the user may start one of the processes that have their own hooks (all the shipped ones)."""
    return any(h.can_start(user) for h in _HOOKS.values())

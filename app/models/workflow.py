"""Published diagram versions, running instances and the human-task projection."""
from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from app.extensions import db
from app.models.base import PathString, UTCDateTime, utcnow


class WorkflowVersion(db.Model):
    """An immutable published diagram: never updated after insert."""

    __tablename__ = 'workflow_version'
    __table_args__ = (UniqueConstraint('process_key', 'version'),)
    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(120))
    bpmn_xml = deferred(mapped_column(LargeBinary))
    sha256: Mapped[str] = mapped_column(String(64))
    spec_json = deferred(mapped_column(Text))
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey('app_user.id'))
    published_at = mapped_column(UTCDateTime, default=utcnow)

    published_by = relationship('User')


class WorkflowInstance(db.Model):
    __tablename__ = 'workflow_instance'
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey('workflow_version.id'))
    process_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default='running')  # running completed error cancelled
    outcome: Mapped[str | None] = mapped_column(String(32))  # approved rejected abandoned ...
    business_key: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200), default='')
    stage: Mapped[str] = mapped_column(String(200), default='')
    state_json = deferred(mapped_column(Text))
    lock_version: Mapped[int] = mapped_column(default=0)
    next_timer_at = mapped_column(UTCDateTime)
    submitter_id: Mapped[int] = mapped_column(ForeignKey('app_user.id'))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    updated_at = mapped_column(UTCDateTime, default=utcnow)

    version = relationship('WorkflowVersion', lazy='joined')
    submitter = relationship('User')

    # optimistic locking: a save that lost a race fails with StaleDataError instead of overwriting
    __mapper_args__ = {'version_id_col': lock_version}


Index('ix_instance_submitter', WorkflowInstance.submitter_id, WorkflowInstance.created_at)
Index('ix_instance_timer', WorkflowInstance.next_timer_at)
Index('ix_instance_business', WorkflowInstance.process_key, WorkflowInstance.business_key)


class HumanTask(db.Model):
    """READY manual tasks projected out of the engine state; the inbox reads only this."""

    __tablename__ = 'human_task'
    id: Mapped[int] = mapped_column(primary_key=True)
    task_guid: Mapped[str] = mapped_column(String(80), unique=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey('workflow_instance.id'), index=True)
    process_key: Mapped[str] = mapped_column(String(64))
    bpmn_id: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(200))
    # whom or what this one task is about when a case has several alike (the acceptor of an acceptor review)
    subject: Mapped[str | None] = mapped_column(String(120))
    lane: Mapped[str | None] = mapped_column(String(32))
    form_key: Mapped[str | None] = mapped_column(String(120))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey('app_user.id'))
    status: Mapped[str] = mapped_column(String(16), default='open')  # open completed cancelled
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey('app_user.id'))
    claimed_at = mapped_column(UTCDateTime)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey('app_user.id'))
    completed_at = mapped_column(UTCDateTime)
    decision: Mapped[str | None] = mapped_column(String(16))
    search_text: Mapped[str] = mapped_column(String(400), default='')
    # a hash of the full ID number the case is about, so a reviewer finds it by that number without it being stored here
    id_key: Mapped[str | None] = mapped_column(String(64))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    due_at = mapped_column(UTCDateTime)

    instance = relationship('WorkflowInstance', lazy='joined')
    claimed_by = relationship('User', foreign_keys=[claimed_by_id])
    completed_by = relationship('User', foreign_keys=[completed_by_id])
    scopes = relationship('HumanTaskScope', back_populates='task', lazy='selectin')


Index('ix_human_task_inbox', HumanTask.lane, HumanTask.status, HumanTask.created_at)
Index('ix_human_task_assignee', HumanTask.assignee_id, HumanTask.status)
Index('ix_human_task_done', HumanTask.completed_by_id, HumanTask.completed_at)
Index('ix_human_task_id_key', HumanTask.id_key)


class HumanTaskScope(db.Model):
    """One org unit allowed to act on a task. The task's lane, process, open flag and creation time are copied
    here so the inbox finds a reviewer's open tasks, and counts them by process for its 类型 choice, with one range
    scan of a small partial index (`ix_scope_open`) instead of probing every task of the lane;
    app.services.instances keeps them in step."""

    __tablename__ = 'human_task_scope'
    id: Mapped[int] = mapped_column(primary_key=True)
    human_task_id: Mapped[int] = mapped_column(ForeignKey('human_task.id'))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey('org_unit.id'))
    path: Mapped[str] = mapped_column(PathString)
    lane: Mapped[str | None] = mapped_column(String(32))
    process_key: Mapped[str] = mapped_column(String(64))
    is_open: Mapped[bool] = mapped_column(default=True)
    created_at = mapped_column(UTCDateTime, default=utcnow)

    task = relationship('HumanTask', back_populates='scopes')
    org_unit = relationship('OrgUnit', lazy='joined')


Index('ix_scope_task_path', HumanTaskScope.human_task_id, HumanTaskScope.path)
Index('ix_scope_path_task', HumanTaskScope.path, HumanTaskScope.human_task_id)
Index('ix_scope_open', HumanTaskScope.lane, HumanTaskScope.path, HumanTaskScope.created_at, HumanTaskScope.human_task_id,
      HumanTaskScope.process_key, postgresql_where=HumanTaskScope.is_open, sqlite_where=HumanTaskScope.is_open)

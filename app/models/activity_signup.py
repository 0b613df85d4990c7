"""Sign-ups (活动报名) of volunteers to published activities, reviewed by the publishing unit."""
from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow

# a volunteer holds at most one place per activity: one sign-up waiting for review or approved
ACTIVE_STATUSES = ('pending', 'approved')
_ACTIVE = text("status IN ('pending', 'approved')")


class ActivitySignup(db.Model):
    """One volunteer's sign-up to one published activity (one workflow instance of activity_signup)."""

    __tablename__ = 'activity_signup'
    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey('activity.id'))
    volunteer_id: Mapped[int] = mapped_column(ForeignKey('app_user.id'))
    instance_id: Mapped[int] = mapped_column(ForeignKey('workflow_instance.id'))
    status: Mapped[str] = mapped_column(String(16), default='pending')  # pending approved rejected cancelled
    phone: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)  # the reviewer's reason for a rejection
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    decided_at = mapped_column(UTCDateTime)
    cancelled_at = mapped_column(UTCDateTime)

    activity = relationship('Activity', lazy='joined')
    volunteer = relationship('User', lazy='joined')
    instance = relationship('WorkflowInstance')

    @property
    def cancellable(self) -> bool:
        """The volunteer may still give the place back: pending or approved, and the activity has not started."""
        start = self.activity.start_at
        return self.status in ACTIVE_STATUSES and (start is None or start > utcnow())


Index('uq_activity_signup_active', ActivitySignup.activity_id, ActivitySignup.volunteer_id, unique=True,
      postgresql_where=_ACTIVE, sqlite_where=_ACTIVE)
Index('ix_activity_signup_activity', ActivitySignup.activity_id, ActivitySignup.status)
Index('ix_activity_signup_volunteer', ActivitySignup.volunteer_id, ActivitySignup.id)
Index('ix_activity_signup_instance', ActivitySignup.instance_id)

"""In-app messages (站内信): one row per recipient."""
from flask_babel import get_locale
from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime, utcnow

MESSAGE_KINDS = ('task', 'decision', 'reminder', 'info')


class Message(db.Model):
    __tablename__ = 'message'
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey('app_user.id'))
    kind: Mapped[str] = mapped_column(String(16))  # task decision reminder info
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default='')
    # the same text in English, for readers whose pages speak English; NULL where the text is the same in both
    # (a reviewer's reason, a user's own words) or for messages written before English was stored
    title_en: Mapped[str | None] = mapped_column(String(200))
    body_en: Mapped[str | None] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(300), default='')  # relative URL inside the app
    created_at = mapped_column(UTCDateTime, default=utcnow)
    read_at = mapped_column(UTCDateTime)

    @property
    def shown_title(self) -> str:
        """The title in the reader's language (English pages: the English text where one was stored)."""
        return self.title_en if self.title_en and _english() else self.title

    @property
    def shown_body(self) -> str:
        return self.body_en if self.body_en and _english() else self.body


def _english() -> bool:
    locale = get_locale()
    return locale is not None and locale.language == 'en'


# the list (user, newest first) and the unread badge (user, read_at IS NULL) both use this index
Index('ix_message_user_unread', Message.user_id, Message.read_at, Message.created_at)

# a handled task's unread 新待办 messages are found by their link (messages.settle_task_messages)
Index('ix_message_link_unread', Message.link, postgresql_where=Message.read_at.is_(None),
      sqlite_where=Message.read_at.is_(None))

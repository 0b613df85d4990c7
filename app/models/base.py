"""Shared column helpers."""
from datetime import UTC, datetime

from sqlalchemy import String
from sqlalchemy.types import DateTime, TypeDecorator


def utcnow():
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Stores aware datetimes as UTC; returns aware UTC datetimes on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# org-unit paths are compared as byte ranges; PostgreSQL needs the C collation for that
PathString = String(400).with_variant(String(400, collation='C'), 'postgresql')

"""Organisation tree, users, memberships, browser sign-ins and API tokens."""
from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import PathString, UTCDateTime, utcnow


class OrgUnit(db.Model):
    __tablename__ = 'org_unit'
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(32))  # city district street station provider team association bureau
    parent_id: Mapped[int | None] = mapped_column(ForeignKey('org_unit.id'))
    path: Mapped[str] = mapped_column(PathString, unique=True)
    is_veterans: Mapped[bool] = mapped_column(default=False)

    parent = relationship('OrgUnit', remote_side=[id])


class User(db.Model):
    __tablename__ = 'app_user'
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(64))
    id_number: Mapped[str | None] = mapped_column(String(18))
    phone: Mapped[str | None] = mapped_column(String(20))
    home_unit_id: Mapped[int | None] = mapped_column(ForeignKey('org_unit.id'))
    guardian_json: Mapped[str | None] = mapped_column(db.Text)
    active: Mapped[bool] = mapped_column(default=True)
    # set for accounts created by a team's batch import (initial password from the ID number): changed at first login
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at = mapped_column(UTCDateTime, default=utcnow)

    # loaded when asked for: the signed-in user's are loaded with it (auth), while users loaded as the actors or
    # volunteers of a case must not cost a query for memberships nobody reads
    memberships = relationship('Membership', back_populates='user', lazy='select')
    home_unit = relationship('OrgUnit')

    # the four members Flask-Login expects, kept here so models do not import the web layer
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self):
        return self.active

    # the browser sign-in (LoginSession) this user object was loaded for or signed in with, if any
    login_session_id = None  # (not a column)

    def get_id(self):
        """What a browser session and its remember cookie carry: the user and the sign-in it belongs to, so that
        ending the sign-in (logout, a password change elsewhere, age) ends the cookie (app.services.auth)."""
        return f'{self.id}:{self.login_session_id or 0}'


class LoginSession(db.Model):
    """One browser sign-in. Its logout ends it, a password change ends all the user's others, and it lapses after
    the remember cookie's duration: a copied session or remember cookie stops working with it."""
    __tablename__ = 'login_session'
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey('app_user.id'), index=True)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    ended_at = mapped_column(UTCDateTime)


class Membership(db.Model):
    __tablename__ = 'membership'
    __table_args__ = (UniqueConstraint('user_id', 'role', 'org_unit_id'),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey('app_user.id'), index=True)
    role: Mapped[str] = mapped_column(String(32))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey('org_unit.id'))
    created_at = mapped_column(UTCDateTime, default=utcnow)  # when the person joined the unit (team rosters)

    user = relationship('User', back_populates='memberships')
    org_unit = relationship('OrgUnit', lazy='joined')


class ApiToken(db.Model):
    __tablename__ = 'api_token'
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey('app_user.id'))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    expires_at = mapped_column(UTCDateTime)

    user = relationship('User')


Index('ix_org_unit_parent', OrgUnit.parent_id)
# a team's batch import matches its rows to existing people by ID number or phone; rosters list a unit's members
Index('ix_app_user_id_number', User.id_number)
Index('ix_app_user_phone', User.phone)
Index('ix_membership_unit_role', Membership.org_unit_id, Membership.role)

"""A process-wide copy of the organisation tree (org_unit), read once instead of on every step.

Units are few (a city's districts, streets, stations and teams) and change only when units are added or
edited; any insert, update or delete of an OrgUnit through the ORM empties the copy, and so does the
rollback of a transaction that changed one. Rows come back as plain records, or as OrgUnit objects merged
into the current session without a query (`Session.merge(load=False)`), so relationships to them work as
if they had been selected.

Another process (`flask create-unit`, a second web worker) changes units without this process hearing of it: the copy
is also read again once it is ORG_CACHE_SECONDS old (default 60), so a new unit reaches running servers within that."""
import time
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import event, select
from sqlalchemy.orm import Session, make_transient_to_detached

from app.extensions import db
from app.models import OrgUnit

_COLUMNS = ('id', 'code', 'name', 'kind', 'parent_id', 'path', 'is_veterans')
_trees: dict[str, '_Tree'] = {}


@dataclass(frozen=True)
class Unit:
    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    path: str
    is_veterans: bool
    parent_name: str


class _Tree:
    def __init__(self, rows):
        names = {r.id: r.name for r in rows}
        self.units = sorted((Unit(*(getattr(r, c) for c in _COLUMNS), parent_name=names.get(r.parent_id, ''))
                             for r in rows), key=lambda u: (u.path, u.id))
        self.by_code = {u.code: u for u in self.units}
        self.by_id = {u.id: u for u in self.units}
        roots = sorted((u for u in self.units if u.parent_id is None), key=lambda u: u.id)
        self.root = roots[0] if roots else None
        self.detached: dict[int, OrgUnit] = {}
        self.loaded_at = time.monotonic()

    def detached_copy(self, unit: Unit) -> OrgUnit:
        obj = self.detached.get(unit.id)
        if obj is None:
            obj = OrgUnit(**{c: getattr(unit, c) for c in _COLUMNS})
            make_transient_to_detached(obj)
            self.detached[unit.id] = obj
        return obj


def _tree() -> _Tree:
    key = str(db.engine.url)
    tree = _trees.get(key)
    if tree is None or time.monotonic() - tree.loaded_at > current_app.config.get('ORG_CACHE_SECONDS', 60):
        tree = _trees[key] = _Tree(db.session.execute(select(*(getattr(OrgUnit, c) for c in _COLUMNS))).all())
    return tree


def clear() -> None:
    _trees.clear()


def unit(code) -> Unit | None:
    return _tree().by_code.get(str(code)) if code not in (None, '') else None


def of_kind(*kinds: str) -> list[Unit]:
    """Units of these kinds, in tree order."""
    return [u for u in _tree().units if u.kind in kinds]


def attached(units) -> list[OrgUnit]:
    """The OrgUnit objects of these records, in the current session (no query)."""
    tree = _tree()
    return [db.session.merge(tree.detached_copy(u), load=False) for u in units if u is not None]


def by_code(code) -> OrgUnit | None:
    """The OrgUnit with this code in the current session, or None."""
    found = attached([unit(code)])
    return found[0] if found else None


def by_codes(codes) -> list[OrgUnit]:
    tree = _tree()
    return attached(dict.fromkeys(tree.by_code.get(str(c)) for c in codes))


def place_names(code) -> list[str]:
    """The names of the units a unit sits in, below the city, outermost first ([荔湾区, 西村街] for a team of
    西村街); [] for an unknown code, a district or the city."""
    tree = _tree()
    u, names = tree.by_code.get(str(code)), []
    while u is not None and u.parent_id is not None:
        u = tree.by_id.get(u.parent_id)
        if u is not None and u.parent_id is not None:
            names.append(u.name)
    return names[::-1]


def root() -> OrgUnit | None:
    tree = _tree()
    return attached([tree.root])[0] if tree.root else None


def _changed(mapper, connection, target) -> None:
    clear()
    session = Session.object_session(target)
    if session is not None:
        session.info['org_units_changed'] = True


for _name in ('after_insert', 'after_update', 'after_delete'):
    event.listen(OrgUnit, _name, _changed)


@event.listens_for(Session, 'after_rollback')
def _forget_rolled_back(session) -> None:
    if session.info.pop('org_units_changed', False):
        clear()


@event.listens_for(Session, 'after_commit')
def _keep(session) -> None:
    session.info.pop('org_units_changed', None)

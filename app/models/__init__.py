"""All tables; import here so Alembic and create_all see them."""
from app.models.activity import Activity, ListVersion, SensitiveWord, UnitListEntry
from app.models.activity_signup import ActivitySignup
from app.models.audit import AuditLog, Decision
from app.models.draft import WorkflowDraft
from app.models.export import ExportJob
from app.models.files import InstanceFile, StoredFile
from app.models.ledger import LedgerAccount, LedgerEntry, LedgerHold, LedgerPosting
from app.models.message import Message
from app.models.org import ApiToken, LoginSession, Membership, OrgUnit, User
from app.models.service_object import ServiceObject
from app.models.shop import GiftRequest, ShopItem, ShopRedemption
from app.models.v_order import VOrder, VOrderObject, VOrderVolunteer
from app.models.workflow import HumanTask, HumanTaskScope, WorkflowInstance, WorkflowVersion

__all__ = ['Activity', 'ActivitySignup', 'ListVersion', 'SensitiveWord', 'UnitListEntry',
           'ApiToken', 'AuditLog', 'Decision', 'ExportJob', 'HumanTask', 'HumanTaskScope', 'InstanceFile', 'LedgerAccount',
           'LedgerEntry', 'LedgerHold', 'LedgerPosting', 'LoginSession', 'Membership', 'Message', 'OrgUnit', 'ServiceObject',
           'StoredFile',
           'GiftRequest', 'ShopItem', 'ShopRedemption',
           'User',
           'VOrder', 'VOrderObject', 'VOrderVolunteer', 'WorkflowDraft', 'WorkflowInstance', 'WorkflowVersion']

"""Process administration: drafts, validation, publishing, version diffs (migrations: process_migration)."""
import ast
import json
import os
import re

from flask import current_app
from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import undefer

from app.extensions import db
from app.models import AuditLog, HumanTask, WorkflowDraft, WorkflowInstance, WorkflowVersion
from app.models.base import utcnow
from app.services import forms, row_id, transaction
from app.services.accounts import PARENT_KINDS, ROLE_KINDS
from app.services.errors import Conflict, Forbidden, NotFound, ServiceError, ValidationFailed
from app.services.hooks import hooks_for
from app.services.instances import _spec_json, deploy, load_run, reset_instance
from app.services.roles import LANE_ROLES, ROLES, role_label
from app.services.step_names import step_name
from workflows import DeploymentError, Problem, check_expression, lint, parse_xml
from workflows.deployment import BPMN_NS
from workflows.engine import MAX_XML_BYTES
from workflows.migration import diff_versions, diff_xml
from workflows.service_tasks import registered_names

ADMIN_ROLE = 'process_admin'
MAX_BPMN_BYTES = MAX_XML_BYTES
# variables the app itself puts into task data, besides form fields, service-task results and what each process's
# hooks declare (ProcessHooks.scope_variables and data_variables)
APP_VARIABLES = {'instance_id'}
FIELD_LABELS = {'lane': _l('泳道（角色）'), 'bpmn_name': _l('名称'), 'name': _l('名称'), 'extensions': _l('表单或属性'),
                'cond_task_specs': _l('条件'), 'default_task_spec': _l('默认路径'), 'outputs': _l('后续步骤'),
                'inputs': _l('前序步骤'), 'typename': _l('元素类型'), 'operation_name': _l('服务操作'),
                'operation_params': _l('服务参数'), 'bpmn_id': _l('编号'), 'event_definition': _l('事件设置'),
                'documentation': _l('说明')}


class DiagramTooLarge(ServiceError):
    status = 413
    code = 'too_large'

    def default_message(self):
        return _l('流程图文件过大（不超过 %(mb)d MB）', mb=MAX_BPMN_BYTES // 2 ** 20)


class ProblemsFound(ServiceError):
    """A diagram cannot be stored or published; `problems` lists every reason."""

    status = 422
    code = 'invalid_diagram'

    def __init__(self, problems: list[dict], status=None):
        self.problems = problems
        if status:
            self.status = status
        super().__init__(_l('流程图有 %(n)d 个问题，未发布', n=len(problems)))


def require_admin(user) -> None:
    """Only process administrators may see or change diagrams."""
    if user is None or not any(m.role == ADMIN_ROLE for m in user.memberships):
        raise Forbidden()


def is_admin(user) -> bool:
    return bool(user) and any(m.role == ADMIN_ROLE for m in getattr(user, 'memberships', []))


# ---------------------------------------------------------------- reading

def _bpmn_files() -> dict[str, str]:
    folder = current_app.config['BPMN_DIR']
    return {f[:-5]: os.path.join(folder, f) for f in sorted(os.listdir(folder)) if f.endswith('.bpmn')}


def file_process_name(key: str) -> str:
    """The name a shipped diagram gives its process (<bpmn:process name>), for a process not yet published; the key
    when the file has none (or cannot be read: the editor says why when it is opened)."""
    path = _bpmn_files().get(key)
    if path is None:
        return key
    try:
        with open(path, 'rb') as fh:
            root = parse_xml(fh.read())
    except (OSError, DeploymentError):
        return key
    process = root.find(f'{{{BPMN_NS}}}process[@id="{key}"]')
    return (process.get('name') if process is not None else None) or key


def process_keys() -> list[str]:
    published = set(db.session.scalars(select(WorkflowVersion.process_key).distinct()))
    return sorted(published | set(_bpmn_files()))


def _known_key(key: str) -> str:
    if key not in process_keys():
        raise NotFound()
    return key


def _version(key: str, number=None) -> WorkflowVersion | None:
    q = select(WorkflowVersion).where(WorkflowVersion.process_key == key)
    if number not in (None, ''):
        number = row_id(number) if not isinstance(number, bool) else None
        if number is None:
            raise NotFound()
        return db.session.scalar(q.where(WorkflowVersion.version == number)) or _raise(NotFound())
    return db.session.scalar(q.order_by(WorkflowVersion.version.desc()).limit(1))


def _raise(exc):
    raise exc


def _live_drafts(key: str, latest: WorkflowVersion | None):
    """The unpublished drafts of `key` that can still be published: a draft based on an older version than the
    latest cannot (_refuse_stale), so it is neither counted as pending work nor reopened by the editor."""
    live = WorkflowDraft.base_version.is_(None) | (WorkflowDraft.base_version >= (latest.version if latest else 0))
    return select(WorkflowDraft).where(WorkflowDraft.process_key == key, WorkflowDraft.published_version_id.is_(None),
                                       live)


def _pending_drafts(key: str, latest: WorkflowVersion | None) -> list[WorkflowDraft]:
    """The live drafts that change something, saved last first (each save of the editor's own draft renews its
    time): a draft the same as the latest version (a publish click without changes saves one, then is refused)
    is no pending work either."""
    drafts = db.session.scalars(_live_drafts(key, latest).options(undefer(WorkflowDraft.xml))
                                .order_by(WorkflowDraft.created_at.desc(), WorkflowDraft.id.desc()))
    return [d for d in drafts if _same_as(latest, d.xml) is None]


def _latest_draft(key: str, latest: WorkflowVersion | None) -> WorkflowDraft | None:
    pending = _pending_drafts(key, latest)
    return pending[0] if pending else None


def _stale_drafts(key: str, latest: WorkflowVersion | None) -> list[WorkflowDraft]:
    """The unpublished drafts of `key` edited from an older version than the latest: publishing them is refused
    (_refuse_stale), yet they hold what their admin changed, to be redone on the latest version. Saved last first."""
    if latest is None:
        return []
    return list(db.session.scalars(select(WorkflowDraft).where(
        WorkflowDraft.process_key == key, WorkflowDraft.published_version_id.is_(None),
        WorkflowDraft.base_version < latest.version).order_by(WorkflowDraft.created_at.desc(), WorkflowDraft.id.desc())))


def overview(user) -> list[dict]:
    """Every process with its latest version, running instances and unpublished drafts (and the latest of them,
    which the list links to); `stale`: the drafts that can no longer be published (made from an older version),
    listed so that their admin can open them and redo the change on the latest version."""
    require_admin(user)
    running = dict(db.session.execute(select(WorkflowInstance.process_key, func.count()).where(
        WorkflowInstance.status == 'running').group_by(WorkflowInstance.process_key)).all())
    result = []
    for key in process_keys():
        latest = _version(key)
        pending = _pending_drafts(key, latest)
        newest = pending[0] if pending else None
        result.append({'key': key, 'name': latest.name if latest else file_process_name(key),
                       'version': latest.version if latest else None,
                       'published_at': latest.published_at if latest else None, 'running': running.get(key, 0),
                       'drafts': len(pending), 'draft_id': newest.id if newest else None,
                       'draft_by': newest.created_by.display_name if newest and newest.created_by else None,
                       'draft_at': newest.created_at if newest else None,
                       'stale': [{'id': d.id, 'base_version': d.base_version, 'at': d.created_at,
                                  'by': d.created_by.display_name if d.created_by else None}
                                 for d in _stale_drafts(key, latest)]})
    return result


def bpmn(user, key: str, version=None, draft_id=None) -> tuple[bytes, str]:
    """The XML of a version (latest when none) or of a draft, and a download file name."""
    require_admin(user)
    _known_key(key)
    if draft_id:
        draft = _draft(key, draft_id)
        return draft.xml, f'{key}-draft{draft.id}.bpmn'
    row = _version(key, version)
    if row is None:
        with open(_bpmn_files()[key], 'rb') as fh:
            return fh.read(), f'{key}.bpmn'
    return row.bpmn_xml, f'{key}-v{row.version}.bpmn'


def _running_by_version(key: str) -> dict:
    counts = dict(db.session.execute(select(WorkflowInstance.version_id, func.count()).where(
        WorkflowInstance.process_key == key, WorkflowInstance.status == 'running')
        .group_by(WorkflowInstance.version_id)).all())
    steps: dict[int, list] = {}
    rows = db.session.execute(select(WorkflowInstance.version_id, HumanTask.bpmn_id, HumanTask.title, func.count())
                              .join(WorkflowInstance, HumanTask.instance_id == WorkflowInstance.id)
                              .where(WorkflowInstance.process_key == key, WorkflowInstance.status == 'running',
                                     HumanTask.status == 'open')
                              .group_by(WorkflowInstance.version_id, HumanTask.bpmn_id, HumanTask.title)).all()
    for version_id, bpmn_id, title, n in rows:
        # label: the step in the reader's language (the editor's Version tab), title: as the diagram names it
        steps.setdefault(version_id, []).append({'bpmn_id': bpmn_id, 'title': title, 'label': step_name(title), 'count': n})
    return {'counts': counts, 'steps': steps}


def versions(user, key: str) -> list[dict]:
    """Published versions, newest first, with how many running instances sit on each and where."""
    require_admin(user)
    _known_key(key)
    running = _running_by_version(key)
    rows = db.session.scalars(select(WorkflowVersion).where(WorkflowVersion.process_key == key)
                              .order_by(WorkflowVersion.version.desc()))
    return [{'version': v.version, 'name': v.name,
             'published_at': v.published_at.isoformat() if v.published_at else None,
             'published_by': v.published_by.username if v.published_by else None,
             'running_instances': running['counts'].get(v.id, 0),
             'steps': sorted(running['steps'].get(v.id, []), key=lambda s: -s['count'])} for v in rows]


def running_instances(user, key: str, version: int, limit=50) -> list[dict]:
    require_admin(user)
    row = _version(key, version)
    insts = db.session.scalars(select(WorkflowInstance).where(
        WorkflowInstance.version_id == row.id, WorkflowInstance.status == 'running')
        .order_by(WorkflowInstance.id.desc()).limit(limit))
    return [{'id': i.id, 'title': i.title, 'stage': i.stage} for i in insts]


MAX_LISTED_VALUES = 12


def _form_fields(form: dict) -> list[dict]:
    """A form's fields as the condition help lists them: name, label and, for a fixed choice, its values."""
    fields = []
    for name in forms.field_order(form):
        prop = form.get('properties', {}).get(name)
        if prop is None:
            continue
        values = forms.option_list(prop) if prop.get('enum') and not prop.get('x-options') else []
        fields.append({'name': name, 'label': forms.label(prop) or name,
                       'values': [[str(v), str(t)] for v, t in values[:MAX_LISTED_VALUES]]})
    return fields


def _variables(declared: dict) -> list[dict]:
    return [{'name': name, 'label': str(var.label), 'unit': var.unit} for name, var in declared.items()]


def editor_options(key: str | None = None) -> dict:
    """What the editor's pickers offer: roles for lanes, forms for user tasks (with their fields, for the condition
    help), service operators, and the variables the process's hooks put into the case data: its scope variables
    (管辖范围变量, with the roles that can see each one) and the others a condition may read."""
    form_list = []
    for name in sorted(forms.form_names()):
        try:
            form = forms.get_form(name)
        except (ValueError, OSError):
            form_list.append({'name': name, 'title': name, 'fields': []})
            continue
        form_list.append({'name': name, 'title': forms.label(form) or name, 'fields': _form_fields(form)})
    hooks = hooks_for(key or '')
    scopes = _variables(hooks.scope_variables)
    for scope in scopes:
        scope['roles'] = sorted(r for r in ROLE_KINDS if _role_sees(r, scope['unit']))
    return {'roles': [{'key': k, 'label': str(v)} for k, v in ROLES.items()], 'forms': form_list,
            'operators': sorted(registered_names()), 'scopes': scopes,
            'cityRoles': sorted(r for r in ROLE_KINDS if _role_sees(r, 'city')),
            'data': _variables(hooks.data_variables), 'unkeptForms': sorted(hooks.unkept_forms)}


# ---------------------------------------------------------------- validation

def known_variables(key: str, xml: bytes | None = None) -> set[str]:
    """Names a condition may use: form fields, app data, service-task results in the diagram."""
    hooks = hooks_for(key)
    names = set(APP_VARIABLES) | set(hooks.scope_variables) | set(hooks.data_variables)
    for name in forms.form_names():
        try:
            names |= set(forms.get_form(name).get('properties', {}))
        except (ValueError, OSError):
            continue
    if xml:
        names |= {m.decode() for m in re.findall(rb'resultVariable="([A-Za-z_][A-Za-z0-9_]*)"', xml)}
    return names | _names_in_use(key)


def _names_in_use(key: str) -> set[str]:
    """Names the published version (or the shipped diagram) already reads: the app supplies those."""
    latest = _version(key)
    xml = latest.bpmn_xml if latest else None
    if xml is None and key in _bpmn_files():
        with open(_bpmn_files()[key], 'rb') as fh:
            xml = fh.read()
    if not xml:
        return set()
    try:
        root = parse_xml(xml)
    except DeploymentError:
        return set()
    expressions = [el.text for el in root.iter() if isinstance(el.tag, str) and el.text and el.tag.split('}')[-1] in
                   ('conditionExpression', 'timeDuration', 'timeDate', 'timeCycle')]
    expressions += [el.get('value') for el in root.iter('{*}parameter') if el.get('value')]
    names = set()
    for expr in expressions:
        try:
            tree = ast.parse(expr.strip(), mode='eval')
        except SyntaxError:
            continue
        names |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    return names


def _ancestor_kinds(kind: str) -> set[str]:
    """The kinds of org unit a unit of `kind` can sit under (a station: street, district, city)."""
    found, todo = set(), list(PARENT_KINDS.get(kind) or ())
    while todo:
        parent = todo.pop()
        if parent not in found:
            found.add(parent)
            todo.extend(PARENT_KINDS.get(parent) or ())
    return found


def _role_sees(role: str, unit_kind: str | None) -> bool:
    """Whether a holder of `role` can see a task scoped to a unit of `unit_kind`: a membership sees the tasks of its
    own unit and of the units under it (app.services.jurisdiction), and each role sits on units of ROLE_KINDS. A
    city-wide role (广志协, 退役军人事务局, 流程管理员) sees everything, also a task without a scope (the city)."""
    if unit_kind is None:
        return False
    return any(kind == unit_kind or kind in _ancestor_kinds(unit_kind) for kind in ROLE_KINDS.get(role, ()))


def _scope_choices(declared: dict, role: str) -> str:
    """The scope variables a task in `role`'s lane may use, as '名称（含义）、…', for a refusal's message."""
    choices = [str(_l('%(name)s（%(meaning)s）', name=name, meaning=var.label))
               for name, var in declared.items() if _role_sees(role, var.unit)]
    if _role_sees(role, 'city'):
        choices.append(str(_l('留空（全市）')))
    return '、'.join(choices) if choices else str(_l('本流程没有适合该角色的变量，请把这一步放到其他泳道'))


def scope_rule(key: str):
    """The check of a user task's 管辖范围变量 (its `scope` property) for process `key`, for lint's task_rule.

    A task is offered to the holders of its lane's role whose unit is at or above the units its scope variable
    names; without one it is scoped to the city (instances.scope_units). So a task in the lane of a role held below
    the city (社工站, 镇街, 区民政局, 服务商, 团队, 志愿者) needs a scope variable, and any scope variable must be one the
    process puts into the case data (its hooks' scope_variables) and name units that role can see: otherwise the
    case stops at a step nobody can see. The submitter's own steps have no scope; a lane that is not a role is
    reported on the lane."""
    declared = hooks_for(key).scope_variables

    def rule(task: dict) -> list[str]:
        role, scope = task['lane'], task['scope']
        if role not in ROLE_KINDS:
            return []
        names = {'name': task['name'], 'id': task['bpmn_id'], 'role': role_label(role)}
        if not (scope or '').strip():
            if _role_sees(role, 'city'):
                return []
            return [str(_l('步骤“%(name)s”（%(id)s）在“%(role)s”泳道，但没有设置管辖范围变量：任务会落到全市一级，'
                           '%(role)s看不到它，案件会停在这一步。请选择：%(choices)s',
                           choices=_scope_choices(declared, role), **names))]
        if scope not in declared:
            return [str(_l('步骤“%(name)s”（%(id)s）的管辖范围变量“%(var)s”不是本流程提供的变量，无法确定由哪个单位的'
                           '%(role)s处理。请改选：%(choices)s', var=scope, choices=_scope_choices(declared, role),
                           **names))]
        if not _role_sees(role, declared[scope].unit):
            return [str(_l('步骤“%(name)s”（%(id)s）在“%(role)s”泳道，但管辖范围变量“%(var)s”（%(meaning)s）不在%(role)s'
                           '的管辖之内，%(role)s看不到这一步的任务。请改选：%(choices)s', var=scope,
                           meaning=declared[scope].label, choices=_scope_choices(declared, role), **names))]
        return []
    return rule


def check_condition(user, key: str, expression: str, xml: bytes | None = None) -> dict:
    """Live check of a sequence-flow condition as the admin types it (detail: the checker's own words)."""
    require_admin(user)
    message = check_expression(expression or '', known_variables(key, xml))
    if message is None:
        return {'ok': True, 'message': ''}
    return {'ok': False, 'message': _localize_detail(message), 'detail': message}


# ---------------------------------------------------------------- problems in the admin's words
# The lint (workflows/deployment.py), the engine's parser and the XML validator speak English; each problem a user
# can cause is said again here as a sentence naming the element by its name (else its id). The original text stays
# with the problem as its `detail` (the technical detail of the editor's list).

class _Elements:
    """The diagram's elements by id, to name them in messages: by their name, else by their id."""

    def __init__(self, root=None):
        self.by_id = {}
        if root is not None:
            for el in root.iter():
                if isinstance(el.tag, str) and el.get('id'):
                    self.by_id.setdefault(el.get('id'), el)

    def tag(self, element_id) -> str:
        el = self.by_id.get(element_id)
        return el.tag.split('}')[-1] if el is not None else ''

    def name(self, element_id) -> str:
        """“提交服务对象信息”'s words: the name; a flow without one by where it goes ('修改次数 → 终止录入')."""
        el = self.by_id.get(element_id)
        if el is None:
            return element_id or '-'
        name = ' '.join((el.get('name') or '').split())
        if name:
            return name
        if self.tag(element_id) == 'sequenceFlow':
            return f"{self.name(el.get('sourceRef'))} → {self.name(el.get('targetRef'))}"
        if self.tag(element_id) == 'process':  # a process is often named only on its pool
            pool = next((p for p in self.by_id.values() if p.get('processRef') == element_id and p.get('name')), None)
            if pool is not None:
                return pool.get('name')
        return element_id

    def source(self, flow_id) -> str | None:
        el = self.by_id.get(flow_id)
        return el.get('sourceRef') if el is not None else None

    def caller(self, process_id) -> str | None:
        """The call activity that calls `process_id`."""
        return next((i for i, el in self.by_id.items() if el.get('calledElement') == process_id), None)


_KINDS = {'userTask': _l('审核步骤'), 'manualTask': _l('审核步骤'), 'serviceTask': _l('系统步骤'),
          'exclusiveGateway': _l('分支'), 'inclusiveGateway': _l('分支'), 'parallelGateway': _l('分支'),
          'eventBasedGateway': _l('分支'), 'complexGateway': _l('分支'), 'startEvent': _l('开始事件'),
          'endEvent': _l('结束事件'), 'boundaryEvent': _l('边界事件'), 'intermediateCatchEvent': _l('事件'),
          'intermediateThrowEvent': _l('事件'), 'receiveTask': _l('接收任务'), 'subProcess': _l('子流程'),
          'transaction': _l('子流程'),
          'callActivity': _l('调用活动'), 'sequenceFlow': _l('连线'), 'lane': _l('泳道'), 'process': _l('流程')}


def _kind(els: _Elements, element_id) -> str:
    return str(_KINDS.get(els.tag(element_id), _l('步骤')))


_XML_HINTS = [
    (r'Document is empty', lambda m: _l('文件是空的')),
    (r"Start tag expected, '<' not found", lambda m: _l('这不是 XML 文件')),
    (r'Premature end of data in tag (\S+)', lambda m: _l('标签 <%(tag)s> 没有结束，文件可能不完整', tag=m[1])),
    (r'Opening and ending tag mismatch: (\S+) line \d+ and (\S+)', lambda m: _l(
        '开始标签 <%(tag)s> 与结束标签 </%(other)s> 不配对', tag=m[1], other=m[2])),
    (r'Namespace prefix (\S+) on (\S+) is not defined', lambda m: _l('命名空间前缀“%(prefix)s”没有声明', prefix=m[1])),
    (r'Extra content at the end of the document', lambda m: _l('文件末尾有多余的内容')),
    (r"EntityRef: expecting ';'", lambda m: _l('有未转义的“&”，应写成 &amp;')),
    (r"Unescaped '<' not allowed in attributes values", lambda m: _l('属性值里有未转义的“<”')),
    (r"""AttValue: " or ' expected""", lambda m: _l('属性值缺少引号')),
    (r'Attribute (\S+) redefined', lambda m: _l('属性 %(attr)s 重复出现', attr=m[1])),
    (r"Couldn't find end of Start Tag (\S+)", lambda m: _l('标签 <%(tag)s> 没有写完', tag=m[1])),
    (r"expected '>'", lambda m: _l('缺少“>”')),
]


def _xml_message(raw: str) -> str:
    """lxml's words for unreadable XML: where (line, column) and, for the usual slips, what."""
    where = re.search(r'line (\d+), column (\d+)', raw)
    hint = next((str(make(m)) for pattern, make in _XML_HINTS for m in [re.search(pattern, raw)] if m), None)
    if where and hint:
        return str(_l('XML 格式错误，文件无法读取（第 %(line)s 行第 %(col)s 列）：%(hint)s', line=where[1], col=where[2],
                      hint=hint))
    if where:
        return str(_l('XML 格式错误，文件无法读取（第 %(line)s 行第 %(col)s 列）', line=where[1], col=where[2]))
    return str(_l('XML 格式错误，文件无法读取：%(hint)s', hint=hint)) if hint else str(_l('XML 格式错误，文件无法读取'))


_XSD_PREFIXES = {'http://www.omg.org/spec/BPMN/20100524/MODEL': 'bpmn', 'http://www.omg.org/spec/BPMN/20100524/DI':
                 'bpmndi', 'http://www.omg.org/spec/DD/20100524/DC': 'dc', 'http://www.omg.org/spec/DD/20100524/DI': 'di',
                 'http://spiffworkflow.org/bpmn/schema/1.0/core': 'spiffworkflow'}


def _xsd_message(raw: str, els: _Elements, element_id) -> str:
    """The BPMN schema's complaint about one element, in a sentence."""
    text = re.sub(r'\{([^}]+)\}', lambda m: (_XSD_PREFIXES.get(m[1], 'ns') + ':'), raw)
    m = re.match(r"Element '([^']+)'(?:, attribute '([^']+)')?: (.*)", text)
    tag, attr, why = (m[1], m[2], m[3]) if m else ('', None, text)
    value = re.match(r"'(.*?)' is not a valid value", why)
    if value and 'xs:ID' in why:
        said = _l('编号“%(value)s”无效：每个元素的编号必须唯一，并以字母或下划线开头（不符合 BPMN 规范）', value=value[1])
    elif value and attr:
        said = _l('元素 <%(tag)s> 的属性 %(attr)s 的值“%(value)s”无效（不符合 BPMN 规范）', tag=tag, attr=attr,
                  value=value[1])
    elif 'This element is not expected' in why:
        said = _l('元素 <%(tag)s> 不能出现在这里（不符合 BPMN 规范）', tag=tag)
    elif 'Missing child element' in why:
        said = _l('元素 <%(tag)s> 缺少必需的子元素（不符合 BPMN 规范）', tag=tag)
    elif re.search(r"The attribute '(.*)' is required but missing", why):
        said = _l('元素 <%(tag)s> 缺少必需的属性 %(attr)s（不符合 BPMN 规范）', tag=tag,
                  attr=re.search(r"The attribute '(.*)' is required", why)[1])
    elif attr and 'is not allowed' in why:
        said = _l('元素 <%(tag)s> 不能有属性 %(attr)s（不符合 BPMN 规范）', tag=tag, attr=attr)
    elif tag:
        said = _l('元素 <%(tag)s> 不符合 BPMN 规范', tag=tag)
    else:
        said = _l('文件不符合 BPMN 规范')
    if element_id and not (value and 'xs:ID' in why) and els.by_id.get(element_id) is not None \
            and els.tag(element_id) != tag.split(':')[-1]:
        return str(_l('“%(name)s”中：%(problem)s', name=els.name(element_id), problem=said))
    return str(said)


def _syntax_hint(expr: str, why: str) -> str:
    """What is wrong with an expression Python cannot read, in the admin's words."""
    if '${' in expr or '#{' in expr:
        return str(_l('条件要用 Python 写法（例如 decision == "reject"），不支持 ${…} 这种写法'))
    char = re.search(r"invalid character '(.)'", why)
    if char:
        return str(_l('含有全角符号 %(ch)s，引号、括号、等号等请用英文半角符号', ch=char[1]))
    if re.search(r'(?<![=!<>])=(?!=)', expr):
        return str(_l('判断是否相等要用 ==（两个等号）'))
    if 'unterminated string' in why or 'EOL while scanning' in why:
        return str(_l('引号没有成对'))
    if 'never closed' in why or 'unmatched' in why or 'does not match' in why:
        return str(_l('括号没有成对'))
    return str(_l('写法不完整或不正确'))


def _localize_detail(message: str) -> str:
    m = re.match(r"syntax error in expression (.*): (.*)$", message)
    if m:
        expr = m[1][1:-1] if m[1][:1] in '\'"' else m[1]
        return str(_l('表达式 %(e)s 有语法错误：%(why)s', e=m[1], why=_syntax_hint(expr, m[2])))
    m = re.match(r"expression (.*) is not allowed: (.*)$", message)
    if m:
        underscore = re.search(r'"(_\w*)" is an invalid (?:variable|attribute) name because it starts with "_"', m[2])
        if underscore:
            return str(_l('表达式 %(e)s 不允许：以下划线开头的名称（%(n)s）可能调用系统内部功能，只能比较数据', e=m[1],
                          n=underscore[1]))
        return str(_l('表达式 %(e)s 含有不允许的写法（只能比较数据，不能调用系统功能）', e=m[1]))
    m = re.match(r"expression (.*) uses unknown variable\(s\): (.*)$", message)
    if m and re.fullmatch(r'P(?=\d|T\d)(?:\d+[YMWD])*(?:T(?:\d+[HMS])+)?', m[2]):  # a duration written without its quotes
        return str(_l('时长 %(d)s 要加英文引号，写成 "%(d)s"', d=m[2]))
    if m:
        return str(_l('表达式 %(e)s 使用了未知变量：%(names)s', e=m[1], names=m[2]))
    if message == 'empty expression':
        return str(_l('条件为空'))
    return message


_SCRIPT_KIND = {'prescript': _l('前置脚本'), 'postscript': _l('后置脚本')}


def _waits_message(m, n):
    """A step that waits for a message or signal nothing sends (m: kind word, element id, message or signal, its name)."""
    args = {'kind': _kind(n, m[2]), 'name': n.name(m[2]), 'ref': f'“{m[4]}”' if m[4] else ''}
    if m[3] == 'signal':
        return _l('%(kind)s“%(name)s”在等待信号%(ref)s，但流程图中没有步骤发送它，本系统也不会从外部发送：案件会永远停在这里。'
                  '请删除它，或改用定时器、审核步骤', **args)
    return _l('%(kind)s“%(name)s”在等待消息%(ref)s，但流程图中没有步骤发送它，本系统也不会从外部发送：案件会永远停在这里。'
              '请删除它，或改用定时器、审核步骤', **args)


# (pattern on the English text, (match, elements, the problem's element id) -> message, or (message, element id))
_PATTERNS = [
    (r'script task (\S+) is not allowed', lambda m, n, i: _l(
        '步骤“%(name)s”是脚本任务：本系统不运行脚本，请改用系统步骤（服务任务）', name=n.name(m[1]))),
    (r'(\w+) (\S+) cannot be reached from the start event', lambda m, n, i: _l(
        '%(kind)s“%(name)s”没有从开始事件连过来，永远不会执行：请把它连进流程，或删除它', kind=_kind(n, m[2]),
        name=n.name(m[2]))),
    (r'(prescript|postscript) on (\S+) is not allowed', lambda m, n, i: _l(
        '步骤“%(name)s”带有%(what)s：本系统不运行脚本，请删除它', name=n.name(m[2]), what=_SCRIPT_KIND[m[1]])),
    (r"user task (\S+) is in lane '(.*)'; expected", lambda m, n, i: _l(
        '审核步骤“%(name)s”所在泳道“%(lane)s”不是系统角色，请选中泳道后在右侧用角色选择器选择', name=n.name(m[1]), lane=m[2])),
    (r"lane (\S+) is named '(.*)', which is not a role", lambda m, n, i: _l(
        '泳道“%(lane)s”不是系统角色，请选中泳道后在右侧用角色选择器选择', lane=m[2])),
    (r'lane (\S+) has no role', lambda m, n, i: _l(
        '泳道“%(name)s”还没有指定角色，请选中泳道后在右侧用角色选择器选择', name=n.name(m[1]))),
    (r'user task (\S+) is in no lane', lambda m, n, i: _l(
        '审核步骤“%(name)s”不在任何泳道中，请把它拖进一个角色泳道', name=n.name(m[1]))),
    (r'user task (\S+) names no form', lambda m, n, i: _l(
        '审核步骤“%(name)s”没有选择表单：请选中它，在右侧“表单”中选择', name=n.name(m[1]))),
    (r"user task (\S+) uses unknown form '(.*)'", lambda m, n, i: _l(
        '审核步骤“%(name)s”使用的表单“%(form)s”不存在（forms/ 目录中没有该文件）', name=n.name(m[1]), form=m[2])),
    (r"service task (\S+) calls unregistered operator '(.*)'", lambda m, n, i: _l(
        '系统步骤“%(name)s”调用的操作“%(op)s”未在系统中注册：请在右侧“调用的系统操作”中重新选择', name=n.name(m[1]),
        op=m[2])),
    (r'service task (\S+) parameter (\S+): (.*)', lambda m, n, i: _l(
        '系统步骤“%(name)s”的参数 %(p)s 有误：%(msg)s', name=n.name(m[1]), p=m[2], msg=_localize_detail(m[3]))),
    (r'condition on (\S+): (.*)', lambda m, n, i: _l(
        '连线“%(name)s”的条件有误：%(msg)s', name=n.name(m[1]), msg=_localize_detail(m[2]))),
    (r'timer on (\S+): (.*)', lambda m, n, i: _l(
        '定时器“%(name)s”的时间表达式有误：%(msg)s', name=n.name(m[1]), msg=_localize_detail(m[2]))),
    (r'(?:exclusive|inclusive) gateway (\S+) has no default flow', lambda m, n, i: _l(
        '分支“%(name)s”没有默认路径：所有条件都不满足时流程会卡住，请把一条出线设为默认路径', name=n.name(m[1]))),
    (r'process has no start event|No start event found', lambda m, n, i: _l(
        '流程“%(name)s”没有开始事件：请从左侧工具栏拖入一个开始事件，并把它连到第一步', name=n.name(i))),
    (r'process (\S+) has no end event', lambda m, n, i: _l(
        '%(kind)s“%(name)s”没有结束事件：请至少添加一个结束事件，并把最后一步连到它', kind=_kind(n, m[1]),
        name=n.name(m[1]))),
    (r'(\w+) (\S+) has no outgoing sequence flow; name: (.*)$', lambda m, n, i: _l(
        '%(kind)s“%(name)s”没有出口：流程走到这里会中断，请把它连到下一步或结束事件', kind=_kind(n, m[2]),
        name=n.name(m[2]))),
    (r'(\w+) (\S+) waits for a (message|signal) ?(.*?) that nothing sends', lambda m, n, i: _waits_message(m, n)),
    (r'event-based gateway (\S+) waits only for', lambda m, n, i: _l(
        '分支“%(name)s”（事件网关）后面只有永远等不到的消息或信号：案件会永远停在这里。请至少接一个定时器事件',
        name=n.name(m[1]))),
    (r'sequence flow (\S+) has no source element (\S*)', lambda m, n, i: _l(
        '连线“%(name)s”的起点“%(ref)s”不存在（可能已被删除）：请重新连线，或删除这条连线', name=n.name(m[1]),
        ref=m[2] or '-')),
    (r'sequence flow (\S+) has no target element (\S*)', lambda m, n, i: _l(
        '连线“%(name)s”的终点“%(ref)s”不存在（可能已被删除）：请重新连线，或删除这条连线', name=n.name(m[1]),
        ref=m[2] or '-')),
    (r'When looking for a task spec, we found two items.*\((.*)\)', lambda m, n, i: _l(
        '有连线指向不存在的元素“%(ref)s”：请重新连线，或删除这条连线', ref=m[1])),
    (r'Non-default exclusive outgoing sequence flow without condition', lambda m, n, i: _l(
        '分支“%(gateway)s”的出线“%(name)s”既没有条件，也不是默认路径：请给它填写条件，或把它设为默认路径',
        gateway=n.name(n.source(i)), name=n.name(i))),
    (r'A Service Task must have an operator', lambda m, n, i: _l(
        '系统步骤“%(name)s”没有选择要调用的系统操作：请选中它，在右侧“调用的系统操作”中选择', name=n.name(i))),
    (r'Unknown Time Specification', lambda m, n, i: _l(
        '定时器“%(name)s”没有设置时间：请填写带引号的时长，例如 "P2D"（2 天）或 "PT4H"（4 小时）', name=n.name(i))),
    (r'Exactly one start event is required in a SubWorkflow Task; found (\d+)', lambda m, n, i: _l(
        '子流程“%(name)s”必须有且只有一个开始事件（现在有 %(n)s 个）', name=n.name(i), n=m[1])),
    (r'A SubWorkflow Must contain an End event', lambda m, n, i: _l(
        '子流程“%(name)s”没有结束事件：请在子流程中添加一个结束事件', name=n.name(i))),
    (r'No "calledElement" attribute for Call Activity', lambda m, n, i: _l(
        '调用活动“%(name)s”没有指定要调用的流程', name=n.name(i))),
    (r"The process '(.*)' was not found", lambda m, n, i: (_l(
        '调用活动“%(name)s”要调用的流程“%(ref)s”不存在', name=n.name(n.caller(m[1]) or m[1]), ref=m[1]),
        n.caller(m[1]) or i)),
    (r'There is no support implemented for this task type', lambda m, n, i: _l(
        '本系统不支持“%(name)s”这种元素（bpmn:%(tag)s）：请删除它，或换成审核步骤、系统步骤或分支', name=n.name(i),
        tag=n.tag(i) or '?')),
    (r'No DMN Diagram available', lambda m, n, i: _l(
        '规则步骤“%(name)s”需要决策表（DMN），本系统不支持：请改用系统步骤', name=n.name(i))),
    (r'A multiinstance task must specify', lambda m, n, i: _l(
        '“%(name)s”被设为多实例，但没有指定实例的数量或集合，本系统不支持：请去掉多实例标记', name=n.name(i))),
    (r'A loopMaximum or loopCondition must be specified', lambda m, n, i: _l(
        '“%(name)s”被设为循环，但没有循环条件或最大次数，本系统不支持：请去掉循环标记', name=n.name(i))),
    (r'Conditional event definition with missing condition', lambda m, n, i: _l(
        '条件事件“%(name)s”没有填写条件', name=n.name(i))),
    (r'Duplicate process ID: (\S+)', lambda m, n, i: _l('流程 ID“%(id)s”在文件中出现了多次', id=m[1])),
    (r'schema error: (.*)', lambda m, n, i: _xsd_message(m[1], n, i)),
    (r'malformed XML: (.*)', lambda m, n, i: _xml_message(m[1])),
    (r'DOCTYPE and ENTITY', lambda m, n, i: _l('文件含有 DOCTYPE/ENTITY 声明（可能是 XML 炸弹或外部实体），已拒绝')),
    (r'diagram is larger than', lambda m, n, i: _l('流程图文件过大（不超过 %(mb)d MB）', mb=MAX_BPMN_BYTES // 2 ** 20)),
    (r'is not executable', lambda m, n, i: _l(
        '流程“%(name)s”被标记为不可执行（isExecutable="false"）：请在建模工具中把它设为可执行后重新上传', name=n.name(i))),
]
_CJK = re.compile('[\u4e00-\u9fff]')


def _unmatched(p: Problem, els: _Elements, element_id) -> str:
    """A problem no pattern knows (a rarer parser error): said in general terms, the original as its detail."""
    if _CJK.search(p.message):  # the app's own rules already speak Chinese
        return p.message
    if element_id and els.tag(element_id) == 'eventBasedGateway':
        return str(_l('分支“%(name)s”是事件网关：它后面只能连接等待定时器或消息的中间事件', name=els.name(element_id)))
    if element_id:
        return str(_l('“%(name)s”无法读取：这种元素或设置本系统不支持，请删除或替换它（详见技术细节）',
                      name=els.name(element_id)))
    return str(_l('流程图无法读取：文件中有本系统不支持的内容（详见技术细节）'))


def _problem_dict(p: Problem, lines: dict | None = None, els: _Elements | None = None) -> dict:
    els = els or _Elements()
    element_id, line = p.element_id, p.line
    if element_id is None and line and lines:
        element_id = lines.get(line)
    message = None
    for pattern, make in _PATTERNS:
        m = re.search(pattern, p.message)
        if m:
            said = make(m, els, element_id)
            if isinstance(said, tuple):
                said, element_id = said
            message = str(said)
            break
    if message is None:
        message = _unmatched(p, els, element_id)
    if line is None and element_id and lines:
        line = lines.get(('id', element_id))
    return {'element_id': element_id, 'message': message, 'line': line, 'detail': p.message}


def _line_index(root) -> dict:
    """Line number -> the id of the nearest element with an id starting at or before it (and id -> line)."""
    index, last = {}, None
    for el in root.iter():
        if isinstance(el.tag, str) and el.sourceline:
            last = el.get('id') or last
            index.setdefault(el.sourceline, last)
            if el.get('id'):
                index.setdefault(('id', el.get('id')), el.sourceline)  # and back: id -> its line
    return index


def _key_problems(root, key: str) -> list[Problem]:
    """The diagram must define process `key` and no process named like another process key."""
    lines = {el.get('id'): el.sourceline for el in root.iter(f'{{{BPMN_NS}}}process')}
    ids = list(lines)
    others = set(process_keys()) - {key}
    found = [Problem(pid, str(_l('流程 ID“%(pid)s”与另一个流程的标识冲突；此处只能编辑流程“%(key)s”', pid=pid, key=key)),
                     lines[pid]) for pid in ids if pid in others]
    if key not in ids:
        found.append(Problem(ids[0] if ids else None, str(_l(
            '图中没有 ID 为“%(key)s”的流程（现有：%(ids)s）', key=key, ids='、'.join(ids) or '-')),
            lines[ids[0]] if ids else None))
    return found


def validate(key: str, xml: bytes) -> tuple[list[dict], object]:
    """Every problem of a diagram as dicts; raises ProblemsFound when the XML cannot even be read."""
    if len(xml) > MAX_BPMN_BYTES:
        raise ProblemsFound([{'element_id': None, 'line': None, 'detail': 'too large',
                              'message': str(_l('流程图文件过大（不超过 %(mb)d MB）', mb=MAX_BPMN_BYTES // 2 ** 20))}],
                            status=413)
    try:
        root = parse_xml(xml)
    except DeploymentError as exc:
        raise ProblemsFound([_problem_dict(p) for p in exc.problems]) from exc
    try:
        xml.decode('utf-8')
    except UnicodeDecodeError:
        raise ProblemsFound([{'element_id': None, 'line': None, 'detail': 'not UTF-8',
                              'message': str(_l('流程图文件必须使用 UTF-8 编码'))}]) from None
    lines = _line_index(root)
    key_problems = _key_problems(root, key)
    if key_problems:
        return [_problem_dict(p, lines) for p in key_problems], root
    problems = lint(xml, key, roles=LANE_ROLES, forms=forms.form_names(), known_vars=known_variables(key, xml),
                    task_rule=scope_rule(key))
    els = _Elements(root)
    return [_problem_dict(p, lines, els) for p in problems], root


# ---------------------------------------------------------------- drafts and publishing

def _audit(user, action: str, target: str, detail: dict) -> None:
    db.session.add(AuditLog(actor_id=user.id if user else None, action=action, target=target,
                            detail_json=json.dumps(detail, ensure_ascii=False, default=str), at=utcnow()))


def _draft(key: str, draft_id) -> WorkflowDraft:
    draft = db.session.get(WorkflowDraft, row_id(draft_id)) if row_id(draft_id) else None
    if draft is None or draft.process_key != key:
        raise NotFound()
    return draft


def _base_version(key: str, base_version, latest: WorkflowVersion | None) -> int | None:
    """The published version an edit started from; the latest one when the caller does not say."""
    if base_version in (None, ''):
        return latest.version if latest else None
    number = row_id(base_version) if not isinstance(base_version, bool) else None
    exists = number and db.session.scalar(select(func.count()).select_from(WorkflowVersion).where(
        WorkflowVersion.process_key == key, WorkflowVersion.version == number))
    if not exists:
        raise ValidationFailed({'base_version': [
            _l('基础版本 %(v)s 不存在，请填写该流程已发布的版本号', v=str(base_version)[:20])]})
    return number


def _own_open_draft(user, key: str, draft_id) -> WorkflowDraft | None:
    """The caller's own unpublished draft `draft_id` of `key` (locked), which a new save replaces; else None."""
    number = row_id(draft_id) if draft_id not in (None, '') and not isinstance(draft_id, bool) else None
    if number is None:
        return None
    draft = db.session.scalar(select(WorkflowDraft).where(WorkflowDraft.id == number).with_for_update()
                              .execution_options(populate_existing=True))
    if draft is None or draft.process_key != key or draft.created_by_id != user.id or draft.published_version_id:
        return None
    return draft


def save_draft(user, key: str, xml: bytes, base_version=None, replace=None) -> tuple[WorkflowDraft, list[dict]]:
    """Store a draft with its problems (unreadable XML is refused and nothing is stored).

    `base_version`: the published version the edit started from (the latest when not given); publishing is refused
    once a newer version exists. `replace`: the id of the caller's own unpublished draft this save supersedes (the
    editor page saves over its draft, so checking and publishing do not pile up drafts); otherwise a new draft."""
    require_admin(user)
    _known_key(key)
    problems, _root = validate(key, xml)
    latest = _version(key)
    base = _base_version(key, base_version, latest)
    with transaction():
        draft = _own_open_draft(user, key, replace)
        if draft is None:
            draft = WorkflowDraft(process_key=key, created_by_id=user.id)
            db.session.add(draft)
        draft.xml, draft.base_version, draft.created_at = xml, base, utcnow()
        draft.problems_json = json.dumps(problems, ensure_ascii=False)
        db.session.flush()
        _audit(user, 'process.draft', f'{key} draft {draft.id}', {
            'draft_id': draft.id, 'base_version': base, 'problems': len(problems),
            'diff': diff_xml(latest.bpmn_xml if latest else None, xml)})
    return draft, problems


def _refuse_stale(key: str, draft: WorkflowDraft) -> None:
    """A draft edited from an older version would silently undo what was published since: refuse it (409)."""
    latest = _version(key)
    if draft.base_version is None or latest is None or latest.version <= draft.base_version:
        return
    raise Conflict(_l('%(user)s 已于 %(at)s 发布了版本 v%(v)d，而本草稿是在 v%(base)d 上修改的，发布会覆盖 v%(v)d 的修改，'
                      '因此未发布。请打开最新版本重新修改后再发布。',
                      user=latest.published_by.display_name if latest.published_by else _l('系统'),
                      at=format_datetime(latest.published_at, 'yyyy-MM-dd HH:mm') if latest.published_at else '-',
                      v=latest.version, base=draft.base_version), code='stale_draft')


def _same_as(latest: WorkflowVersion | None, xml: bytes) -> str | None:
    """Why publishing `xml` would add nothing (the version diff finds no element added, removed or changed against the
    latest version: only the layout or the formatting may differ), or None when it changes the process."""
    if latest is None:
        return None
    if latest.bpmn_xml == xml:
        return str(_l('与当前版本 v%(v)d 相同，无需发布', v=latest.version))
    if not any(diff_xml(latest.bpmn_xml, xml).values()):
        return str(_l('与当前版本 v%(v)d 相同（图形布局和格式不算修改），无需发布', v=latest.version))
    return None


def unchanged_from(key: str, xml: bytes) -> dict | None:
    """For a saved draft: the latest version it is the same as, and what publishing it would be told; else None."""
    latest = _version(key)
    message = _same_as(latest, xml)
    return {'version': latest.version, 'message': message} if message else None


def _refuse_unchanged(key: str, draft: WorkflowDraft) -> None:
    """A draft that changes nothing would only add a version identical to the current one: refuse it (409)."""
    message = _same_as(_version(key), draft.xml)
    if message:
        raise Conflict(message, code='unchanged')


def publish(user, key: str, draft_id) -> WorkflowVersion:
    """Turn a valid draft into the next version; new instances use it, running ones stay put."""
    require_admin(user)
    draft = _draft(key, draft_id)
    if draft.published_version_id:
        raise Conflict(_l('该草稿已发布为版本 %(v)d', v=draft.published_version.version), code='already_published')
    _refuse_stale(key, draft)
    _refuse_unchanged(key, draft)
    problems, _root = validate(key, draft.xml)
    if problems:
        raise ProblemsFound(problems)
    with transaction():
        # the draft row is locked: of two admins publishing it at once, the second sees it published
        draft = db.session.scalar(select(WorkflowDraft).where(WorkflowDraft.id == draft.id).with_for_update()
                                  .execution_options(populate_existing=True))
        if draft.published_version_id:
            raise Conflict(_l('该草稿已发布为版本 %(v)d', v=draft.published_version.version), code='already_published')
        _refuse_stale(key, draft)
        _refuse_unchanged(key, draft)
        latest = _version(key)
        try:
            version = deploy(key, draft.xml, user)
        except ValidationFailed as exc:
            raise ProblemsFound([{'element_id': None, 'line': None, 'message': m, 'detail': m}
                                 for m in exc.errors.get('bpmn', [])]) from exc
        except IntegrityError as exc:  # another draft of this process took the version number a moment ago
            raise Conflict(_l('另一位管理员刚刚发布了该流程的新版本，请刷新后重试'), code='version_taken') from exc
        draft.published_version_id = version.id
        _audit(user, 'process.publish', f'{key} v{version.version}', {
            'draft_id': draft.id, 'version': version.version, 'previous_version': latest.version if latest else None,
            'diff': diff_xml(latest.bpmn_xml if latest else None, draft.xml)})
    return version


def discard_draft(user, key: str, draft_id, confirmed) -> int:
    """放弃草稿: delete an unpublished draft of `key` (any admin's), with an audit row of what it changed (who saved
    it when is in the draft's own 'process.draft' rows); the draft a version was published from stays, and so does
    every version. Returns the draft's id."""
    require_admin(user)
    _known_key(key)
    number = row_id(draft_id) if draft_id not in (None, '') and not isinstance(draft_id, bool) else None
    if number is None:
        raise NotFound()
    if not confirmed:
        raise ValidationFailed({'confirm': [_l('请确认放弃草稿 #%(id)d：草稿中的修改将丢失，无法恢复', id=number)]})
    with transaction():
        draft = db.session.scalar(select(WorkflowDraft).where(WorkflowDraft.id == number).with_for_update()
                                  .execution_options(populate_existing=True))
        if draft is None or draft.process_key != key:
            raise NotFound()
        if draft.published_version_id:
            raise Conflict(_l('草稿 #%(id)d 已发布为版本 v%(v)d，已发布的版本不能放弃或删除', id=draft.id,
                              v=draft.published_version.version), code='already_published')
        latest = _version(key)
        _audit(user, 'process.draft_discard', f'{key} draft {draft.id}', {
            'draft_id': draft.id, 'base_version': draft.base_version,
            'problems': len(json.loads(draft.problems_json or '[]')),
            'diff': diff_xml(latest.bpmn_xml if latest else None, draft.xml)})
        db.session.delete(draft)
    return number


def discard_current_draft(user, key: str, draft_id=None) -> int:
    """放弃草稿 without naming a draft (the JSON API's DELETE of a process's draft): the one the editor and the process
    list show, the latest unpublished draft that changes something and can still be published; `draft_id` names
    another unpublished draft of `key`. NotFound when there is none. Returns the discarded draft's id."""
    require_admin(user)
    _known_key(key)
    if draft_id in (None, ''):
        draft = _latest_draft(key, _version(key))
        if draft is None:
            raise NotFound(_l('流程 %(key)s 没有可放弃的草稿', key=key))
        draft_id = draft.id
    return discard_draft(user, key, draft_id, True)


# ---------------------------------------------------------------- operator recovery

MAX_RESET_REASON = 500


def reset_steps(user, instance_id) -> list[dict]:
    """The completed user-task steps a process admin may send a case back to, latest first (steps the process
    refuses, e.g. a V-order's acceptance once points were paid, are left out: see refused_reset_steps)."""
    return [s for s in _reset_candidates(user, instance_id) if not s['refusal']]


def refused_reset_steps(user, instance_id) -> list[dict]:
    """The completed steps a case may not be sent back to, each with why, so the page does not hide them."""
    return [s for s in _reset_candidates(user, instance_id) if s['refusal']]


def _reset_candidates(user, instance_id) -> list[dict]:
    """Every completed user-task step of the case, latest first, with why it may not be reset to (or None)."""
    require_admin(user)
    instance = db.session.get(WorkflowInstance, row_id(instance_id)) if row_id(instance_id) else None
    if instance is None:
        raise NotFound()
    if instance.status == 'cancelled':
        return []
    titles = dict(db.session.execute(select(HumanTask.bpmn_id, HumanTask.title).where(
        HumanTask.instance_id == instance.id, HumanTask.status == 'completed')).all())
    done = [b for b in reversed(load_run(instance).completed_bpmn_ids()) if b in titles]
    hooks = hooks_for(instance.process_key)
    return [{'bpmn_id': b, 'title': titles[b], 'refusal': hooks.reset_refusal(instance, b)} for b in dict.fromkeys(done)]


def reset_case(user, instance_id, bpmn_id, reason, confirmed) -> tuple[WorkflowInstance, str]:
    """Send a case back to one of its completed steps (reason and confirmation required); the step's title."""
    candidates = {s['bpmn_id']: s for s in _reset_candidates(user, instance_id)}
    reason = reason.strip() if isinstance(reason, str) else ''
    errors = {}
    if bpmn_id not in candidates:
        errors['bpmn_id'] = [_l('请选择要回退到的步骤（只能选择该案件已完成的审核/填写步骤）')]
    elif candidates[bpmn_id]['refusal']:
        errors['bpmn_id'] = [candidates[bpmn_id]['refusal']]
    if not reason:
        errors['reason'] = [_l('请填写回退原因')]
    elif len(reason) > MAX_RESET_REASON:
        errors['reason'] = [_l('回退原因不能超过 %(n)d 个字', n=MAX_RESET_REASON)]
    if not confirmed:
        errors['confirm'] = [_l('请勾选确认：回退后，该步骤之后的处理将作废，需要重新办理')]
    if errors:
        raise ValidationFailed(errors)
    return reset_instance(user, row_id(instance_id), bpmn_id, reason), candidates[bpmn_id]['title']


def version_diff(user, key: str, a, b) -> dict:
    """Elements added, removed and changed between two published versions."""
    require_admin(user)
    old, new = _version(key, a), _version(key, b)
    if old is None or new is None:
        raise NotFound()
    old_json, new_json = _spec_json(old), _spec_json(new)
    diff = diff_versions(old_json, new_json)
    before, after = _diff_specs(old_json), _diff_specs(new_json)
    for item in diff['changed']:
        item['field_labels'] = [str(FIELD_LABELS.get(f, f)) for f in item['fields']]
        # each changed field's value in both versions (名称：社工站初审 → 社工站初审（含入户核查）)
        a, b = before.get(item['id'], {}), after.get(item['id'], {})
        item['changes'] = [{'field': f, 'label': str(FIELD_LABELS.get(f, f)), 'old': _diff_value(f, a.get(f), before),
                            'new': _diff_value(f, b.get(f), after)} for f in item['fields']]
    return {'from_version': old.version, 'to_version': new.version, **diff}


def _diff_specs(spec_json: str) -> dict:
    """{bpmn id or spec name: serialized task spec} of a frozen version, its subprocesses' too."""
    dct = json.loads(spec_json)
    found = {}
    for spec in [dct['spec'], *dct.get('subprocess_specs', {}).values()]:
        for name, ts in spec.get('task_specs', {}).items():
            found.setdefault(name, ts)
            if ts.get('bpmn_id'):
                found.setdefault(ts['bpmn_id'], ts)
    return found


def _diff_value(field: str, value, specs: dict) -> str:
    """A changed field's value as an administrator reads it: a lane by its role, steps by their names, a condition
    with where it leads; （空） for none."""
    def step(name):  # an internal spec (provider_dispatch.BoundaryEventSplit) by the step it belongs to
        ts = specs.get(name) or specs.get(str(name).split('.')[0]) or {}
        return ts.get('bpmn_name') or ts.get('bpmn_id') or str(name)

    if field == 'lane':
        text = f'{role_label(value)}（{value}）' if value else ''
    elif field in ('outputs', 'inputs'):
        text = str(_l('、')).join(dict.fromkeys(step(n) for n in value or []))
    elif field == 'default_task_spec':
        text = step(value) if value else ''
    elif field == 'cond_task_specs':
        text = str(_l('；')).join(str(_l('%(condition)s 时：%(step)s', condition=c['condition'], step=step(c.get('task_spec')))
                                      if c.get('condition') else _l('其他情况：%(step)s', step=step(c.get('task_spec'))))
                                  for c in value or [])
    elif field == 'extensions':
        props = (value or {}).get('properties') or {}
        rest = {k: v for k, v in (value or {}).items() if k != 'properties' and v}
        text = str(_l('；')).join([f'{k}: {v}' for k, v in props.items()]
                                 + ([json.dumps(rest, ensure_ascii=False, sort_keys=True)] if rest else []))
    elif field == 'event_definition' and isinstance(value, dict):
        text = value.get('expression') or value.get('name') or value.get('typename') or ''
    elif isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ''
    else:
        text = '' if value is None else str(value)
    return text or str(_l('（空）'))


def _open_draft(key: str, draft_id) -> WorkflowDraft | None:
    """The unpublished draft `draft_id` of `key`, or None (published meanwhile, unknown, another process's)."""
    number = row_id(draft_id) if not isinstance(draft_id, bool) else None
    draft = db.session.get(WorkflowDraft, number) if number else None
    if draft is None or draft.process_key != key or draft.published_version_id:
        return None
    return draft


# how many of a stale draft's changes the editor lists
STALE_CHANGES_SHOWN = 30
_CHANGE_KINDS = {'added': _l('新增'), 'removed': _l('删除'), 'changed': _l('修改')}


def _stale_info(key: str, draft: WorkflowDraft, latest: WorkflowVersion | None) -> dict | None:
    """For a draft made from an older version than the latest (it cannot be published): who published which version
    since, and what the draft changed against the version it was made from ('修改 社工站初审（station_review）'),
    so that the admin can redo it on the latest version. None for a draft that can still be published."""
    if draft.base_version is None or latest is None or latest.version <= draft.base_version:
        return None
    base = _version(key, draft.base_version)
    diff = diff_xml(base.bpmn_xml, draft.xml)
    changes = [{'kind': str(_CHANGE_KINDS[kind]), 'id': item['id'],
                'name': item['name'] if item['name'] == item['id'] else
                str(_l('%(text)s（%(note)s）', text=item['name'], note=item['id']))}
               for kind in ('changed', 'added', 'removed') for item in diff[kind]]
    return {'latest': latest.version, 'base': draft.base_version,
            'by': latest.published_by.display_name if latest.published_by else str(_l('系统')),
            'at': format_datetime(latest.published_at, 'yyyy-MM-dd HH:mm') if latest.published_at else '-',
            'changes': changes[:STALE_CHANGES_SHOWN], 'more': max(0, len(changes) - STALE_CHANGES_SHOWN)}


def editor_context(user, key: str, draft_id=None, published=False) -> dict:
    """What the editor page needs on first paint. The editor opens the draft `draft_id` when given (and still
    unpublished), else the draft saved last that can still be published, so that 保存草稿 can be picked up later;
    `published`: the latest published version instead. The draft comes with who saved it when, the version it
    was edited from and its problems as they stand now."""
    require_admin(user)
    _known_key(key)
    latest = _version(key)
    draft = None if published else (
        (_open_draft(key, draft_id) if draft_id not in (None, '') else None) or _latest_draft(key, latest))
    # opened on the published version while a draft waits: the page offers it
    other = _latest_draft(key, latest) if published else None
    info = None
    if draft is not None:
        problems, _root = validate(key, draft.xml)
        info = {'id': draft.id, 'base_version': draft.base_version, 'mine': draft.created_by_id == user.id,
                'by': draft.created_by.display_name if draft.created_by else None,
                'saved_at': format_datetime(draft.created_at, 'yyyy-MM-dd HH:mm') if draft.created_at else '-',
                'problems': problems, 'same_as': unchanged_from(key, draft.xml), 'stale': _stale_info(key, draft, latest)}
    return {'key': key, 'name': latest.name if latest else file_process_name(key), 'version': latest.version if latest else None,
            'options': editor_options(key), 'draft': info, 'other_draft': other.id if other else None}

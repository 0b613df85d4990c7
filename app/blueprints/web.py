"""Helpers shared by the page blueprints."""
from flask import request

from app.services.errors import ValidationFailed

MAX_PAGE = 100_000  # 2,000,000 rows at 20 a page; beyond it an offset only costs the database time


def page_arg() -> int:
    """?page=N for lists (pages and API): 1 when missing or not a number, never beyond MAX_PAGE."""
    return min(max(request.args.get('page', 1, type=int) or 1, 1), MAX_PAGE)


def form_values(form_def: dict) -> dict:
    """Raw submitted values by field name (lists for array fields)."""
    values = {}
    for name, prop in form_def['properties'].items():
        if prop.get('type') == 'array':
            values[name] = [v for v in request.form.getlist(name) if v]
        elif prop.get('type') == 'object':
            values[name] = {sub: request.form.get(f'{name}.{sub}', '') for sub in prop.get('properties', {})}
        elif name in request.form:
            values[name] = request.form.get(name, '')
    return values


def uploads(field: str) -> list[tuple[str, bytes]]:
    return [(f.filename, f.read()) for f in request.files.getlist(field) if f and f.filename]


def errors_of(exc: ValidationFailed) -> dict:
    return exc.errors


def file_uploads(form_def: dict) -> list[tuple[str, bytes]]:
    """New uploads of the form's file field (inputs are named <field>_new)."""
    field = next((n for n, p in form_def['properties'].items() if 'x-file' in p), None)
    return uploads(field + '_new') if field else []

"""Imports go one way only: blueprints -> services -> workflows -> models; workflows is pure engine."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

RULES = {
    'workflows': ('flask', 'flask_login', 'sqlalchemy', 'flask_sqlalchemy', 'app'),
    'app/models': ('app.services', 'app.blueprints', 'app.jobs', 'workflows', 'flask_login'),
    'app/services': ('app.blueprints', 'flask_login', 'app.jobs'),
    'app/jobs': ('app.blueprints', 'flask_login'),
}
FORBIDDEN_NAMES = {'app/services': {('flask', 'request'), ('flask', 'render_template'), ('flask', 'session')}}


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding='utf-8'))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                yield node.module, alias.name


def _files(layer):
    return sorted((ROOT / layer).rglob('*.py'))


@pytest.mark.parametrize('layer', sorted(RULES))
def test_lower_layers_do_not_import_higher_ones(layer):
    bad = []
    for path in _files(layer):
        for module, name in _imports(path):
            if any(module == f or module.startswith(f + '.') for f in RULES[layer]):
                bad.append(f'{path.relative_to(ROOT)} imports {module}')
            if (module, name) in FORBIDDEN_NAMES.get(layer, set()):
                bad.append(f'{path.relative_to(ROOT)} imports {module}.{name}')
    assert not bad, '\n'.join(bad)


def test_only_workflows_imports_spiffworkflow():
    bad = [str(p.relative_to(ROOT)) for layer in ('app', 'tests/web', 'tests/unit') for p in _files(layer)
           if any(m.split('.')[0] == 'SpiffWorkflow' for m, _ in _imports(p))]
    assert not bad

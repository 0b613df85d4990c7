"""Browser-test fixtures: the app served by a real HTTP server in a background thread, and headless
Debian Chromium driven by Playwright's sync API (no `playwright install`, no pytest-playwright).

SQLite in memory (`sqlite://`, the default test database) is one connection shared by every thread
(Flask-SQLAlchemy uses a StaticPool for it), so the server handles one request at a time there
(threaded=False). On PostgreSQL and file databases the server is threaded."""
import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app.extensions import db

CHROMIUM = os.environ.get('CHROMIUM_PATH', '/usr/bin/chromium')
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / 'test-artifacts'

PHONE = {'viewport': {'width': 375, 'height': 812}, 'device_scale_factor': 2, 'is_mobile': True,
         'has_touch': True, 'locale': 'zh-CN', 'timezone_id': 'Asia/Shanghai'}
DESKTOP = {'viewport': {'width': 1280, 'height': 800}, 'locale': 'zh-CN', 'timezone_id': 'Asia/Shanghai'}


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    skip = pytest.mark.skip(reason=f'{CHROMIUM} not found (apt-get install chromium fonts-noto-cjk)')
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)
            if not os.path.exists(CHROMIUM):
                item.add_marker(skip)


def _in_memory_sqlite(app) -> bool:
    with app.app_context():
        url = db.engine.url
    return url.get_backend_name() == 'sqlite' and url.database in (None, '', ':memory:')


@pytest.fixture(scope='session')
def live_server(app):
    """Base URL of the app served on 127.0.0.1:<free port> for the whole session."""
    server = make_server('127.0.0.1', 0, app, threaded=not _in_memory_sqlite(app))
    thread = threading.Thread(target=server.serve_forever, name='live-server', daemon=True)
    thread.start()
    yield f'http://127.0.0.1:{server.server_port}'
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope='session')
def playwright_instance():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f'{CHROMIUM} not found')
    sync_api = pytest.importorskip('playwright.sync_api')
    with sync_api.sync_playwright() as p:
        yield p


@pytest.fixture(scope='session')
def browser(playwright_instance):
    b = playwright_instance.chromium.launch(executable_path=CHROMIUM, headless=True)
    yield b
    b.close()


@pytest.fixture
def new_page(browser, live_server):
    """new_page('phone'|'desktop') -> a Page in a fresh context (own cookies) with base_url set."""
    contexts, refused = [], []

    def _console(msg):
        if 'Content Security Policy' in msg.text:
            refused.append(msg.text)

    def _new(kind='phone'):
        ctx = browser.new_context(base_url=live_server, **(PHONE if kind == 'phone' else DESKTOP))
        ctx.set_default_timeout(10_000)
        contexts.append(ctx)
        page = ctx.new_page()
        page.on('console', _console)
        return page

    yield _new
    for ctx in contexts:
        ctx.close()
    # every page of every browser test runs under the site's Content-Security-Policy: nothing the pages need
    # (their scripts, the diagram editor, photos, the map) may be refused by it
    assert not refused, refused


@pytest.fixture
def shot(request):
    """shot(page, 'name') saves a full-page PNG to test-artifacts/<test name>/NN-name.png."""
    folder = ARTIFACTS / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob('*.png'):
        old.unlink()
    counter = iter(range(1, 1000))

    def _shot(page, name):
        path = folder / f'{next(counter):02d}-{name}.png'
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shot


def login_as(page, username, password='demo1234'):
    page.goto('/login')
    page.get_by_label('用户名').fill(username)
    page.get_by_label('密码', exact=True).fill(password)
    page.get_by_role('button', name='登录').click()
    page.wait_for_load_state()
    assert '/login' not in page.url, page.locator('.flash').all_inner_texts()

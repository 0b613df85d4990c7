"""walk17 #15: the instance viewer opened a large diagram (the V-order) shrunk to fit its box, too small to read, with
no way to zoom. It now opens at a readable size around the current step (the rest a drag away) and has 放大 / 缩小 /
适合窗口 like the editor."""
import re

from tests.browser.conftest import login_as
from tests.web.test_v_order_lifecycle import approved_object, order_data


def _scale_and_shift(page) -> tuple[float, float, float]:
    """The diagram's zoom and its offset in the canvas (the viewport layer's transform)."""
    transform = page.locator('#iv-canvas .viewport').get_attribute('transform')
    a, _b, _c, _d, e, f = (float(n) for n in re.findall(r'-?[0-9.]+(?:e-?[0-9]+)?', transform))
    return a, e, f


def _inside(inner, outer) -> bool:
    return (inner['x'] >= outer['x'] - 1 and inner['y'] >= outer['y'] - 1
            and inner['x'] + inner['width'] <= outer['x'] + outer['width'] + 1
            and inner['y'] + inner['height'] <= outer['y'] + outer['height'] + 1)


def test_the_instance_viewer_opens_readable_and_zooms(api, new_page, shot):
    so = approved_object(api)
    resp = api('vol_zhang').post('/processes/v_order/instances', json={'data': order_data([so])})
    assert resp.status_code == 201, resp.get_json()
    instance_id = resp.get_json()['instance']['id']

    page = new_page('desktop')
    login_as(page, 'admin')
    page.goto(f'/admin/instances/{instance_id}')
    page.wait_for_selector('body[data-viewer-ready="1"]')
    canvas = page.locator('#iv-canvas').bounding_box()

    # readable at first: not shrunk below 100 %, with the current step (社工站发布审核) in view and marked
    scale, *_ = _scale_and_shift(page)
    assert scale >= 1
    current = page.locator('g.djs-element.current')
    assert current.count() == 1
    assert _inside(current.bounding_box(), canvas)
    assert '社工站发布审核' in current.text_content()
    label_height = page.locator('g.djs-element.current text').first.bounding_box()['height']
    assert label_height >= 11
    shot(page, 'readable')

    tools = page.get_by_role('group', name='画布工具')
    # 适合窗口: the whole diagram in the box (this one is wide: far below 100 %)
    tools.get_by_role('button', name='缩放流程图以适合窗口').click()
    fit, *_ = _scale_and_shift(page)
    assert fit < 0.5
    assert _inside(page.locator('#iv-canvas .viewport').bounding_box(), canvas)
    shot(page, 'fit')

    # 放大 and 缩小 step the zoom like the editor's buttons
    tools.get_by_role('button', name='放大流程图').click()
    bigger, *_ = _scale_and_shift(page)
    assert bigger > fit
    tools.get_by_role('button', name='缩小流程图').click()
    tools.get_by_role('button', name='缩小流程图').click()
    smaller, *_ = _scale_and_shift(page)
    assert smaller < bigger

    # at a readable zoom the rest of the diagram is a drag away
    for _ in range(6):
        tools.get_by_role('button', name='放大流程图').click()
    _s, x0, y0 = _scale_and_shift(page)
    middle = (canvas['x'] + canvas['width'] / 2, canvas['y'] + canvas['height'] / 2)
    page.mouse.move(*middle)
    page.mouse.down()
    page.mouse.move(middle[0] - 200, middle[1] - 80, steps=8)
    page.mouse.up()
    _s, x1, y1 = _scale_and_shift(page)
    assert x1 < x0 - 100 and y1 < y0 - 40
    shot(page, 'zoomed-and-dragged')

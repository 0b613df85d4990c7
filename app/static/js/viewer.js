// Instance viewer: the diagram of the instance's version, completed steps green, current step orange.
// 放大 / 缩小 / 适合窗口 like the editor. The first view fits the whole diagram into the box, from its start to its
// ends, unless that makes the labels too small to make out (the V-order, four times wider than the box): then it
// opens at a readable size around the current step (a finished case: at the start), and the rest is a drag (or the
// mouse wheel, Ctrl + wheel to zoom) away.
(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('viewer-config').textContent);
  var viewer = new window.BpmnJS({ container: '#iv-canvas' });
  // the zoom range of diagram-js's zoomScroll (stepZoom caps to it); below READABLE the diagram's 11–12 px labels
  // (Chinese ones above all) get small, below LEGIBLE too small to make out: a diagram that fits only below
  // LEGIBLE opens at READABLE instead
  var MIN_ZOOM = 0.2, MAX_ZOOM = 4, READABLE = 1, LEGIBLE = 0.5;
  function $(id) { return document.getElementById(id); }

  viewer.importXML(cfg.xml).then(function () {
    var canvas = viewer.get('canvas'), overlays = viewer.get('overlays'), registry = viewer.get('elementRegistry');
    var zoomScroll = viewer.get('zoomScroll');
    cfg.completed.forEach(function (id) { if (registry.get(id)) canvas.addMarker(id, 'done'); });
    cfg.current.forEach(function (id) {
      if (!registry.get(id)) return;
      canvas.addMarker(id, 'current');
      overlays.add(id, { position: { top: -14, right: 10 }, html: '<div class="iv-badge">' + cfg.badge + '</div>' });
    });

    function sync() {
      var zoom = canvas.zoom();
      $('iv-zoom-in').disabled = zoom >= MAX_ZOOM - 0.001;
      $('iv-zoom-out').disabled = zoom <= MIN_ZOOM + 0.001;
    }
    // the step to show first when the whole diagram cannot be made out at once: the current one; none (a finished
    // case) leaves the view at the diagram's start
    function focusElement() {
      var ids = cfg.current;
      for (var i = 0; i < ids.length; i++) {
        var found = registry.get(ids[i]);
        if (found && found.width !== undefined) return found;
      }
      return null;
    }
    function initial() {
      canvas.zoom('fit-viewport', 'auto');
      if (canvas.zoom() >= LEGIBLE) return;
      var inner = canvas.viewbox().inner, box = canvas.getContainer();
      var w = box.clientWidth / READABLE, h = box.clientHeight / READABLE, el = focusElement(), margin = 20;
      // from the top left corner (the lanes' names, where the process starts) when the step is in view from
      // there, else with the step in the middle
      var x = inner.x - margin, y = inner.y - margin;
      if (el && el.x + el.width + margin > x + w) x = el.x + el.width / 2 - w / 2;
      if (el && el.y + el.height + margin > y + h) y = el.y + el.height / 2 - h / 2;
      canvas.viewbox({ x: x, y: y, width: w, height: h });
    }

    initial();
    sync();
    $('iv-zoom-in').addEventListener('click', function () { zoomScroll.stepZoom(1); sync(); });
    $('iv-zoom-out').addEventListener('click', function () { zoomScroll.stepZoom(-1); sync(); });
    $('iv-zoom-fit').addEventListener('click', function () { canvas.zoom('fit-viewport', 'auto'); sync(); });
    viewer.on('canvas.viewbox.changed', sync);  // Ctrl + wheel zooms too
    document.body.dataset.viewerReady = '1';
  });
})();

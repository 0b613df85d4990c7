// Instance viewer: the diagram of the instance's version, completed steps green, current step orange.
(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('viewer-config').textContent);
  var viewer = new window.BpmnJS({ container: '#iv-canvas' });
  viewer.importXML(cfg.xml).then(function () {
    var canvas = viewer.get('canvas'), overlays = viewer.get('overlays'), registry = viewer.get('elementRegistry');
    canvas.zoom('fit-viewport', 'auto');
    cfg.completed.forEach(function (id) { if (registry.get(id)) canvas.addMarker(id, 'done'); });
    cfg.current.forEach(function (id) {
      if (!registry.get(id)) return;
      canvas.addMarker(id, 'current');
      overlays.add(id, { position: { top: -14, right: 10 }, html: '<div class="iv-badge">' + cfg.badge + '</div>' });
    });
    document.body.dataset.viewerReady = '1';
  });
})();

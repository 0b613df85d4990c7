// BPMN editor page: bpmn-js Modeler + a plain side panel (role picker, form picker, conditions with
// live check), draft/validate/publish, versions + diff + running counts, migration dry run/apply.
(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('editor-config').textContent);
  var T = cfg.T;
  // the page's list separator (、 / ", "), from the texts the server renders for app.js (#js-strings)
  var LIST_SEP = (function () {
    try { return JSON.parse(document.getElementById('js-strings').textContent).list_sep || '、'; } catch (err) { return '、'; }
  })();
  var csrf = (document.querySelector('meta[name=csrf-token]') || {}).content || '';
  var ROLE_LABEL = {}; cfg.options.roles.forEach(function (r) { ROLE_LABEL[r.key] = r.label; });
  var FORMS = {}; cfg.options.forms.forEach(function (f) { FORMS[f.name] = f; });
  var modeler, canvas, modeling, moddle, overlays, elementRegistry, selection;
  var problemIds = [], versionList = [], dirty = false, laneOverlays = [];
  // changed: the canvas differs from what was opened, saved or published;
  // baseVersion: the latest published version the admin knew of when the canvas was loaded (publishing is refused
  // once a newer one exists); draftId: this page's own draft, which every save replaces instead of adding one (a
  // reopened draft of the admin's own is that draft; another admin's draft is saved as a new one)
  var changed = false, baseVersion = cfg.draft ? cfg.draft.base_version : cfg.version;
  var draftId = cfg.draft && cfg.draft.mine ? cfg.draft.id : null;
  // the saved draft 放弃草稿 deletes: this page's own, else the one it opened (another admin's, who saved it)
  var shownDraft = cfg.draft ? { id: cfg.draft.id, mine: cfg.draft.mine, by: cfg.draft.by } : null;
  // the zoom range of diagram-js's zoomScroll (stepZoom caps to it)
  var MIN_ZOOM = 0.2, MAX_ZOOM = 4;
  // what the 元素属性 tab says while nothing is selected: the template's own hint ("点击图中的泳道、步骤或连线…")
  var propsHint = document.getElementById('props').cloneNode(true).childNodes;
  propsHint = Array.prototype.map.call(propsHint, function (n) { return n.cloneNode(true); });

  function fmt(s, vals) { return s.replace(/{(\w+)}/g, function (_, k) { return vals[k] !== undefined ? vals[k] : ''; }); }
  function $(id) { return document.getElementById(id); }
  // '2026-11-30 22:35': an ISO time from the API as users read times everywhere else (Beijing time)
  function beijingTime(iso) {
    if (!iso) { return ''; }
    var d = new Date(iso);
    if (isNaN(d.getTime())) { return String(iso).slice(0, 16).replace('T', ' '); }
    return new Intl.DateTimeFormat('sv-SE', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit',
      day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false }).format(d);
  }

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), attrs[k]);
      else if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) e.setAttribute(k, attrs[k] === true ? '' : attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }
  function status(msg, kind) {
    var box = $('ed-status');
    box.textContent = msg || '';
    box.className = 'ed-status' + (kind ? ' ' + kind : '');
  }
  function api(path, opts) {
    opts = opts || {};
    var headers = Object.assign({ 'X-CSRFToken': csrf, 'Accept': 'application/json' }, opts.headers || {});
    return fetch(cfg.api + path, Object.assign({ credentials: 'same-origin' }, opts, { headers: headers }))
      .then(function (resp) {
        var ct = resp.headers.get('Content-Type') || '';
        var body = ct.indexOf('json') >= 0 ? resp.json() : resp.text();
        return body.then(function (b) { return { status: resp.status, ok: resp.ok, body: b }; });
      });
  }
  function postJson(path, data) {
    return api(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(data) });
  }
  function showTab(name) {
    document.querySelectorAll('.ed-tabs [role=tab]').forEach(function (b) {
      b.setAttribute('aria-selected', b.dataset.tab === name ? 'true' : 'false');
    });
    document.querySelectorAll('.ed-pane').forEach(function (p) { p.hidden = p.id !== 'pane-' + name; });
  }

  // ------------------------------------------------------------------ diagram helpers
  function bo(element) { return element.businessObject; }
  function is(element, type) { return bo(element) && bo(element).$instanceOf && bo(element).$instanceOf(type); }
  function spiffProps(b) {
    var ext = b.extensionElements;
    return ext && (ext.values || []).filter(function (v) { return v.$type === 'spiffworkflow:Properties'; })[0];
  }
  function getProp(b, name) {
    var props = spiffProps(b);
    var p = props && (props.values || []).filter(function (v) { return v.name === name; })[0];
    return p ? p.value : '';
  }
  function setProp(element, name, value) {
    var b = bo(element), ext = b.extensionElements;
    if (!ext) {
      ext = moddle.create('bpmn:ExtensionElements', { values: [] });
      modeling.updateProperties(element, { extensionElements: ext });
    }
    var props = spiffProps(b);
    if (!props) {
      props = moddle.create('spiffworkflow:Properties', { values: [] });
      modeling.updateModdleProperties(element, ext, { values: (ext.values || []).concat([props]) });
    }
    var existing = (props.values || []).filter(function (v) { return v.name === name; })[0];
    if (existing && value) modeling.updateModdleProperties(element, existing, { value: value });
    else if (existing) modeling.updateModdleProperties(element, props, { values: props.values.filter(function (v) { return v !== existing; }) });
    else if (value) {
      var p = moddle.create('spiffworkflow:Property', { name: name, value: value });
      modeling.updateModdleProperties(element, props, { values: (props.values || []).concat([p]) });
    }
  }
  function operatorOf(b) {
    var ext = b.extensionElements;
    return ext && (ext.values || []).filter(function (v) { return v.$type === 'spiffworkflow:ServiceTaskOperator'; })[0];
  }
  function laneOf(element) {
    var lanes = elementRegistry.filter(function (e) { return e.type === 'bpmn:Lane'; });
    var id = bo(element).id;
    for (var i = 0; i < lanes.length; i++) {
      if ((bo(lanes[i]).flowNodeRef || []).some(function (n) { return n.id === id; })) return lanes[i];
    }
    return null;
  }
  function roleText(key) { return key ? (ROLE_LABEL[key] ? ROLE_LABEL[key] + ' (' + key + ')' : key + ' ' + T.notRole) : T.noLane; }

  // lanes show their role key in the diagram; a badge adds the role's name in the admin's language
  function refreshLaneBadges() {
    laneOverlays.forEach(function (id) { overlays.remove(id); });
    laneOverlays = [];
    elementRegistry.filter(function (e) { return e.type === 'bpmn:Lane'; }).forEach(function (lane) {
      var key = bo(lane).name;
      var ok = !!ROLE_LABEL[key];
      // the badge names a known role: the lane's own label (the raw key) is hidden behind it
      var text = elementRegistry.getGraphics(lane);
      text = text && text.querySelector('.djs-visual text');
      if (text) text.style.visibility = ok ? 'hidden' : '';
      laneOverlays.push(overlays.add(lane, 'lane-role', {
        position: { top: 4, left: 34 },
        html: '<div class="lane-role' + (ok ? '' : ' bad') + '" title="' + (key || '') + '">' +
          (ok ? ROLE_LABEL[key] : (key ? key + ' ' + T.notRole : T.pickRole)) + '</div>'
      }));
    });
  }

  // ------------------------------------------------------------------ side panel
  function field(label, input, hint) {
    var id = 'f-' + Math.random().toString(36).slice(2);
    input.id = id;
    return el('div', { 'class': 'field' }, [el('label', { 'for': id, text: label }), input,
      hint ? el('p', { 'class': 'hint', text: hint }) : null]);
  }
  function textInput(value, onchange) {
    return el('input', { type: 'text', value: value || '', onchange: function (e) { onchange(e.target.value.trim()); } });
  }
  function select(options, value, placeholder, onchange) {
    var s = el('select', { onchange: function (e) { onchange(e.target.value); } });
    if (placeholder) s.appendChild(el('option', { value: '', text: placeholder }));
    var found = false;
    options.forEach(function (o) {
      var opt = el('option', { value: o.value, text: o.label });
      if (o.value === value) { opt.selected = true; found = true; }
      s.appendChild(opt);
    });
    if (value && !found) s.insertBefore(el('option', { value: value, text: value + ' ' + (placeholder === T.pickForm ? T.missingForm : T.notRole), selected: true }), s.children[1] || null);
    return s;
  }
  function roleOptions() { return cfg.options.roles.map(function (r) { return { value: r.key, label: r.label + ' (' + r.key + ')' }; }); }
  function typeLabel(element) {
    var t = element.type;
    if (t === 'bpmn:Lane') return T.lane;
    if (t === 'bpmn:UserTask') return T.userTask;
    if (t === 'bpmn:ServiceTask') return T.serviceTask;
    if (t === 'bpmn:ScriptTask') return T.scriptTask;
    if (/Gateway$/.test(t)) return T.gateway;
    if (t === 'bpmn:SequenceFlow') return T.flow;
    if (t === 'bpmn:StartEvent') return T.startEvent;
    if (t === 'bpmn:EndEvent') return T.endEvent;
    if (t === 'bpmn:Participant' || t === 'bpmn:Process') return T.process;
    return T.element + ' (' + t.replace('bpmn:', '') + ')';
  }

  function renderProps(element) {
    var box = $('props');
    box.innerHTML = '';
    if (!element || element.type === 'label') {
      propsHint.forEach(function (n) { box.appendChild(n.cloneNode(true)); });
      return;
    }
    var b = bo(element);
    box.appendChild(el('h2', { text: typeLabel(element) }));
    box.appendChild(el('p', { 'class': 'muted small', text: T.id + ': ' + b.id }));
    if (element.type === 'bpmn:Lane') {
      box.appendChild(field(T.role, select(roleOptions(), b.name, T.pickRole, function (v) {
        modeling.updateProperties(element, { name: v || undefined });
      }), T.laneHint));
      return;
    }
    if (element.type !== 'bpmn:Process' && element.type !== 'bpmn:Collaboration') {
      box.appendChild(field(T.name, textInput(b.name, function (v) { modeling.updateLabel(element, v); })));
    }
    if (element.type === 'bpmn:UserTask') {
      var forms = cfg.options.forms.map(function (f) { return { value: f.name, label: f.title + ' (' + f.name + ')' }; });
      box.appendChild(field(T.form, select(forms, getProp(b, 'formJsonSchemaFilename'), T.pickForm, function (v) {
        setProp(element, 'formJsonSchemaFilename', v);
      })));
      box.appendChild(field(T.scope, scopeSelect(element, getProp(b, 'scope')), T.scopeHint));
    }
    if (/Task$/.test(element.type) || /Gateway$/.test(element.type) || /Event$/.test(element.type)) {
      var lane = laneOf(element);
      box.appendChild(el('div', { 'class': 'field' }, [el('span', { 'class': 'label', text: T.inLane }),
        el('p', {}, [lane ? el('a', { href: '#', text: roleText(bo(lane).name), onclick: function (e) {
          e.preventDefault(); selection.select(lane);
        } }) : el('span', { 'class': 'bad', text: T.noLane })])]));
    }
    if (element.type === 'bpmn:ServiceTask') {
      var op = operatorOf(b);
      var ops = cfg.options.operators.map(function (o) { return { value: o, label: o }; });
      box.appendChild(field(T.operator, select(ops, op ? op.id : '', T.pickOperator, function (v) {
        if (op) modeling.updateModdleProperties(element, op, { id: v });
        else {
          var created = moddle.create('spiffworkflow:ServiceTaskOperator', { id: v, resultVariable: v.replace(/\W/g, '_') + '_result' });
          var ext = b.extensionElements || moddle.create('bpmn:ExtensionElements', { values: [] });
          if (!b.extensionElements) modeling.updateProperties(element, { extensionElements: ext });
          modeling.updateModdleProperties(element, ext, { values: (ext.values || []).concat([created]) });
        }
      })));
    }
    if (element.type === 'bpmn:SequenceFlow') renderFlow(box, element);
    if (/Gateway$/.test(element.type)) {
      // a flow is named by where it leads ("通过 → 入库"), an unnamed one by that alone ("→ 入库")
      var outs = (b.outgoing || []).map(function (f) {
        var target = f.targetRef ? (f.targetRef.name || f.targetRef.id) : f.id;
        return { value: f.id, label: (f.name ? f.name + ' ' : '') + fmt(T.to, { name: target }) };
      });
      box.appendChild(field(T.defaultOf, select(outs, b.default ? b.default.id : '', T.none, function (v) {
        var flow = v && elementRegistry.get(v);
        modeling.updateProperties(element, { 'default': flow ? bo(flow) : undefined });
      })));
    }
  }

  // 管辖范围变量: the scope variables the process provides, with what they mean; a value the process does not
  // provide (an old or uploaded diagram) stays selected and says so, nothing is changed until the admin picks
  function scopeSelect(element, value) {
    var lane = laneOf(element), role = lane ? bo(lane).name : null;
    var empty = role === 'submitter' ? T.scopeSubmitter :
      (role && cfg.options.cityRoles.indexOf(role) >= 0 ? T.scopeCity : T.pickScope);
    var s = el('select', { onchange: function (e) { setProp(element, 'scope', e.target.value); } });
    s.appendChild(el('option', { value: '', text: empty }));
    var known = cfg.options.scopes.some(function (v) { return v.name === value; });
    if (value && !known) s.appendChild(el('option', { value: value, text: value + ' ' + T.scopeUnknown, selected: true, 'class': 'bad' }));
    cfg.options.scopes.forEach(function (v) {
      var unseen = role && ROLE_LABEL[role] && role !== 'submitter' && v.roles.indexOf(role) < 0;
      s.appendChild(el('option', { value: v.name, text: v.name + ' · ' + v.label + (unseen ? ' ' + T.scopeNotForRole : ''),
        selected: v.name === value }));
    });
    return s;
  }

  // what a condition on this flow may read: the fields of the forms of the steps before it (nearest first), the
  // results of the system steps before it, and what the process itself keeps in the case data
  function upstream(element) {
    var seen = {}, order = [], queue = element.source ? [element.source] : [];
    while (queue.length) {
      var node = queue.shift();
      if (!node || seen[node.id]) continue;
      seen[node.id] = true;
      order.push(node);
      (node.incoming || []).forEach(function (c) { if (c.source) queue.push(c.source); });
    }
    return order;
  }
  function insertName(input, name) {
    var start = typeof input.selectionStart === 'number' ? input.selectionStart : input.value.length;
    var end = typeof input.selectionEnd === 'number' ? input.selectionEnd : start;
    input.value = input.value.slice(0, start) + name + input.value.slice(end);
    input.focus();
    input.setSelectionRange(start + name.length, start + name.length);
    input.dispatchEvent(new Event('input'));
    input.dispatchEvent(new Event('change'));
  }
  function varList(input, items) {
    return el('ul', { 'class': 'vars' }, items.map(function (v) {
      var values = (v.values || []).map(function (p) { return p[0] + ' ' + p[1]; }).join(LIST_SEP);
      // mousedown keeps the focus (and the caret) in the condition box; a keyboard user tabs to the name and presses it
      return el('li', {}, [el('button', { type: 'button', 'class': 'var mono', text: v.name,
        onmousedown: function (e) { e.preventDefault(); }, onclick: function () { insertName(input, v.name); } }),
        ' ' + v.label + (values ? '：' + values : '')]);
    }));
  }
  // steps named once each: two steps of one name (two “退回修改”) are said once, with how many there are
  function stepNames(names) {
    var counts = {}, order = [];
    names.forEach(function (n) { if (!counts[n]) { counts[n] = 0; order.push(n); } counts[n] += 1; });
    return order.map(function (n) { return counts[n] > 1 ? fmt(T.stepsOfName, { name: n, n: counts[n] }) : n; }).join(LIST_SEP);
  }
  function conditionHelp(element, input) {
    var byForm = {}, forms = [], results = [];
    upstream(element).forEach(function (node) {
      var b = bo(node);
      if (node.type === 'bpmn:UserTask') {
        var form = getProp(b, 'formJsonSchemaFilename');
        if (!form || !FORMS[form] || cfg.options.unkeptForms.indexOf(form) >= 0) return;
        if (!byForm[form]) { byForm[form] = []; forms.push(form); }
        byForm[form].push(b.name || b.id);
      } else if (node.type === 'bpmn:ServiceTask') {
        var op = operatorOf(b);
        if (!op || !op.resultVariable) return;
        var same = results.filter(function (r) { return r.name === op.resultVariable; })[0];
        if (same) same.steps.push(b.name || b.id);  // two steps may keep their result in one variable
        else results.push({ name: op.resultVariable, steps: [b.name || b.id] });
      }
    });
    var box = el('details', { 'class': 'cond-help', open: true }, [el('summary', { text: T.varsTitle })]);
    forms.forEach(function (form) {
      box.appendChild(el('h3', { text: fmt(T.varsForm, { form: FORMS[form].title, steps: stepNames(byForm[form]) }) }));
      box.appendChild(varList(input, FORMS[form].fields));
    });
    results.forEach(function (r) { r.label = fmt(T.resultOf, { name: stepNames(r.steps) }); });
    if (results.length) { box.appendChild(el('h3', { text: T.varsResults })); box.appendChild(varList(input, results)); }
    var data = cfg.options.data.concat(cfg.options.scopes);
    if (data.length) { box.appendChild(el('h3', { text: T.varsProcess })); box.appendChild(varList(input, data)); }
    return box;
  }

  function renderFlow(box, element) {
    var b = bo(element), source = element.source;
    var expr = b.conditionExpression ? (b.conditionExpression.body || '') : '';
    var msg = el('p', { 'class': 'cond-msg', 'aria-live': 'polite' });
    var input = el('textarea', { rows: 2, spellcheck: 'false', 'class': 'mono' });
    input.value = expr;
    var timer = null;
    function check() {
      var text = input.value.trim();
      if (!text) { msg.textContent = ''; msg.className = 'cond-msg'; return; }
      msg.textContent = T.checking; msg.className = 'cond-msg';
      modeler.saveXML().then(function (res) {
        return postJson('/check-expression', { expression: text, xml: res.xml });
      }).then(function (r) {
        if (input.value.trim() !== text) return;
        msg.textContent = r.body.ok ? T.condOk : r.body.message;
        msg.className = 'cond-msg ' + (r.body.ok ? 'ok' : 'bad');
      });
    }
    input.addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(check, 250); });
    input.addEventListener('change', function () {
      var text = input.value.trim();
      modeling.updateProperties(element, {
        conditionExpression: text ? moddle.create('bpmn:FormalExpression', { body: text }) : undefined
      });
    });
    var f = field(T.condition, input, T.conditionHint);
    f.appendChild(msg);
    // a condition that is just True or False is a switch (the shipped V-order's 广志协终审): 开启 / 关闭 instead
    // of a Python word; it is still stored as True / False, and a written condition stays one click away
    var switchBox = /^(True|False)$/.test(expr.trim()) ? flowSwitch(element, expr.trim() === 'True', input) : null;
    if (switchBox) {
      box.appendChild(switchBox);
      var custom = el('details', { 'class': 'cond-custom' }, [el('summary', { text: T.switchCustom }), f]);
      box.appendChild(custom);
    } else box.appendChild(f);
    if (expr) check();
    if (source && /Gateway$/.test(source.type)) {
      var cb = el('input', { type: 'checkbox', onchange: function (e) {
        modeling.updateProperties(source, { 'default': e.target.checked ? b : undefined });
      } });
      cb.checked = bo(source)['default'] === b;
      box.appendChild(el('label', { 'class': 'check' }, [cb, ' ' + T.defaultFlow]));
    }
    (switchBox ? custom : box).appendChild(conditionHelp(element, input));
  }

  // 开启 / 关闭 of a flow whose condition is True / False: what each means, said with where the flow leads
  function flowSwitch(element, on, input) {
    var target = element.target ? (bo(element.target).name || bo(element.target).id) : '';
    var name = 'sw-' + bo(element).id;
    function choice(value, label) {
      var radio = el('input', { type: 'radio', name: name, value: value, onchange: function (e) {
        if (!e.target.checked) return;
        modeling.updateProperties(element, {
          conditionExpression: moddle.create('bpmn:FormalExpression', { body: value })
        });
        input.value = value;
        show(value);
      } });
      radios.push(radio);
      return el('label', { 'class': 'check' }, [radio, ' ' + label]);
    }
    // the switch follows what the condition box holds (a condition typed there is no longer a switch position)
    function show(text) {
      radios.forEach(function (r) { r.checked = r.value === text; });
      state.textContent = text === 'True' ? T.switchIsOn : (text === 'False' ? T.switchIsOff : T.switchCustomSet);
    }
    var radios = [], state = el('p', { 'class': 'cond-msg', 'aria-live': 'polite' });
    input.addEventListener('change', function () { show(input.value.trim()); });
    return el('fieldset', { 'class': 'field flow-switch' }, [
      el('legend', { 'class': 'label', text: T.switchLegend }),
      choice('True', fmt(T.switchOn, { name: target })),
      choice('False', T.switchOff),
      (show(on ? 'True' : 'False'), state),
      el('p', { 'class': 'hint', text: T.switchHint })]);
  }

  // ------------------------------------------------------------------ problems
  function clearProblemMarkers() {
    problemIds.forEach(function (id) { if (elementRegistry.get(id)) canvas.removeMarker(id, 'has-problem'); });
    problemIds = [];
  }
  // a problem may name the process (missing start event, id clash): show it on its pool
  function shapeId(id) {
    if (!id) return null;
    var element = elementRegistry.get(id);
    if (element && element.type !== 'bpmn:Process') return id;
    var pool = elementRegistry.filter(function (e) {
      return e.type === 'bpmn:Participant' && bo(e).processRef && bo(e).processRef.id === id;
    })[0];
    return pool ? pool.id : (element ? id : null);
  }
  function focusElement(id) {
    var element = elementRegistry.get(shapeId(id));
    id = element && element.id;
    if (!element) return;
    selection.select(element);
    try { canvas.scrollToElement(element); } catch (e) { /* older canvas API */ }
    canvas.addMarker(id, 'flash');
    setTimeout(function () { canvas.removeMarker(id, 'flash'); }, 1500);
  }
  function showProblems(problems) {
    clearProblemMarkers();
    var list = $('problems');
    list.innerHTML = '';
    var count = $('problem-count');
    count.hidden = false;
    count.textContent = problems.length;
    count.className = 'badge ' + (problems.length ? 'bad' : 'ok');
    if (!problems.length) list.appendChild(el('li', { 'class': 'ok', text: T.noProblems }));
    problems.forEach(function (p) {
      var where = [];
      if (p.element_id) where.push(p.element_id);
      if (p.line) where.push(fmt(T.line, { n: p.line }));
      // the parser's or validator's own words, when the message says them differently: a technical detail
      var detail = p.detail && p.detail !== p.message ? el('details', { 'class': 'detail' }, [
        el('summary', { text: T.detail }), el('code', { lang: 'en', text: p.detail })]) : null;
      if (detail) {  // opening it is not a click on the problem (which selects the element and leaves the tab)
        detail.addEventListener('click', function (e) { e.stopPropagation(); });
        detail.addEventListener('keydown', function (e) { e.stopPropagation(); });
      }
      var item = el('li', { 'data-element-id': p.element_id || '' }, [
        el('span', { 'class': 'msg', text: p.message }), where.length ? el('span', { 'class': 'where', text: where.join(' · ') }) : null,
        detail]);
      var shown = shapeId(p.element_id);
      if (shown) {
        canvas.addMarker(shown, 'has-problem');
        problemIds.push(shown);
        item.classList.add('clickable');
        item.tabIndex = 0;
        item.addEventListener('click', function () { focusElement(p.element_id); showTab('props'); });
        item.addEventListener('keydown', function (e) { if (e.key === 'Enter') { focusElement(p.element_id); showTab('props'); } });
      }
      list.appendChild(item);
    });
  }

  // ------------------------------------------------------------------ load / save / publish
  // fit the diagram, leaving room on the left for the palette so lane labels stay readable
  function fitWithPalette(c) {
    c.zoom('fit-viewport', 'auto');
    var inner = c.viewbox().inner, container = c.getContainer();
    var palette = document.querySelector('.djs-palette');
    var room = (palette ? palette.getBoundingClientRect().width : 0) + 24;
    var w = container.clientWidth, h = container.clientHeight;
    if (!inner || !inner.width || w <= room * 2) return;
    var s = Math.min((w - room - 24) / inner.width, (h - 40) / inner.height, 1.2);
    c.viewbox({ x: inner.x - room / s, y: inner.y - (h / s - inner.height) / 2, width: w / s, height: h / s });
  }
  function importXml(xml, label) {
    return modeler.importXML(xml).then(function () {
      fitWithPalette(canvas);
      refreshLaneBadges();
      syncTools();
      problemIds = [];
      dirty = false;
      changed = false;
      if (label) $('ed-source').textContent = label;
      renderProps(null);
    });
  }
  // first: the page's own heading (which version, a waiting draft's link) stays as the server wrote it
  function loadVersion(v, first) {
    status(T.loading);
    return api('/bpmn' + (v ? '?version=' + v : '')).then(function (r) {
      if (!r.ok) throw new Error(r.body.message || r.status);
      return importXml(r.body, v && !first ? fmt(T.loaded, { v: v }) : '');
    }).then(function () { status(''); }, function (e) { status(T.error + e.message, 'bad'); });
  }
  // a saved draft reopened: the page's heading already says which, when it was saved and on which version; its
  // problems as they stand now are listed, and what publishing it would be told when it changes nothing
  function loadDraft(d) {
    status(T.loading);
    return api('/bpmn?draft=' + d.id).then(function (r) {
      if (!r.ok) throw new Error(r.body.message || r.status);
      return importXml(r.body, null);
    }).then(function () {
      status(d.same_as && !d.problems.length ? d.same_as.message : '');
      if (d.problems.length) { showProblems(d.problems); status(fmt(T.savedProblems, { id: d.id, n: d.problems.length }), 'bad'); }
    }, function (e) { status(T.error + e.message, 'bad'); });
  }
  function draftPath() {
    var q = [];
    if (baseVersion) q.push('base_version=' + baseVersion);
    if (draftId) q.push('replace=' + draftId);
    return '/drafts' + (q.length ? '?' + q.join('&') : '');
  }
  // opening an older version (to roll back) is fine: the base stays the latest version the admin was shown
  function openVersion(v) {
    if (changed && !window.confirm(fmt(T.discardOpen, { v: v }))) return;
    baseVersion = versionList.length ? versionList[0].version : v;
    loadVersion(v);
  }
  function saveDraft() {
    status(T.saving);
    return modeler.saveXML({ format: true }).then(function (res) {
      return api(draftPath(), { method: 'POST', headers: { 'Content-Type': 'application/xml' }, body: res.xml });
    }).then(function (r) {
      if (r.status === 201) {
        draftId = r.body.draft_id;
        setShownDraft({ id: draftId, mine: true });
        showProblems(r.body.problems);
        dirty = false;
        $('ed-source').textContent = fmt(T.editingDraft, { id: draftId, at: beijingTime(new Date().toISOString()), v: baseVersion || '-' });
        if (r.body.problems.length) { status(fmt(T.savedProblems, { id: r.body.draft_id, n: r.body.problems.length }), 'bad'); showTab('problems'); }
        else if (r.body.same_as) status(r.body.same_as.message, 'bad');
        else status(fmt(T.savedOk, { id: r.body.draft_id }), 'ok');
      } else {
        showProblems(r.body.problems || []);
        status(T.refused + (r.body.message || r.status), 'bad');
        showTab('problems');
      }
      return r;
    });
  }
  function publish() {
    saveDraft().then(function (r) {
      if (r.status !== 201) return;
      if (r.body.problems.length) { status(T.notPublished, 'bad'); return; }
      if (r.body.same_as) { status(r.body.same_as.message, 'bad'); return; }  // the server refuses it as well
      if (!window.confirm(T.publishConfirm)) return;
      return api('/drafts/' + r.body.draft_id + '/publish', { method: 'POST' }).then(function (p) {
        if (p.status === 201) {
          status(fmt(T.published, { v: p.body.version }), 'ok');
          $('ed-source').textContent = fmt(T.loaded, { v: p.body.version });
          baseVersion = p.body.version; draftId = null; changed = false;
          setShownDraft(null);
          loadVersions();
        } else if (p.status === 409) {  // published meanwhile (by someone else) or already published
          status(p.body.message || String(p.status), 'bad');
          if (p.body.error === 'stale_draft') staleLinks(r.body.draft_id);
          loadVersions();
        } else {
          showProblems(p.body.problems || []);
          status(T.notPublished + ' ' + (p.body.message || ''), 'bad');
          showTab('problems');
        }
      });
    });
  }
  // a draft refused as stale stays saved: the way back to it (to see and redo the change) and to the latest version
  function staleLinks(id) {
    var base = window.location.pathname;
    $('ed-status').appendChild(el('span', { 'class': 'stale-links' }, [' ',
      el('a', { id: 'open-refused-draft', href: base + '?draft=' + id, text: fmt(T.openRefusedDraft, { id: id }) }), ' · ',
      el('a', { href: base + '?published=1', target: '_blank', rel: 'noopener', text: T.openLatestTab })]));
  }
  function upload(file) {
    if (changed && !window.confirm(fmt(T.discardUpload, { name: file.name }))) return;
    file.text().then(function (text) {
      return api(draftPath(), { method: 'POST', headers: { 'Content-Type': 'application/xml' }, body: text }).then(function (r) {
        if (r.status !== 201) {
          showProblems(r.body.problems || []);
          status(fmt(T.uploadRefused, { name: file.name }) + (r.body.message || r.status), 'bad');
          showTab('problems');
          return;
        }
        draftId = r.body.draft_id;
        setShownDraft({ id: draftId, mine: true });
        var show = function () {
          showProblems(r.body.problems);
          if (r.body.problems.length) {
            status(fmt(T.uploadProblems, { name: file.name, n: r.body.problems.length }), 'bad');
            showTab('problems');
          } else status(fmt(T.uploadOk, { name: file.name, id: r.body.draft_id }), 'ok');
        };
        return importXml(text, file.name).then(function () {
          if (!elementRegistry.filter(function (e) { return e.type !== 'bpmn:Process' && e.type !== 'bpmn:Collaboration' && e.type !== 'label'; }).length) {
            status(T.uploadNoDi, 'bad');
          }
          show();
        }, function () { show(); status(T.uploadNoDi, 'bad'); });
      });
    });
  }

  // ------------------------------------------------------------------ 放弃草稿
  function setShownDraft(d) {
    shownDraft = d;
    var btn = $('btn-discard');
    btn.hidden = !d;
    if (d) btn.textContent = fmt(T.discardLabel, { id: d.id });
  }
  // asks first; a discarded draft leaves the page for the published version, whose status line says what was done
  function discardDraft() {
    var d = shownDraft;
    if (!d) return;
    var question = d.mine || !d.by ? fmt(T.discardDraft, { id: d.id }) : fmt(T.discardDraftOf, { id: d.id, by: d.by });
    if (!window.confirm(question)) return;
    postJson('/drafts/' + d.id + '/discard', { confirm: true }).then(function (r) {
      if (r.ok) {
        dirty = false; changed = false;
        window.location.href = window.location.pathname + '?published=1&discarded=' + encodeURIComponent(r.body.discarded);
        return;
      }
      if (r.status === 404) { if (draftId === d.id) draftId = null; setShownDraft(null); }  // gone meanwhile
      status(T.error + ((r.body && r.body.message) || r.status), 'bad');
    }, function (e) { status(T.error + e.message, 'bad'); });
  }

  // back from 放弃草稿 (?discarded=<id>): the status line says so, once (a reload does not say it again)
  function sayDiscarded() {
    var params = new URLSearchParams(window.location.search), id = params.get('discarded');
    if (!id || !/^[0-9]+$/.test(id)) return;
    status(cfg.version ? fmt(T.discarded, { id: id, v: cfg.version }) : fmt(T.discardedUnpublished, { id: id }), 'ok');
    params.delete('discarded');
    var query = params.toString();
    window.history.replaceState(null, '', window.location.pathname + (query ? '?' + query : '') + window.location.hash);
  }

  // ------------------------------------------------------------------ canvas toolbar: undo/redo, zoom
  // the buttons follow the command stack and the zoom; a button that becomes disabled under the keyboard's focus
  // hands the focus to its partner (撤销 ↔ 重做, 放大 ↔ 缩小), else to 适合窗口, so the focus is never lost
  var PARTNER = { 'btn-undo': 'btn-redo', 'btn-redo': 'btn-undo', 'btn-zoom-in': 'btn-zoom-out', 'btn-zoom-out': 'btn-zoom-in' };
  function syncTools() {
    if (!modeler) return;
    var active = document.activeElement, stack = modeler.get('commandStack'), zoom = canvas.zoom();
    $('btn-undo').disabled = !stack.canUndo();
    $('btn-redo').disabled = !stack.canRedo();
    $('btn-zoom-in').disabled = zoom >= MAX_ZOOM - 0.001;
    $('btn-zoom-out').disabled = zoom <= MIN_ZOOM + 0.001;
    if (active && active.disabled && PARTNER[active.id]) {
      var partner = $(PARTNER[active.id]);
      (partner.disabled ? $('btn-zoom-fit') : partner).focus();
    }
  }
  function bindTools() {
    var stack = modeler.get('commandStack'), zoomScroll = modeler.get('zoomScroll');
    $('btn-undo').addEventListener('click', function () { if (stack.canUndo()) stack.undo(); });
    $('btn-redo').addEventListener('click', function () { if (stack.canRedo()) stack.redo(); });
    // the canvas reports a new viewbox only after a pause: the zoom buttons are set at once
    $('btn-zoom-in').addEventListener('click', function () { zoomScroll.stepZoom(1); syncTools(); });
    $('btn-zoom-out').addEventListener('click', function () { zoomScroll.stepZoom(-1); syncTools(); });
    $('btn-zoom-fit').addEventListener('click', function () { fitWithPalette(canvas); syncTools(); });
    modeler.on('canvas.viewbox.changed', syncTools);
    syncTools();
  }

  // ------------------------------------------------------------------ versions, diff, migration
  function versionOptions(selectEl, chosen) {
    selectEl.innerHTML = '';
    versionList.forEach(function (v) {
      selectEl.appendChild(el('option', { value: v.version, text: 'v' + v.version + ' (' + T.running + ' ' + v.running_instances + ')', selected: v.version === chosen }));
    });
  }
  function loadVersions() {
    return api('/versions').then(function (r) {
      versionList = r.body;
      var box = $('versions');
      box.innerHTML = '';
      var table = el('table', { 'class': 'list compact' }, [el('thead', {}, [el('tr', {}, [
        el('th', { text: T.version }), el('th', { text: T.publishedAt }), el('th', { text: T.running }), el('th', { text: T.where }), el('th', {})])])]);
      var tbody = el('tbody');
      versionList.forEach(function (v) {
        // each step in the page's language (label: the server's name for it; title: as the diagram names it)
        var steps = v.steps.map(function (s) { return (s.label || s.title) + ' × ' + s.count; }).join(LIST_SEP) || T.none;
        var list = el('div', { 'class': 'inst-list' });
        tbody.appendChild(el('tr', { 'data-version': v.version }, [
          el('td', { text: 'v' + v.version }),
          el('td', { 'class': 'small', text: beijingTime(v.published_at) + (v.published_by ? ' · ' + v.published_by : '') }),
          el('td', { 'class': 'running-count', text: String(v.running_instances) }),
          el('td', { 'class': 'small' }, [steps, list]),
          el('td', {}, [
            el('button', { type: 'button', 'class': 'link', text: T.open, onclick: function () { openVersion(v.version); } }), ' ',
            el('a', { href: cfg.api + '/bpmn?version=' + v.version + '&download=1', text: T.download }), ' ',
            v.running_instances ? el('button', { type: 'button', 'class': 'link', text: T.instances, onclick: function () { showInstances(v.version, list); } }) : null])]));
      });
      table.appendChild(tbody);
      box.appendChild(table);
      var latest = versionList.length ? versionList[0].version : null;
      var prev = versionList.length > 1 ? versionList[1].version : latest;
      versionOptions($('diff-a'), prev); versionOptions($('diff-b'), latest);
      var withRunning = versionList.filter(function (v) { return v.running_instances && v.version !== latest; })[0];
      versionOptions($('mig-from'), withRunning ? withRunning.version : prev); versionOptions($('mig-to'), latest);
    });
  }
  function showInstances(version, box) {
    api('/versions/' + version + '/instances').then(function (r) {
      box.innerHTML = '';
      r.body.forEach(function (i) {
        box.appendChild(el('div', {}, [el('a', { href: cfg.instanceUrl + i.id, text: '#' + i.id + ' ' + (i.title || '') }),
          el('span', { 'class': 'muted', text: ' · ' + (i.stage || '') })]));
      });
    });
  }
  function diffSection(title, items, cls) {
    if (!items.length) return null;
    return el('div', { 'class': 'diff ' + cls }, [el('h3', { text: title + ' (' + items.length + ')' }), el('ul', {}, items.map(function (i) {
      var li = el('li', {}, [el('a', { href: '#', text: i.name + ' · ' + i.id, onclick: function (e) { e.preventDefault(); focusElement(i.id); } }),
        i.field_labels ? el('span', { 'class': 'muted', text: '：' + i.field_labels.join(LIST_SEP) }) : null,
        // each changed field's old → new value (名称：社工站初审 → 社工站初审（含入户核查）)
        i.changes && i.changes.length ? el('ul', { 'class': 'diff-values' }, i.changes.map(function (c) {
          return el('li', {}, [el('span', { 'class': 'diff-field', text: c.label + '：' }),
            el('del', { 'class': 'diff-old', text: c.old }), el('span', { 'aria-hidden': 'true', text: ' → ' }),
            el('span', { 'class': 'sr-only', text: ' ' + T.changedTo + ' ' }), el('ins', { 'class': 'diff-new', text: c.new })]);
        })) : null]);
      return li;
    }))]);
  }
  function runDiff() {
    var a = $('diff-a').value, b = $('diff-b').value;
    api('/diff?a=' + a + '&b=' + b).then(function (r) {
      var box = $('diff');
      box.innerHTML = '';
      if (!r.ok) { box.textContent = r.body.message; return; }
      var d = r.body;
      if (!d.added.length && !d.removed.length && !d.changed.length) box.appendChild(el('p', { 'class': 'muted', text: T.noDiff }));
      [diffSection(T.added, d.added, 'added'), diffSection(T.removed, d.removed, 'removed'), diffSection(T.changed, d.changed, 'changed')]
        .forEach(function (s) { if (s) box.appendChild(s); });
    });
  }
  var lastDry = null;
  function migrate(dry) {
    var from = +$('mig-from').value, to = +$('mig-to').value;
    if (from === to) { $('mig-result').textContent = T.sameVersion; return; }
    if (!dry && !window.confirm(fmt(T.applyConfirm, { n: lastDry ? lastDry.movable.length : 0 }))) return;
    postJson('/migrations', { from_version: from, to_version: to, dry_run: dry }).then(function (r) {
      var box = $('mig-result');
      box.innerHTML = '';
      if (!r.ok) { box.textContent = T.error + (r.body.message || r.status); return; }
      var d = r.body;
      lastDry = dry ? d : null;
      $('btn-apply').disabled = !(dry && d.movable.length);
      box.appendChild(el('p', { 'class': dry ? 'muted' : 'ok', text: dry ? T.dryDone : fmt(T.applied, { n: d.movable.length }) }));
      if (!d.movable.length && !d.blocked.length) box.appendChild(el('p', { text: T.noRunning }));
      // a dry run lists what can move; an applied migration says what moved and what stayed (with why)
      // each case by its number and title, like the blocked ones
      var moved = d.movable_cases || (dry ? d.movable : (d.moved || d.movable)).map(function (id) { return { instance_id: id }; });
      if (moved.length) box.appendChild(el('div', { 'class': 'diff added' }, [el('h3', { text: (dry ? T.movable : T.moved) + ' (' + moved.length + ')' }),
        el('ul', { id: dry ? 'mig-movable' : 'mig-moved' }, moved.map(function (c) {
          return el('li', {}, [el('a', { href: cfg.instanceUrl + c.instance_id, text: '#' + c.instance_id + ' ' + (c.title || '') })]);
        }))]));
      if (d.blocked.length) box.appendChild(el('div', { 'class': 'diff removed' }, [el('h3', { text: (dry ? T.blocked : T.notMoved) + ' (' + d.blocked.length + ')' }),
        el('ul', { id: dry ? 'mig-blocked' : 'mig-not-moved' }, d.blocked.map(function (b) {
          return el('li', {}, [el('a', { href: cfg.instanceUrl + b.instance_id, text: '#' + b.instance_id + ' ' + (b.title || '') }), el('br'), el('span', { 'class': 'muted', text: b.reason })]);
        }))]));
      if (!dry) loadVersions();
    });
  }

  // ------------------------------------------------------------------ start
  function start(descriptor) {
    modeler = new window.BpmnJS({
      container: '#canvas',
      moddleExtensions: { spiffworkflow: descriptor },
      additionalModules: [window.BpmnZh(cfg.lang)]
    });
    canvas = modeler.get('canvas'); modeling = modeler.get('modeling'); moddle = modeler.get('moddle');
    overlays = modeler.get('overlays'); elementRegistry = modeler.get('elementRegistry'); selection = modeler.get('selection');
    // a lane's name is its role key: it is set only with the role picker, never typed on the canvas
    modeler.on('directEditing.activate.allowed', 2000, function (e) {
      if (!e.element || e.element.type !== 'bpmn:Lane') return;
      selection.select(e.element);
      showTab('props');
      var picker = $('props').querySelector('select');
      if (picker) picker.focus();
      return false;
    });
    modeler.on('selection.changed', function (e) { renderProps(e.newSelection.length === 1 ? e.newSelection[0] : null); });
    modeler.on('commandStack.changed', function () {
      dirty = true;
      changed = true;
      refreshLaneBadges();
      syncTools();
      // a change made in the side panel is already shown there: re-drawing it would take the focus away (to the
      // page) from the field the admin tabbed or clicked to. A field's change event fires while the focus is
      // between two fields, so where it went is read once it has arrived.
      setTimeout(function () {
        var current = selection.get(), active = document.activeElement;
        if (current.length === 1 && !(active && $('props').contains(active))) renderProps(current[0]);
      }, 0);
    });
    window.addEventListener('beforeunload', function (e) { if (dirty) { e.preventDefault(); e.returnValue = T.unsaved; } });
    document.querySelectorAll('.ed-tabs [role=tab]').forEach(function (b) { b.addEventListener('click', function () { showTab(b.dataset.tab); }); });
    // the side tabs: ←/→ (and Home/End) move between them, as in every tab list
    document.querySelector('.ed-tabs').addEventListener('keydown', function (e) {
      var tabs = Array.prototype.slice.call(document.querySelectorAll('.ed-tabs [role=tab]'));
      var i = tabs.indexOf(document.activeElement);
      var to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
      if (i < 0 || to === undefined) return;
      e.preventDefault();
      var tab = tabs[(to + tabs.length) % tabs.length];
      tab.focus();
      showTab(tab.dataset.tab);
    });
    $('btn-check').addEventListener('click', function () { saveDraft(); });
    $('btn-discard').addEventListener('click', discardDraft);
    if (shownDraft) setShownDraft(shownDraft);
    bindTools();
    $('btn-publish').addEventListener('click', publish);
    $('btn-diff').addEventListener('click', runDiff);
    $('btn-dry').addEventListener('click', function () { migrate(true); });
    $('btn-apply').addEventListener('click', function () { migrate(false); });
    $('upload-file').addEventListener('change', function (e) { if (e.target.files[0]) upload(e.target.files[0]); e.target.value = ''; });
    // every press (click, Enter, Space) saves what the canvas holds at that moment and downloads it at once
    $('btn-download').addEventListener('click', function () {
      modeler.saveXML({ format: true }).then(function (res) {
        var url = URL.createObjectURL(new Blob([res.xml], { type: 'application/xml' }));
        var a = el('a', { href: url, download: cfg.key + '.bpmn', hidden: true });
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
      });
    });
    window.bpmnEditor = { modeler: modeler, saveDraft: saveDraft, focusElement: focusElement };
    Promise.all([cfg.draft ? loadDraft(cfg.draft) : loadVersion(cfg.version, true), loadVersions()]).then(function () {
      sayDiscarded();
      document.body.dataset.editorReady = '1';
    });
  }
  fetch(cfg.moddle).then(function (r) { return r.json(); }).then(start);
})();

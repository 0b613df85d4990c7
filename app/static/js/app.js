// Progressive enhancements only: every page works without this file.
(function () {
  'use strict';
  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  // texts in the page's language, rendered by the server into #js-strings; %(name)s placeholders
  var STRINGS = {};
  try { STRINGS = JSON.parse((document.getElementById('js-strings') || {}).textContent || '{}'); } catch (err) { STRINGS = {}; }
  function t(key, vars) {
    return (STRINGS[key] || key).replace(/%\((\w+)\)s/g, function (m, name) {
      return vars && vars[name] !== undefined ? String(vars[name]) : m;
    });
  }

  // ---- desktop header: when the menu does not fit beside the brand and the tools (English, a role with many
  // entries), it takes a row of its own under them instead of wrapping into a narrow column of three rows
  var top = $('header.top'), nav = $('.mainnav');
  // a message the script shows about a field (a batch without a reason, a picked file that is not an image): the
  // field is marked invalid and described by it while it shows, as the server's own errors do
  function flagField(field, message, on) {
    if (!field || !message) return;
    if (field.dataset.serverInvalid === undefined) field.dataset.serverInvalid = field.getAttribute('aria-invalid') === 'true' ? '1' : '';
    if (!message.id) message.id = 'msg-' + Math.random().toString(36).slice(2);
    var ids = (field.getAttribute('aria-describedby') || '').split(' ').filter(function (id) { return id && id !== message.id; });
    if (on) ids.push(message.id);
    if (ids.length) field.setAttribute('aria-describedby', ids.join(' '));
    else field.removeAttribute('aria-describedby');
    if (on) field.setAttribute('aria-invalid', 'true');
    else if (!field.dataset.serverInvalid) field.removeAttribute('aria-invalid');
  }

  function fitHeader() {
    if (!top || !nav) return;
    top.classList.remove('two-rows', 'folded');
    var links = $all('a', nav);
    if (window.innerWidth <= 700 || links.length < 2) return;
    var last = links[links.length - 1];
    top.classList.toggle('two-rows', last.offsetTop > links[0].offsetTop);
    // still more than two rows of links on a row of its own (English on a tablet): the menu folds under its 菜单
    // button as on phones, so the header does not take a third of the screen
    var rows = links.filter(function (a, i) { return i === 0 || a.offsetTop > links[i - 1].offsetTop; }).length;
    top.classList.toggle('folded', rows > 2);
  }
  fitHeader();
  window.addEventListener('load', fitHeader);  // web fonts change the widths

  // ---- phone header: the menu folds under its 菜单 button (CSS shows the button only on narrow screens)
  var menuToggle = $('.menu-toggle');
  if (menuToggle && nav) {
    menuToggle.addEventListener('click', function () {
      var open = !nav.classList.contains('open');
      nav.classList.toggle('open', open);
      menuToggle.setAttribute('aria-expanded', open ? 'true' : 'false');
    });
  }
  if (document.fonts && document.fonts.ready) document.fonts.ready.then(fitHeader);
  var fitTimer = null;
  window.addEventListener('resize', function () { clearTimeout(fitTimer); fitTimer = setTimeout(fitHeader, 100); });

  // ---- what was typed survives leaving the page and coming back in this tab: 认领 / 取消认领 reload the task
  // page (<form data-keeps=decision-form>), 登记本人信息 / 去录入服务对象 leave the V-order form
  // (<a data-keeps=order-form>; an empty value names the form the element is in), and 中文 / English reloads the
  // page in the other language (<a data-lang-switch>: every form of the page sending by POST)
  var stashKey = 'typed:' + location.pathname;
  var SKIP = {hidden: 1, file: 1, password: 1, submit: 1, button: 1};
  // a form is found again by its id, or else by where it sends to
  function formKey(form) { return form.id ? '#' + form.id : form.getAttribute('action') || ''; }
  function formByKey(key) {
    if (key.charAt(0) === '#') return document.getElementById(key.slice(1));
    return $all('main form').filter(function (f) { return (f.getAttribute('action') || '') === key; })[0] || null;
  }
  function typedIn(form) {
    var typed = {}, any = false;
    $all('textarea, select, input', form).forEach(function (f) {
      if (!f.name || SKIP[f.type] || f.disabled) return;
      if (f.type === 'checkbox' || f.type === 'radio') {
        if (f.checked) { (typed[f.name] = typed[f.name] || []).push(f.value); any = true; }
      } else if (f.value) {
        typed[f.name] = f.value;
        any = true;
      }
    });
    return any ? typed : null;
  }
  function stashForms(forms) {
    var kept = {};
    forms.forEach(function (form) {
      var typed = form && typedIn(form);
      if (typed) kept[formKey(form)] = typed;
    });
    try {
      sessionStorage.setItem(stashKey, JSON.stringify({forms: kept}));
    } catch (err) { /* private mode: nothing kept */ }
  }
  function restoreTyped(into, fields) {
    Object.keys(fields).forEach(function (name) {
      var value = fields[name];
      $all('[name="' + name + '"]', into).forEach(function (f) {
        if (f.type === 'checkbox' || f.type === 'radio') {
          if (Array.isArray(value)) f.checked = value.indexOf(f.value) >= 0;
        } else if (!SKIP[f.type] && typeof value === 'string' && (!f.value || f.tagName === 'SELECT')) {
          f.value = value;
        }
      });
    });
  }
  $all('[data-keeps]').forEach(function (el) {
    el.addEventListener(el.tagName === 'FORM' ? 'submit' : 'click', function () {
      var id = el.getAttribute('data-keeps');
      var target = id ? document.getElementById(id) : el.closest('form');
      if (target && target.id) stashForms([target]);
    });
  });
  // 中文 / English: what was typed comes back in the other language; photos and files picked cannot, so the link
  // asks first (in the page's language) when some are
  $all('a[data-lang-switch]').forEach(function (link) {
    link.addEventListener('click', function (e) {
      var forms = $all('main form').filter(function (f) { return (f.getAttribute('method') || '').toLowerCase() === 'post'; });
      var files = forms.some(function (f) {
        return $all('input[type=file]', f).some(function (i) { return i.files && i.files.length; }) ||
          $('.file-box input:checked', f);
      });
      if (files && !window.confirm(link.getAttribute('data-confirm'))) {
        e.preventDefault();
        return;
      }
      stashForms(forms);
    });
  });
  var stashed = null;
  try {
    stashed = JSON.parse(sessionStorage.getItem(stashKey) || 'null');
    sessionStorage.removeItem(stashKey);
  } catch (err) { stashed = null; }
  Object.keys((stashed && stashed.forms) || {}).forEach(function (key) {
    var into = formByKey(key);
    if (into) restoreTyped(into, stashed.forms[key]);
  });

  // ---- 大字模式 (large-font mode for elderly users): remembered in a cookie the server reads too
  var elder = document.getElementById('elder-toggle');
  if (elder) {
    elder.hidden = false;
    var sync = function () {
      elder.setAttribute('aria-pressed', document.body.classList.contains('elder') ? 'true' : 'false');
    };
    sync();
    elder.addEventListener('click', function () {
      var on = !document.body.classList.contains('elder');
      document.cookie = 'big=' + (on ? '1' : '0') + ';path=/;max-age=31536000;samesite=lax';
      document.body.classList.toggle('elder', on);
      sync();
      fitHeader();
    });
  }

  // ---- error summary: bring it into view, its links focus the field they name
  var summary = document.getElementById('error-summary');
  if (summary) {
    summary.focus();
    summary.addEventListener('click', function (e) {
      var link = e.target.closest('a[href^="#"]');
      if (!link) return;
      var input = document.getElementById(link.getAttribute('href').slice(1));
      if (!input) return;
      e.preventDefault();
      var box = input.closest('.field') || input;
      box.scrollIntoView({ block: 'start' });
      // a field whose named control is tucked away (地图位置's boxes under 手动输入坐标): its first shown control
      var shown = function (el) { return el.checkVisibility ? el.checkVisibility() : el.getClientRects().length > 0; };
      if (!shown(input)) input = $all('button, input, select, textarea, summary', box).filter(shown)[0] || input;
      input.focus({ preventScroll: true });
    });
  }

  // ---- submit buttons: avoid a double tap sending the form twice
  $all('form').forEach(function (form) {
    form.addEventListener('submit', function (e) {
      if (e.defaultPrevented) return;
      var btn = e.submitter && e.submitter.dataset.busy ? e.submitter : null;
      if (!btn) return;
      setTimeout(function () { btn.disabled = true; btn.textContent = btn.dataset.busy; }, 0);
    });
  });

  // ---- a choice that depends on another (<select data-follows=category>: 服务项目 on 服务类别): only the options of
  // the group chosen there are offered; one chosen before that no longer fits is cleared
  $all('select[data-follows]').forEach(function (select) {
    var form = select.form;
    var field = select.getAttribute('data-follows');
    if (!form) return;
    function follow() {
      var picked = $('[name="' + field + '"]:checked', form) || $('select[name="' + field + '"]', form);
      var group = picked ? picked.value : '';
      $all('option[data-group]', select).forEach(function (option) {
        var fits = !group || option.getAttribute('data-group') === group;
        option.hidden = !fits;
        option.disabled = !fits;
        if (!fits && option.selected) select.value = '';
      });
    }
    form.addEventListener('change', function (e) { if (e.target.name === field) follow(); });
    follow();
  });

  // ---- photo upload: say how many are chosen / kept, preview them, warn about the 1–9 / 10 MB rules
  $all('.file-box').forEach(function (box) {
    var input = $('input[type=file]', box);
    var status = $('.file-status', box);
    var problem = $('.file-problem', box);
    var previews = $('.new-thumbs', box);
    var max = parseInt(box.dataset.max, 10) || 9;
    var maxSize = parseInt(box.dataset.maxSize, 10) || 10485760;
    var accept = (box.dataset.accept || '').split(',').filter(Boolean);
    var urls = [];
    var refused = [];  // what was wrong with the files just picked that were left out

    // what is wrong with a picked file (null: an image within the size limit)
    function fault(f) {
      var ext = (f.name.split('.').pop() || '').toLowerCase();
      if (accept.length && accept.indexOf(ext) < 0) return t('not_image', {name: f.name, types: accept.join('/')});
      if (f.size > maxSize) return t('too_big', {name: f.name, mb: Math.round(maxSize / 1048576)});
      return null;
    }
    function accepted() {
      return Array.prototype.slice.call(input.files || []).filter(function (f) { return !fault(f); });
    }

    // a picked file that is not an image or too large is left out of the form (where the browser allows it),
    // is not counted as a photo, and the message says it was not added
    function pick() {
      var files = Array.prototype.slice.call(input.files || []);
      refused = files.map(fault).filter(Boolean).map(function (why) { return t('not_added', {problem: why}); });
      if (refused.length && window.DataTransfer) {
        try {
          var dt = new DataTransfer();
          accepted().forEach(function (f) { dt.items.add(f); });
          input.files = dt.files;
        } catch (err) { /* an old browser sends every file: the server refuses the bad ones in words */ }
      }
      update();
    }

    function update() {
      var kept = $all('input[type=checkbox]:checked', box).length;
      var files = accepted();
      var total = kept + files.length;
      var parts = [];
      if (kept) parts.push(t('kept', {n: kept}));
      if (files.length) parts.push(t('picked', {n: files.length}));
      var min = parseInt(box.dataset.min, 10) || 0;  // may follow another field (专业资质证明: 专业类 only)
      if (!parts.length) status.textContent = t(min > 0 ? 'none' : 'none_optional', {min: min, max: max});
      else status.textContent = t('total', {parts: parts.join(t('sep')), total: total, max: max});

      var issues = [];
      if (total > max) issues.push(t('too_many', {max: max, n: total - max}));
      issues = issues.concat(refused);
      problem.hidden = !issues.length;
      problem.textContent = issues.join(t('issues_sep'));  // role=alert: read out as it appears
      flagField(input, problem, issues.length > 0);

      urls.forEach(function (u) { URL.revokeObjectURL(u); });
      urls = [];
      previews.textContent = '';
      files.slice(0, max).forEach(function (f) {
        var fig = document.createElement('span');
        fig.className = 'thumb';
        if (/^image\//.test(f.type) && window.URL && URL.createObjectURL) {
          var img = document.createElement('img');
          var u = URL.createObjectURL(f);
          urls.push(u);
          img.src = u;
          img.alt = '';
          fig.appendChild(img);
        }
        var name = document.createElement('span');
        name.textContent = f.name;
        fig.appendChild(name);
        previews.appendChild(fig);
      });
    }
    input.addEventListener('change', pick);
    box.addEventListener('change', function (e) { if (e.target.type === 'checkbox') update(); });
    if ((input.files || []).length) pick();
  });

  // ---- photos required only for one choice of another field (<div data-min-when="category=professional">: the
  // 专业资质证明 of 专业类): the "还没有选择照片" line says required or optional as that choice changes
  $all('[data-min-when]').forEach(function (wrap) {
    var form = wrap.closest('form'), input = $('.file-box input[type=file]', wrap);
    var when = wrap.getAttribute('data-min-when').split('=');
    if (!form || !input) return;
    var sync = function () {
      var picked = $('[name="' + when[0] + '"]:checked', form) || $('select[name="' + when[0] + '"]', form);
      $('.file-box', wrap).dataset.min = picked && picked.value === when[1] ? wrap.getAttribute('data-min') : '0';
      input.dispatchEvent(new Event('change'));
    };
    form.addEventListener('change', function (e) { if (e.target.name === when[0]) sync(); });
    sync();
  });

  // ---- parts of a field shown for one choice of another (<div data-switch-on=demand_type> with parts
  // data-when="self" / data-when="!self": 为自己下单 shows the user's own record, 为他人下单 the library's list); a
  // hidden part's inputs are disabled, so only what shows is sent
  $all('[data-switch-on]').forEach(function (field) {
    var form = field.closest('form'), name = field.getAttribute('data-switch-on');
    if (!form) return;
    var sync = function () {
      var picked = $('[name="' + name + '"]:checked', form);
      var value = picked ? picked.value : '';
      $all('[data-when]', field).forEach(function (part) {
        var want = part.getAttribute('data-when');
        var on = want.charAt(0) === '!' ? value !== want.slice(1) : value === want;
        part.hidden = !on;
        $all('input', part).forEach(function (el) { el.disabled = !on; });
      });
    };
    form.addEventListener('change', function (e) { if (e.target.name === name) sync(); });
    sync();
  });

  // ---- a text box that suggests matches as one types (公益池's volunteer): <input list=… data-suggest=URL>;
  // the server reads back what is typed, so without this script the box still works
  $all('input[data-suggest]').forEach(function (input) {
    var list = document.getElementById(input.getAttribute('list'));
    if (!list || !window.fetch) return;
    var timer = null;
    var asked = '';
    input.addEventListener('input', function () {
      clearTimeout(timer);
      var q = input.value.trim();
      if (!q || q === asked) return;
      timer = setTimeout(function () {
        asked = q;
        fetch(input.dataset.suggest + '?q=' + encodeURIComponent(q),
              {credentials: 'same-origin', headers: {Accept: 'application/json'}})
          .then(function (r) { return r.ok ? r.json() : {items: []}; })
          .then(function (data) {
            if (input.value.trim() !== q) return;  // an answer to what was typed before
            list.textContent = '';
            (data.items || []).forEach(function (item) {
              var opt = document.createElement('option');
              opt.value = item.value;
              opt.label = item.phone || item.value;
              list.appendChild(opt);
            });
          })
          .catch(function () { /* no suggestions: what is typed is still checked on submit */ });
      }, 250);
    });
  });

  // ---- 地图位置: "使用我的位置" takes the phone's location, "使用所选街道的位置" the centre of the street chosen
  // above (data-centres); the point is said in words, the typed boxes stay under 手动输入坐标
  $all('.geo').forEach(function (box) {
    var form = box.closest('form');
    var name = box.getAttribute('data-field');
    var lat = form.elements[name + '.lat'];
    var lng = form.elements[name + '.lng'];
    var status = $('.geo-status', box);
    var button = $('.geo-locate', box);
    var streetButton = $('.geo-street', box);
    var street = form.elements[box.getAttribute('data-street-field') || 'street'];
    var centres = {};
    try { centres = JSON.parse(box.getAttribute('data-centres') || '{}'); } catch (err) { centres = {}; }
    var fromStreet = false;  // the point is a street's centre: it follows a change of the street
    var num = function (attr) { return parseFloat(box.getAttribute(attr)); };
    // the page's own wording first (data-geo_denied…), else the shared texts
    var say = function (key, vars) { status.textContent = box.hasAttribute('data-' + key) ? box.getAttribute('data-' + key) : t(key, vars); };
    var useStreet = function (quiet) {
      var centre = street && street.value ? centres[street.value] : null;
      if (!centre) {
        if (!quiet) status.textContent = box.getAttribute(street && street.value ? 'data-no-centre' : 'data-no-street');
        return;
      }
      lat.value = centre.lat.toFixed(6);
      lng.value = centre.lng.toFixed(6);
      fromStreet = true;
      status.textContent = box.getAttribute('data-near').replace('%(street)s', centre.name);
    };
    if (streetButton) {
      streetButton.hidden = false;
      streetButton.addEventListener('click', function () { useStreet(false); });
      if (street) street.addEventListener('change', function () { if (fromStreet) useStreet(true); });
    }
    [lat, lng].forEach(function (el) { el.addEventListener('input', function () { fromStreet = false; status.textContent = ''; }); });
    if (!navigator.geolocation || !button) return;  // no button that cannot work
    button.hidden = false;
    box.hidden = false;
    button.addEventListener('click', function () {
      button.disabled = true;
      say('geo_wait');
      navigator.geolocation.getCurrentPosition(function (pos) {
        button.disabled = false;
        var la = pos.coords.latitude, lo = pos.coords.longitude;
        if (la < num('data-lat-min') || la > num('data-lat-max') || lo < num('data-lng-min') || lo > num('data-lng-max')) {
          say('geo_outside');
          return;
        }
        lat.value = la.toFixed(6);
        lng.value = lo.toFixed(6);
        fromStreet = false;
        say('geo_done', {m: Math.round(pos.coords.accuracy || 0)});
      }, function (err) {
        button.disabled = false;
        say(err && err.code === 1 ? 'geo_denied' : 'geo_failed');
      }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 0});
    });
  });

  // ---- inbox: select all, "已选 N 项", a rejection needs a reason
  var batch = document.getElementById('batch-form');
  if (batch) {
    var all = document.getElementById('check-all');
    var boxes = $all('input[name=task_ids]', batch);
    var count = $('.batch-count', batch);
    var problem = $('.batch-problem', batch);
    var show = function () {
      var n = boxes.filter(function (c) { return c.checked; }).length;
      // a list of other things than tasks (兑换资源) names them in data-select-hint / data-select-first
      if (count) count.textContent = n ? t('selected', {n: n}) : (batch.dataset.selectHint || t('select_hint'));
      if (all) { all.checked = n && n === boxes.length; all.indeterminate = n > 0 && n < boxes.length; }
      return n;
    };
    if (all) all.addEventListener('change', function () {
      boxes.forEach(function (c) { c.checked = all.checked; });
      show();
    });
    boxes.forEach(function (c) { c.addEventListener('change', show); });
    show();
    // a batch decision is final for every ticked task: it is sent only after "确认对 N 件任务执行批量通过？" is
    // answered in the page (without this script the server's result page lists what was done)
    var confirmBox = $('.batch-confirm', batch);
    var pending = null;  // the button (批量通过 / 批量不通过) waiting for the answer
    var confirmed = false;
    var closeConfirm = function () {
      if (!confirmBox) return;
      confirmBox.hidden = true;
      if (pending) pending.focus();
      pending = null;
    };
    if (confirmBox) {
      $('.batch-yes', confirmBox).addEventListener('click', function () {
        var button = pending;
        confirmed = true;
        confirmBox.hidden = true;
        if (batch.requestSubmit) batch.requestSubmit(button);
        else {
          var field = document.createElement('input');
          field.type = 'hidden'; field.name = button.name; field.value = button.value;
          batch.appendChild(field);
          batch.submit();
        }
      });
      $('.batch-no', confirmBox).addEventListener('click', closeConfirm);
      confirmBox.addEventListener('keydown', function (e) { if (e.key === 'Escape') closeConfirm(); });
    }
    boxes.concat(all ? [all] : []).forEach(function (c) { c.addEventListener('change', function () { if (pending) closeConfirm(); }); });
    batch.addEventListener('submit', function (e) {
      var msg = '';
      var reason = batch.elements.reason;
      var needReason = false;
      var n = show();
      if (!n) msg = batch.dataset.selectFirst || t('select_first');
      else if (e.submitter && e.submitter.value === 'reject' && reason && !reason.value.trim()) { msg = t('reason_needed'); needReason = true; }
      if (problem) { problem.hidden = !msg; problem.textContent = msg; }  // role=alert: read out as it appears
      if (reason) flagField(reason, problem, needReason);
      if (all || boxes[0]) flagField(all || boxes[0], problem, !!msg && !needReason);
      if (msg) {
        e.preventDefault();
        (needReason ? reason : (all || boxes[0])).focus();
        return;
      }
      if (!confirmBox || confirmed || !e.submitter) return;
      e.preventDefault();
      pending = e.submitter;
      var text = confirmBox.getAttribute(pending.value === 'reject' ? 'data-reject' : 'data-approve');
      $('.batch-confirm-text', confirmBox).textContent = text.replace('%(n)s', n);
      $('.batch-yes', confirmBox).textContent = pending.textContent;
      confirmBox.hidden = false;
      $('.batch-yes', confirmBox).focus();
    });
  }

  // ---- 导出 Excel: while an export is queued or running, its row's progress is asked for every 2 seconds and
  // updated in place (the form above keeps what is typed, focus stays where it is); the status line says when
  // one is finished
  var exportsTable = $('table.exports[data-progress]');
  if (exportsTable && window.fetch) {
    var live = $('.export-live');
    var refresh = $('.export-live .nojs-only');
    if (refresh) refresh.hidden = true;
    var badges = {done: 's-approved', failed: 's-rejected'};
    var updateRow = function (item) {
      var row = document.getElementById('export-' + item.id);
      if (!row) return;
      var was = row.getAttribute('data-status');
      var cell = $('.export-progress', row);
      var badge = $('.badge', cell);
      badge.className = 'badge ' + (badges[item.status] || 's-pending');
      badge.textContent = item.status_label;
      var busy = item.status === 'queued' || item.status === 'running';
      var bar = $('progress', cell), count = $('.export-count', cell);
      if (busy && bar) {
        bar.value = item.progress;
        bar.textContent = item.progress + '%';
        if (count) count.textContent = (item.done_rows || 0) + '/' + (item.total_rows || 0);
      }
      if (busy || was === item.status) return;
      row.setAttribute('data-status', item.status);
      if (bar) bar.remove();
      if (count) count.remove();
      if (item.status === 'done') {
        var rows = document.createElement('span');
        rows.className = 'muted';
        rows.textContent = item.rows_text;
        cell.appendChild(rows);
        var file = $('.export-file', row);
        file.textContent = '';
        var link = document.createElement('a');
        link.className = 'btn';
        link.href = item.download_url;
        link.setAttribute('download', '');
        link.textContent = exportsTable.getAttribute('data-download');
        file.appendChild(link);
      } else if (item.error) {
        var err = document.createElement('p');
        err.className = 'field-error';
        err.textContent = item.error;
        cell.appendChild(err);
      }
      if (live) live.textContent = (live.getAttribute(item.status === 'done' ? 'data-done' : 'data-failed') || '').replace('%(title)s', item.title);
    };
    var poll = function () {
      fetch(exportsTable.getAttribute('data-progress'), {credentials: 'same-origin', headers: {Accept: 'application/json'}})
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (data) {
          (data.items || []).forEach(updateRow);
          if (data.busy) setTimeout(poll, 2000);
        })
        .catch(function () { if (refresh) refresh.hidden = false; });  // the link still shows the latest state
    };
    setTimeout(poll, 2000);
  }

  // ---- 已输入 n / 500 under a reason box (<textarea data-count-max>, macros.char_count): counted as the server
  // counts (ends trimmed, a line break one character); over the limit it turns red and says by how much
  $all('textarea[data-count-max]').forEach(function (box) {
    var out = document.getElementById('count-' + box.id);
    var max = parseInt(box.getAttribute('data-count-max'), 10);
    if (!out || !max) return;
    var update = function () {
      var n = Array.from(box.value.trim()).length;
      var over = n > max;
      out.classList.toggle('over', over);
      out.textContent = out.getAttribute(over ? 'data-over' : 'data-text')
        .replace('%(n)s', n).replace('%(over)s', n - max);
    };
    box.addEventListener('input', update);
    update();
  });

  // ---- 导出 Excel: the 审核状态 choice only for the 审核列表
  var exportKind = document.getElementById('f-kind');
  var forKind = $all('[data-for-kind]');
  if (exportKind && forKind.length) {
    exportKind.addEventListener('change', function () {
      forKind.forEach(function (box) { box.hidden = exportKind.value !== box.getAttribute('data-for-kind'); });
    });
  }

  // ---- inbox 类型 / 排序 (<form data-list-options>): a choice made with the mouse or a finger shows the list at
  // once; after a key press (the arrow keys step through a closed select) the reviewer sends it with 筛选 when
  // there. Not while the batch form holds ticks or a typed reason: leaving the page would drop them.
  var listOptions = $('form[data-list-options]');
  if (listOptions) {
    var byKey = false;
    listOptions.addEventListener('keydown', function (e) { if (e.target.tagName === 'SELECT') byKey = true; });
    listOptions.addEventListener('pointerdown', function () { byKey = false; });
    listOptions.addEventListener('change', function (e) {
      if (e.target.tagName !== 'SELECT' || byKey) return;
      var batchForm = document.getElementById('batch-form');
      var reasonBox = batchForm && $('textarea[name="reason"]', batchForm);
      if (batchForm && ($('input[name="task_ids"]:checked', batchForm) || (reasonBox && reasonBox.value.trim()))) return;
      if (listOptions.requestSubmit) listOptions.requestSubmit();
      else listOptions.submit();
    });
  }
})();

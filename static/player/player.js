/* Cairn's course player page (content origin): the table of contents, the module in a frame, and
 * Previous / Continue / Suspend / Exit. What may be chosen is the sequencer's answer (the state and
 * navigate endpoints); this script only shows it and passes requests on.
 *
 * The player credential comes from the URL fragment (never sent to a server), is dropped from the
 * address bar at once and kept in this closure only. Modules are ordinary launches: each SCO runs in
 * Cairn's launch page with its own launch credential, which tells this page (postMessage, same origin)
 * when the SCO terminated and what it asked for (`adl.nav.request`).
 */
(function () {
  'use strict';
  var body = document.body;
  var id = body && body.getAttribute('data-cairn-player');
  if (!id) return;
  function el(x) { return document.getElementById(x); }
  var statusEl = el('player-status');
  function say(text) { statusEl.textContent = text; }
  var m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!m) { say('This player link has no credential, or was already opened: open the course again.'); return; }
  var token = decodeURIComponent(m[1]);
  try { history.replaceState(null, '', location.pathname); } catch (e) { /* keep going */ }

  var buttons = { previous: el('nav-previous'), 'continue': el('nav-continue'), suspend: el('nav-suspend'), exit: el('nav-exit') };
  var requests = { previous: 'previous', 'continue': 'continue', suspend: 'suspendAll', exit: 'exitAll' };
  // What `adlnav:hideLMSUI` names, per button.
  var hideNames = { previous: ['previous'], 'continue': ['continue'], suspend: ['suspendAll'], exit: ['exit', 'exitAll'] };
  var frame = null;        // the module's frame
  var delivered = null;    // its URL (a launch page for SCORM, the AU for cmi5)
  var scorm = false;       // the frame runs Cairn's SCORM run-time (it answers 'end')
  var waitingEnd = null;   // resolves once the SCO told us it terminated
  var busy = false;
  var view = null;

  function call(method, path, payload) {
    return fetch('/player/' + encodeURIComponent(id) + path, {
      method: method, credentials: 'omit',
      headers: { 'Authorization': 'Bearer ' + token, 'Content-Type': 'application/json' },
      body: payload === undefined ? undefined : JSON.stringify(payload)
    }).then(function (r) {
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r.json();
    });
  }

  function statusText(s) { return s ? s : ''; }

  function renderToc(v) {
    var ol = el('toc');
    while (ol.firstChild) ol.removeChild(ol.firstChild);
    v.toc.forEach(function (t) {
      var li = document.createElement('li');
      li.className = 'depth-' + Math.min(t.depth, 5) + (t.current ? ' current' : '');
      var label = document.createElement('span');
      label.className = 'title';
      label.textContent = t.title || t.id;
      var st = document.createElement('span');
      st.className = 'st st-' + statusText(t.status).replace(/[^a-z]+/g, '-');
      st.textContent = statusText(t.status);
      if (t.leaf) {
        var b = document.createElement('button');
        b.type = 'button';
        b.className = 'toc-item';
        b.setAttribute('data-target', t.id);
        b.disabled = !t.enabled || busy;
        if (t.current) b.setAttribute('aria-current', 'step');
        b.appendChild(label);
        b.appendChild(st);
        b.addEventListener('click', function () { navigate('choice', t.id); });
        li.appendChild(b);
      } else {
        li.className += ' cluster';
        li.appendChild(label);
        if (t.status) li.appendChild(st);
      }
      ol.appendChild(li);
    });
  }

  function renderControls(v) {
    var c = v.controls || {};
    var hidden = c.hidden || [];
    Object.keys(buttons).forEach(function (k) {
      var b = buttons[k];
      b.hidden = hideNames[k].some(function (n) { return hidden.indexOf(n) >= 0; });
      b.disabled = busy || !c[k];
    });
  }

  var popup = null;        // an OwnWindow cmi5 AU's window

  function showModule(d) {
    if (frame && delivered === d.url) return;
    var stage = el('stage');
    if (frame && frame.parentNode) frame.parentNode.removeChild(frame);
    while (stage.firstChild) stage.removeChild(stage.firstChild);
    if (d.window === 'own') {
      // cmi5 OwnWindow: never framed; the learner opens it (a click, so no pop-up blocker objects).
      frame = null;
      delivered = d.url;
      var open = document.createElement('button');
      open.type = 'button';
      open.id = 'open-module';
      open.className = 'open-module';
      open.textContent = 'Open “' + (d.title || d.activity) + '” in a new window';
      open.addEventListener('click', function () { popup = window.open(d.url, 'cairn-module'); });
      stage.appendChild(open);
      return;
    }
    frame = document.createElement('iframe');
    frame.title = d.title || 'Module';
    frame.setAttribute('allowfullscreen', '');
    delivered = d.url;
    scorm = /\/launch\/[^/#?]+#token=/.test(d.url);
    frame.src = d.url;
    stage.appendChild(frame);
  }

  function closeModule() {
    var stage = el('stage');
    while (stage.firstChild) stage.removeChild(stage.firstChild);
    if (frame && frame.parentNode) frame.parentNode.removeChild(frame);
    frame = null;
    delivered = null;
    scorm = false;
  }

  function render(v) {
    view = v;
    document.title = v.title + ' – course';
    el('course-title').textContent = v.title;
    var cs = v.course_status || {};
    el('course-status').textContent = 'Course: ' + (cs.label || 'not attempted');
    body.setAttribute('data-course-status', cs.label || '');
    renderToc(v);
    renderControls(v);
    if (v.deliver) {
      showModule(v.deliver);
      say('Now: ' + (v.deliver.title || v.deliver.activity));
    } else if (!v.current) {
      closeModule();
      if (v.suspended) say('Your place is kept. Open the course again to resume where you left off.');
      else if (v.ended) say('You have left the course. Its status: ' + (cs.label || 'not attempted') + '.');
      else say('Choose a module from the contents.');
    }
    if (v.refused) say('That is not available now (' + v.refused + ').');
    body.setAttribute('data-player-ready', 'true');
  }

  function fail(e) {
    busy = false;
    say('The player could not reach Cairn (' + e.message + '). Try again, or open the course again.');
    if (view) render(view);
  }

  /** Ends the SCO being shown (it may still save what it set), then resolves. */
  function endModule(suspend) {
    if (!frame || !scorm || !frame.contentWindow) return Promise.resolve();
    return new Promise(function (resolve) {
      waitingEnd = resolve;
      frame.contentWindow.postMessage({ cairn: 'end', suspend: suspend }, location.origin);
      // A SCO that never initialised, or a run-time that is gone, must not hold the learner up.
      setTimeout(function () { if (waitingEnd === resolve) { waitingEnd = null; resolve(); } }, 10000);
    });
  }

  function navigate(request, target) {
    if (busy) return;
    busy = true;
    if (view) { renderControls(view); renderToc(view); }
    say('Please wait…');
    var ending = request === 'suspendAll' || request === 'exitAll';
    endModule(request === 'suspendAll').then(function () {
      if (ending) closeModule();
      return call('POST', '/navigate', target === undefined ? { request: request } : { request: request, target: target });
    }).then(function (v) { busy = false; render(v); }, fail);
  }

  Object.keys(buttons).forEach(function (k) {
    buttons[k].addEventListener('click', function () { navigate(requests[k]); });
  });

  window.addEventListener('message', function (ev) {
    if (ev.origin !== location.origin || !ev.data) return;
    if (popup && ev.source === popup && ev.data.cairn === 'returned') {
      popup = null;
      closeModule();
      call('GET', '/state').then(function (v) { v.current = null; render(v); }, fail);
      return;
    }
    if (!frame || ev.source !== frame.contentWindow) return;
    if (ev.data.cairn === 'terminated') {
      if (waitingEnd) { var done = waitingEnd; waitingEnd = null; done(); return; }
      if (busy) return;
      var req = ev.data.request;
      if (req && req !== '_none_') navigate(req);
      else call('GET', '/state').then(render, fail);
    } else if (ev.data.cairn === 'committed') {
      if (!busy) call('GET', '/state').then(function (v) { if (!busy) render(v); }, fail);
    } else if (ev.data.cairn === 'returned') {
      // A cmi5 AU exited to its returnURL: show what moveOn still requires.
      closeModule();
      call('GET', '/state').then(function (v) { v.current = null; render(v); }, fail);
    }
  });

  call('GET', '/state').then(function (v) {
    render(v);
    if (!v.ended || v.suspended) return call('POST', '/navigate', { request: 'open' }).then(render);
  }).catch(fail);
}());

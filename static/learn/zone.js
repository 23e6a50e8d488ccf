/* Cairn, /learn: offers the browser's time zone once, while the learner has chosen none. The page
 * works without this script (the Settings form sets the zone); the server keeps the offered zone only
 * if none is chosen by then, and it shows from the next page on. */
(function () {
  'use strict';
  var form = document.getElementById('zone-form');
  if (!form || form.getAttribute('data-chosen') !== 'false' || !window.fetch || !window.Intl) return;
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone || zone === 'UTC') return;
  var body = new URLSearchParams();
  body.set('csrf', form.elements.csrf.value);
  body.set('timezone', zone);
  body.set('auto', '1');
  fetch('/learn/timezone', { method: 'POST', body: body, credentials: 'same-origin' }).catch(function () {});
}());

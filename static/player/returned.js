/* A cmi5 AU framed by Cairn's course player exited to its returnURL: tell the player (same origin). */
(function () {
  'use strict';
  if (window.parent !== window) window.parent.postMessage({ cairn: 'returned' }, location.origin);
}());

/* A cmi5 AU played by Cairn's course player exited to its returnURL: tell the player (same origin),
 * which framed it or opened this window. */
(function () {
  'use strict';
  var player = window.parent !== window ? window.parent : window.opener;
  if (player) player.postMessage({ cairn: 'returned' }, location.origin);
}());

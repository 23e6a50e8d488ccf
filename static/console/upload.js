// Progressive upload for the console's package form: a drop zone, a progress bar while the zip
// uploads, and "Importing…" while the server imports it. Without this script the form posts as usual.
// Served from /console/assets/upload.js; the courses page's CSP allows only this origin's scripts.
(function () {
  'use strict';
  var form = document.querySelector('form[data-upload]');
  if (!form || !window.FormData || !window.XMLHttpRequest) { return; }
  var input = form.querySelector('input[type=file]');
  var zone = form.querySelector('.drop');
  var bar = form.querySelector('progress');
  var status = form.querySelector('[data-upload-status]');
  var button = form.querySelector('button[type=submit]');

  function say(text) { status.textContent = text; }

  if (zone && input) {
    ['dragenter', 'dragover'].forEach(function (type) {
      zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.add('over'); });
    });
    ['dragleave', 'drop'].forEach(function (type) {
      zone.addEventListener(type, function () { zone.classList.remove('over'); });
    });
    zone.addEventListener('drop', function (e) {
      e.preventDefault();
      if (e.dataTransfer && e.dataTransfer.files.length) {
        input.files = e.dataTransfer.files;
        say('Ready to import ' + input.files[0].name + '.');
      }
    });
  }

  form.addEventListener('submit', function (e) {
    if (!input.files.length) { return; }
    e.preventDefault();
    var xhr = new XMLHttpRequest();
    xhr.open('POST', form.action);
    bar.hidden = false;
    bar.value = 0;
    button.disabled = true;
    say('Uploading ' + input.files[0].name + '…');
    xhr.upload.addEventListener('progress', function (p) {
      if (p.lengthComputable) {
        bar.value = p.loaded / p.total;
        say('Uploading ' + input.files[0].name + ': ' + Math.floor(100 * p.loaded / p.total) + ' %');
      }
    });
    xhr.upload.addEventListener('load', function () {
      bar.removeAttribute('value');
      say('Uploaded; importing and checking the package…');
    });
    xhr.addEventListener('load', function () {
      // A successful import ends on the course's page (the server's redirect); anything else is a
      // page of ours saying what was wrong: show its main content here.
      if (xhr.status < 300 && xhr.responseURL.indexOf('/console/course?') >= 0) {
        window.location.assign(xhr.responseURL);
        return;
      }
      var page = new DOMParser().parseFromString(xhr.responseText, 'text/html');
      var main = page.querySelector('main');
      var error = main && main.querySelector('[role=alert]');
      bar.hidden = true;
      button.disabled = false;
      say(error ? error.textContent : 'The import failed (' + xhr.status + ').');
    });
    xhr.addEventListener('error', function () {
      bar.hidden = true;
      button.disabled = false;
      say('The upload failed: the connection was lost. Try again.');
    });
    xhr.send(new FormData(form));
  });
})();

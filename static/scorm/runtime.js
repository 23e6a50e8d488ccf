/* Cairn's SCORM run-time: the SCORM 1.2 (window.API) and SCORM 2004 (window.API_1484_11) API objects
 * with their CMI data models, reporting to Cairn over xAPI as ADL's xAPI SCORM profile describes.
 *
 * Plain JavaScript, no build step: Cairn serves this file as is at /static/scorm/runtime.js, and
 * node's test runner loads the same file (tests/js/). Three parts:
 *   - DataModel: every element's type, access and range, and the error codes of each version;
 *   - Api: the API functions (Initialize/LMSInitialize, …) and the session state machine around it;
 *   - the launch page glue (launch()): loads saved CMI data from the xAPI State resource, sends
 *     statements and saves the data on Commit/Terminate, and loads the SCO in a frame.
 */
(function (root, factory) {
  if (typeof module === 'object' && module.exports) module.exports = factory();
  else root.CairnScorm = factory();
}(typeof self !== 'undefined' ? self : this, function () {
  'use strict';

  // ---------------------------------------------------------------- error codes
  var ERRORS_12 = {
    0: 'No error', 101: 'General exception', 201: 'Invalid argument error', 202: 'Element cannot have children',
    203: 'Element not an array - cannot have count', 301: 'Not initialized', 401: 'Not implemented error',
    402: 'Invalid set value, element is a keyword', 403: 'Element is read only', 404: 'Element is write only',
    405: 'Incorrect data type'
  };
  var ERRORS_2004 = {
    0: 'No Error', 101: 'General Exception', 102: 'General Initialization Failure', 103: 'Already Initialized',
    104: 'Content Instance Terminated', 111: 'General Termination Failure', 112: 'Termination Before Initialization',
    113: 'Termination After Termination', 122: 'Retrieve Data Before Initialization',
    123: 'Retrieve Data After Termination', 132: 'Store Data Before Initialization',
    133: 'Store Data After Termination', 142: 'Commit Before Initialization', 143: 'Commit After Termination',
    201: 'General Argument Error', 301: 'General Get Failure', 351: 'General Set Failure',
    391: 'General Commit Failure', 401: 'Undefined Data Model Element', 402: 'Unimplemented Data Model Element',
    403: 'Data Model Element Value Not Initialized', 404: 'Data Model Element Is Read Only',
    405: 'Data Model Element Is Write Only', 406: 'Data Model Element Type Mismatch',
    407: 'Data Model Element Value Out Of Range', 408: 'Data Model Dependency Not Established'
  };

  // ---------------------------------------------------------------- types
  // A type check answers 0 (valid), 'type' (mismatch) or 'range' (well-formed but out of range).
  function re(rx) { return function (v) { return rx.test(v) ? 0 : 'type'; }; }
  function vocab(list) { return function (v) { return list.indexOf(v) >= 0 ? 0 : 'type'; }; }
  function str(max) { return function (v) { return max && v.length > max ? 'type' : 0; }; }
  var REAL = /^-?(\d+(\.\d*)?|\.\d+)$/;
  function real(min, max) {
    return function (v) {
      if (!REAL.test(v)) return 'type';
      var n = parseFloat(v);
      if ((min !== null && n < min) || (max !== null && n > max)) return 'range';
      return 0;
    };
  }
  var LANG = /^([a-zA-Z]{1,8}|i|x)(-[a-zA-Z0-9]{1,8})*$/;
  function lang(v) { return v === '' || LANG.test(v) ? 0 : 'type'; }
  function localized(max) {
    return function (v) {
      var m = /^\{lang=([^}]*)\}/.exec(v);
      if (m && !LANG.test(m[1])) return 'type';
      return str(max)(m ? v.slice(m[0].length) : v);
    };
  }
  var TIMEINTERVAL = /^P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d{1,2})?S)?)?$/;
  var TIME = /^(\d{4})(-(\d{2})(-(\d{2})(T(\d{2})(:(\d{2})(:(\d{2})(\.\d{1,2})?)?)?)?)?)?(Z|[+-]\d{2}(:\d{2})?)?$/;
  function time2004(v) {
    var m = TIME.exec(v);
    if (!m) return 'type';
    var y = +m[1], mo = m[3] ? +m[3] : 1, d = m[5] ? +m[5] : 1;
    if (y < 1970 || y > 2038 || mo < 1 || mo > 12 || d < 1 || d > 31) return 'type';
    if ((m[7] && +m[7] > 23) || (m[9] && +m[9] > 59) || (m[11] && +m[11] > 59)) return 'type';
    if (m[13] && m[13] !== 'Z' && /[+-](\d{2})/.exec(m[13])[1] > 23) return 'type';
    return 0;
  }
  var IDENT = /^\S+$/;
  function longId(v) { return v.length <= 4000 && IDENT.test(v) ? 0 : 'type'; }
  var SHORT_ID = /^[^\s[\],]+$/;
  // SCORM 2004 RTE 4.2.9: response formats per interaction type (learner_response; patterns alike).
  function response(type, v, pattern) {
    var parts;
    switch (type) {
      case 'true-false': return v === 'true' || v === 'false' ? 0 : 'type';
      case 'choice':
      case 'sequencing':
        if (v === '') return type === 'choice' ? 0 : 'type';
        parts = v.split('[,]');
        for (var i = 0; i < parts.length; i++) {
          if (!SHORT_ID.test(parts[i])) return 'type';
          if (type === 'choice' && parts.indexOf(parts[i]) !== i) return 'type';
        }
        return 0;
      case 'likert': return v === '' || SHORT_ID.test(v) ? 0 : 'type';
      case 'matching':
        parts = v.split('[,]');
        for (var j = 0; j < parts.length; j++) {
          var pair = parts[j].split('[.]');
          if (pair.length !== 2 || !SHORT_ID.test(pair[0]) || !SHORT_ID.test(pair[1])) return 'type';
        }
        return 0;
      case 'numeric':
        if (!pattern) return REAL.test(v) ? 0 : 'type';
        var range = v.split('[:]');
        if (range.length !== 2) return 'type';
        if ((range[0] !== '' && !REAL.test(range[0])) || (range[1] !== '' && !REAL.test(range[1]))) return 'type';
        if (range[0] !== '' && range[1] !== '' && parseFloat(range[0]) > parseFloat(range[1])) return 'type';
        return 0;
      default: return 0; // fill-in, long-fill-in, performance, other: free text (with optional delimiters)
    }
  }
  var TIMESPAN_12 = /^(\d{2,4}):([0-5]\d):([0-5]\d)(\.\d{1,2})?$/;
  var TIME_12 = /^([01]\d|2[0-3]):([0-5]\d):([0-5]\d)(\.\d{1,2})?$/;
  var DECIMAL_12 = /^-?\d+(\.\d+)?$/;
  function decimal12(min, max) {
    return function (v) {
      if (!DECIMAL_12.test(v)) return 'type';
      var n = parseFloat(v);
      return (min !== null && n < min) || (max !== null && n > max) ? 'type' : 0;
    };
  }
  function score12(v) { return v === '' ? 0 : decimal12(0, 100)(v); }
  function sinteger(min, max) {
    return function (v) {
      if (!/^[-+]?\d+$/.test(v)) return 'type';
      var n = parseInt(v, 10);
      return n < min || n > max ? 'type' : 0;
    };
  }
  var IDENT_12 = /^[!-~]{1,255}$/;

  // ---------------------------------------------------------------- data model definitions
  // Element patterns use `n` for a collection index. access: r (read-only), w (write-only), rw.
  // `init` names where the initial value comes from (launch data), `dflt` is a fixed initial value;
  // neither means "not initialized" (2004 error 403 on read).
  var STATUS_12 = ['passed', 'completed', 'failed', 'incomplete', 'browsed'];
  var MODEL_12 = {
    version: '1.2',
    errors: ERRORS_12,
    collections: {
      'cmi.objectives': 'id,score,status',
      'cmi.interactions': 'id,objectives,time,type,correct_responses,weighting,student_response,result,latency',
      'cmi.interactions.n.objectives': 'id',
      'cmi.interactions.n.correct_responses': 'pattern'
    },
    children: {
      'cmi.core': 'student_id,student_name,lesson_location,credit,lesson_status,entry,score,total_time,lesson_mode,exit,session_time',
      'cmi.core.score': 'raw,min,max',
      'cmi.objectives.n.score': 'raw,min,max',
      'cmi.student_data': 'mastery_score,max_time_allowed,time_limit_action',
      'cmi.student_preference': 'audio,language,speed,text'
    },
    elements: {
      'cmi._version': { access: 'r', dflt: '3.4' },
      'cmi.core.student_id': { access: 'r', init: 'learner_id' },
      'cmi.core.student_name': { access: 'r', init: 'learner_name' },
      'cmi.core.lesson_location': { access: 'rw', type: str(255), dflt: '' },
      'cmi.core.credit': { access: 'r', init: 'credit' },
      'cmi.core.lesson_status': { access: 'rw', type: vocab(STATUS_12), dflt: 'not attempted' },
      'cmi.core.entry': { access: 'r', init: 'entry' },
      'cmi.core.score.raw': { access: 'rw', type: score12, dflt: '' },
      'cmi.core.score.min': { access: 'rw', type: score12, dflt: '' },
      'cmi.core.score.max': { access: 'rw', type: score12, dflt: '' },
      'cmi.core.total_time': { access: 'r', dflt: '0000:00:00.00' },
      'cmi.core.lesson_mode': { access: 'r', init: 'mode' },
      'cmi.core.exit': { access: 'w', type: vocab(['time-out', 'suspend', 'logout', '']) },
      'cmi.core.session_time': { access: 'w', type: re(TIMESPAN_12) },
      'cmi.suspend_data': { access: 'rw', type: str(4096), dflt: '' },
      'cmi.launch_data': { access: 'r', init: 'launch_data' },
      'cmi.comments': { access: 'rw', type: str(4096), dflt: '' },
      'cmi.comments_from_lms': { access: 'r', init: 'comments_from_lms' },
      'cmi.objectives.n.id': { access: 'rw', type: re(IDENT_12) },
      'cmi.objectives.n.score.raw': { access: 'rw', type: score12, dflt: '' },
      'cmi.objectives.n.score.min': { access: 'rw', type: score12, dflt: '' },
      'cmi.objectives.n.score.max': { access: 'rw', type: score12, dflt: '' },
      'cmi.objectives.n.status': { access: 'rw', type: vocab(STATUS_12.concat(['not attempted'])), dflt: 'not attempted' },
      'cmi.student_data.mastery_score': { access: 'r', init: 'mastery_score' },
      'cmi.student_data.max_time_allowed': { access: 'r', init: 'max_time_allowed' },
      'cmi.student_data.time_limit_action': { access: 'r', init: 'time_limit_action' },
      'cmi.student_preference.audio': { access: 'rw', type: sinteger(-1, 100), dflt: '0' },
      'cmi.student_preference.language': { access: 'rw', type: str(255), dflt: '' },
      'cmi.student_preference.speed': { access: 'rw', type: sinteger(-100, 100), dflt: '0' },
      'cmi.student_preference.text': { access: 'rw', type: sinteger(-1, 1), dflt: '0' },
      'cmi.interactions.n.id': { access: 'w', type: re(IDENT_12) },
      'cmi.interactions.n.objectives.n.id': { access: 'w', type: re(IDENT_12) },
      'cmi.interactions.n.time': { access: 'w', type: re(TIME_12) },
      'cmi.interactions.n.type': {
        access: 'w',
        type: vocab(['true-false', 'choice', 'fill-in', 'matching', 'performance', 'sequencing', 'likert', 'numeric'])
      },
      'cmi.interactions.n.correct_responses.n.pattern': { access: 'w', type: str(255) },
      'cmi.interactions.n.weighting': { access: 'w', type: re(DECIMAL_12) },
      'cmi.interactions.n.student_response': { access: 'w', type: str(255) },
      'cmi.interactions.n.result': {
        access: 'w',
        type: function (v) { return ['correct', 'wrong', 'unanticipated', 'neutral'].indexOf(v) >= 0 || DECIMAL_12.test(v) ? 0 : 'type'; }
      },
      'cmi.interactions.n.latency': { access: 'w', type: re(TIMESPAN_12) }
    }
  };

  var COMPLETION = ['completed', 'incomplete', 'not attempted', 'unknown'];
  var SUCCESS = ['passed', 'failed', 'unknown'];
  var MODEL_2004 = {
    version: '2004',
    errors: ERRORS_2004,
    collections: {
      'cmi.comments_from_learner': 'comment,location,timestamp',
      'cmi.comments_from_lms': 'comment,location,timestamp',
      'cmi.interactions': 'id,type,objectives,timestamp,correct_responses,weighting,learner_response,result,latency,description',
      'cmi.interactions.n.objectives': 'id',
      'cmi.interactions.n.correct_responses': 'pattern',
      'cmi.objectives': 'id,score,success_status,completion_status,progress_measure,description'
    },
    children: {
      'cmi.learner_preference': 'audio_level,language,delivery_speed,audio_captioning',
      'cmi.score': 'scaled,raw,min,max',
      'cmi.objectives.n.score': 'scaled,raw,min,max'
    },
    elements: {
      'cmi._version': { access: 'r', dflt: '1.0' },
      'cmi.comments_from_learner.n.comment': { access: 'rw', type: localized(4000) },
      'cmi.comments_from_learner.n.location': { access: 'rw', type: str(250) },
      'cmi.comments_from_learner.n.timestamp': { access: 'rw', type: time2004 },
      'cmi.comments_from_lms.n.comment': { access: 'r' },
      'cmi.comments_from_lms.n.location': { access: 'r' },
      'cmi.comments_from_lms.n.timestamp': { access: 'r' },
      'cmi.completion_status': { access: 'rw', type: vocab(COMPLETION), dflt: 'unknown' },
      'cmi.completion_threshold': { access: 'r', init: 'completion_threshold' },
      'cmi.credit': { access: 'r', init: 'credit' },
      'cmi.entry': { access: 'r', init: 'entry' },
      'cmi.exit': { access: 'w', type: vocab(['time-out', 'suspend', 'logout', 'normal', '']) },
      'cmi.interactions.n.id': { access: 'rw', type: longId },
      'cmi.interactions.n.type': {
        access: 'rw',
        type: vocab(['true-false', 'choice', 'fill-in', 'long-fill-in', 'likert', 'matching', 'performance', 'sequencing', 'numeric', 'other'])
      },
      'cmi.interactions.n.objectives.n.id': { access: 'rw', type: longId },
      'cmi.interactions.n.timestamp': { access: 'rw', type: time2004 },
      'cmi.interactions.n.correct_responses.n.pattern': { access: 'rw' },
      'cmi.interactions.n.weighting': { access: 'rw', type: real(null, null) },
      'cmi.interactions.n.learner_response': { access: 'rw' },
      'cmi.interactions.n.result': {
        access: 'rw',
        type: function (v) { return ['correct', 'incorrect', 'unanticipated', 'neutral'].indexOf(v) >= 0 || REAL.test(v) ? 0 : 'type'; }
      },
      'cmi.interactions.n.latency': { access: 'rw', type: re(TIMEINTERVAL) },
      'cmi.interactions.n.description': { access: 'rw', type: localized(250) },
      'cmi.launch_data': { access: 'r', init: 'launch_data' },
      'cmi.learner_id': { access: 'r', init: 'learner_id' },
      'cmi.learner_name': { access: 'r', init: 'learner_name' },
      'cmi.learner_preference.audio_level': { access: 'rw', type: real(0, null), dflt: '1' },
      'cmi.learner_preference.language': { access: 'rw', type: lang, dflt: '' },
      'cmi.learner_preference.delivery_speed': { access: 'rw', type: real(0, null), dflt: '1' },
      'cmi.learner_preference.audio_captioning': { access: 'rw', type: vocab(['-1', '0', '1']), dflt: '0' },
      'cmi.location': { access: 'rw', type: str(1000) },
      'cmi.max_time_allowed': { access: 'r', init: 'max_time_allowed' },
      'cmi.mode': { access: 'r', init: 'mode' },
      'cmi.objectives.n.id': { access: 'rw', type: longId },
      'cmi.objectives.n.score.scaled': { access: 'rw', type: real(-1, 1) },
      'cmi.objectives.n.score.raw': { access: 'rw', type: real(null, null) },
      'cmi.objectives.n.score.min': { access: 'rw', type: real(null, null) },
      'cmi.objectives.n.score.max': { access: 'rw', type: real(null, null) },
      'cmi.objectives.n.success_status': { access: 'rw', type: vocab(SUCCESS), dflt: 'unknown' },
      'cmi.objectives.n.completion_status': { access: 'rw', type: vocab(COMPLETION), dflt: 'unknown' },
      'cmi.objectives.n.progress_measure': { access: 'rw', type: real(0, 1) },
      'cmi.objectives.n.description': { access: 'rw', type: localized(250) },
      'cmi.progress_measure': { access: 'rw', type: real(0, 1) },
      'cmi.scaled_passing_score': { access: 'r', init: 'scaled_passing_score' },
      'cmi.score.scaled': { access: 'rw', type: real(-1, 1) },
      'cmi.score.raw': { access: 'rw', type: real(null, null) },
      'cmi.score.min': { access: 'rw', type: real(null, null) },
      'cmi.score.max': { access: 'rw', type: real(null, null) },
      'cmi.session_time': { access: 'w', type: re(TIMEINTERVAL) },
      'cmi.success_status': { access: 'rw', type: vocab(SUCCESS), dflt: 'unknown' },
      'cmi.suspend_data': { access: 'rw', type: str(64000) },
      'cmi.time_limit_action': { access: 'r', init: 'time_limit_action' },
      'cmi.total_time': { access: 'r', dflt: 'PT0H0M0S' },
      'adl.nav.request': {
        access: 'rw',
        dflt: '_none_',
        type: function (v) {
          return /^(continue|previous|exit|exitAll|abandon|abandonAll|suspendAll|_none_)$/.test(v) ||
            /^\{target=[^}]+\}(choice|jump)$/.test(v) ? 0 : 'type';
        }
      },
      'adl.nav.request_valid.continue': { access: 'r', dflt: 'unknown' },
      'adl.nav.request_valid.previous': { access: 'r', dflt: 'unknown' }
    }
  };

  // ---------------------------------------------------------------- the data model
  /** One SCO's CMI data: `values` maps concrete element paths to strings; `counts` holds collection sizes. */
  function DataModel(model, init, saved) {
    this.model = model;
    this.init = init || {};
    this.values = {};
    this.counts = {};
    if (saved) {
      this.values = JSON.parse(JSON.stringify(saved.values || {}));
      this.counts = JSON.parse(JSON.stringify(saved.counts || {}));
      // What belongs to the last session only starts empty again.
      ['cmi.core.exit', 'cmi.core.session_time', 'cmi.exit', 'cmi.session_time', 'adl.nav.request'].forEach(function (k) {
        delete this.values[k];
      }, this);
    }
    // Read-only values from the launch always win over saved ones.
    var els = model.elements;
    for (var p in els) {
      if (els[p].init && this.init[els[p].init] !== undefined && this.init[els[p].init] !== null) {
        this.values[p] = String(this.init[els[p].init]);
      }
    }
    var lms = this.init.comments_from_lms;
    if (model.version === '2004' && lms && typeof lms === 'object' && lms.length !== undefined) {
      for (var i = 0; i < lms.length; i++) {
        this.values['cmi.comments_from_lms.' + i + '.comment'] = lms[i].comment || '';
        this.values['cmi.comments_from_lms.' + i + '.location'] = lms[i].location || '';
        this.values['cmi.comments_from_lms.' + i + '.timestamp'] = lms[i].timestamp || '';
      }
      this.counts['cmi.comments_from_lms'] = lms.length;
      delete this.values['cmi.comments_from_lms'];
    }
  }

  /** Splits a path into its pattern (`cmi.objectives.n.id`) and the collection prefixes it indexes. */
  DataModel.prototype.parse = function (path) {
    var segs = path.split('.');
    var pattern = [];
    var indexes = []; // [{collection: concrete prefix, index: n}]
    for (var i = 0; i < segs.length; i++) {
      if (/^\d+$/.test(segs[i]) && i > 0) {
        var coll = segs.slice(0, i).join('.');
        indexes.push({ collection: coll, pattern: pattern.join('.'), index: parseInt(segs[i], 10) });
        pattern.push('n');
      } else {
        pattern.push(segs[i]);
      }
    }
    return { pattern: pattern.join('.'), indexes: indexes };
  };

  DataModel.prototype.count = function (collection) { return this.counts[collection] || 0; };

  DataModel.prototype.isElementOrParent = function (pattern) {
    if (this.model.elements[pattern] || this.model.collections[pattern] || this.model.children[pattern]) return true;
    for (var p in this.model.elements) if (p.indexOf(pattern + '.') === 0) return true;
    return false;
  };

  /** The value of an element that has no explicit value: 2004's evaluated statuses, defaults. */
  DataModel.prototype.implicit = function (pattern, path) {
    var el = this.model.elements[pattern];
    if (this.model.version === '2004') {
      if (path === 'cmi.completion_status') {
        var threshold = this.values['cmi.completion_threshold'];
        var progress = this.values['cmi.progress_measure'];
        if (threshold !== undefined && threshold !== '') {
          if (progress === undefined) return 'unknown';
          return parseFloat(progress) >= parseFloat(threshold) ? 'completed' : 'incomplete';
        }
      }
      if (path === 'cmi.success_status') {
        var passing = this.values['cmi.scaled_passing_score'];
        var scaled = this.values['cmi.score.scaled'];
        if (passing !== undefined && passing !== '') {
          if (scaled === undefined) return 'unknown';
          return parseFloat(scaled) >= parseFloat(passing) ? 'passed' : 'failed';
        }
      }
    }
    if (this.values[path] !== undefined) return this.values[path];
    return el && el.dflt !== undefined ? el.dflt : undefined;
  };

  /** GetValue: [value, error code, diagnostic]. */
  DataModel.prototype.get = function (path) {
    var v12 = this.model.version === '1.2';
    if (typeof path !== 'string' || path === '') return ['', v12 ? 201 : 301, 'no element named'];
    var keyword = /\._(children|count|version)$/.exec(path);
    if (keyword && keyword[1] !== 'version') {
      var base = this.parse(path.slice(0, -keyword[0].length));
      var known = this.isElementOrParent(base.pattern);
      if (keyword[1] === 'children') {
        var kids = this.model.children[base.pattern] || this.model.collections[base.pattern];
        if (kids) return [kids, 0, ''];
        return ['', known ? (v12 ? 202 : 301) : (v12 ? 201 : 401), base.pattern + ' has no children'];
      }
      if (this.model.collections[base.pattern]) {
        var bad = this.indexError(base.indexes, false);
        if (bad) return ['', bad, 'index out of range'];
        return [String(this.count(path.slice(0, -7))), 0, ''];
      }
      return ['', known ? (v12 ? 203 : 301) : (v12 ? 201 : 401), base.pattern + ' is not a collection'];
    }
    var navValid = !v12 && /^adl\.nav\.request_valid\.(choice|jump)\.\{target=([^}]+)\}$/.exec(path);
    if (navValid) {
      // Played by Cairn's course player, its sequencer answered (`nav`); launched alone, no sequencer
      // runs, so whether a choice or jump would be valid is unknown.
      var known = this.nav && this.nav[navValid[1]];
      if (!known) return ['unknown', 0, ''];
      return [known[navValid[2]] ? 'true' : 'false', 0, ''];
    }
    if (!v12 && this.nav && (path === 'adl.nav.request_valid.continue' || path === 'adl.nav.request_valid.previous')) {
      return [this.nav[path.slice(22)] ? 'true' : 'false', 0, ''];
    }
    var p = this.parse(path);
    var el = this.model.elements[p.pattern];
    if (!el) return ['', v12 ? 201 : 401, path + ' is not a data model element'];
    if (el.access === 'w') return ['', v12 ? 404 : 405, path + ' is write-only'];
    var e = this.indexError(p.indexes, false);
    if (e) return ['', e, 'collection index out of range'];
    var value = this.implicit(p.pattern, path);
    if (value === undefined) {
      if (v12) return ['', 0, ''];
      return ['', 403, path + ' has not been set'];
    }
    return [value, 0, ''];
  };

  /** Checks collection indexes: reading needs them in range; writing may also append (n == count). */
  DataModel.prototype.indexError = function (indexes, writing) {
    var v12 = this.model.version === '1.2';
    for (var i = 0; i < indexes.length; i++) {
      var c = this.count(indexes[i].collection);
      var last = i === indexes.length - 1;
      if (indexes[i].index > c || (indexes[i].index === c && (!writing || !last))) {
        return v12 ? 201 : (writing ? 351 : 301);
      }
    }
    return 0;
  };

  /** SetValue: [error code, diagnostic]. */
  DataModel.prototype.set = function (path, value) {
    var v12 = this.model.version === '1.2';
    if (typeof path !== 'string' || path === '') return [v12 ? 201 : 351, 'no element named'];
    if (/\._(children|count|version)$/.test(path)) return [v12 ? 402 : 404, path + ' is a keyword'];
    value = value === undefined || value === null ? '' : String(value);
    var p = this.parse(path);
    var el = this.model.elements[p.pattern];
    if (!el) return [v12 ? 201 : 401, path + ' is not a data model element'];
    if (el.access === 'r') return [v12 ? 403 : 404, path + ' is read-only'];
    var e = this.indexError(p.indexes, true);
    if (e) return [e, 'collection index out of range'];
    var last = p.indexes[p.indexes.length - 1];
    var appending = last && last.index === this.count(last.collection);
    var field = p.pattern.slice(last ? last.pattern.length + 3 : 0);
    // A new objective or interaction starts with its id (2004 RTE 4.1.7: dependency not established).
    if (!v12 && appending && (last.pattern === 'cmi.objectives' || last.pattern === 'cmi.interactions') && field !== 'id') {
      return [408, 'set ' + last.collection + '.' + last.index + '.id first'];
    }
    if (el.type) {
      var t = el.type(value);
      if (t) return [v12 ? 405 : (t === 'range' ? 407 : 406), 'bad value for ' + p.pattern + ': ' + JSON.stringify(value)];
    }
    if (!v12) {
      var dep = this.dependency2004(p, path, value);
      if (dep) return dep;
    }
    if (v12 && p.pattern === 'cmi.comments') value = (this.values[path] || '') + value;
    if (v12 && value.length > 4096 && p.pattern === 'cmi.comments') return [405, 'cmi.comments is limited to 4096 characters'];
    if (appending) this.counts[last.collection] = last.index + 1;
    this.values[path] = value;
    return [0, ''];
  };

  /** SCORM 2004 cross-element rules: unique objective ids, interaction type before responses. */
  DataModel.prototype.dependency2004 = function (p, path, value) {
    var segs = path.split('.');
    if (p.pattern === 'cmi.objectives.n.id' || p.pattern === 'cmi.interactions.n.objectives.n.id') {
      var coll = segs.slice(0, -2).join('.');
      var idx = parseInt(segs[segs.length - 2], 10);
      var current = this.values[path];
      if (p.pattern === 'cmi.objectives.n.id' && current !== undefined && current !== value) {
        return [351, 'an objective id cannot be changed once set'];
      }
      for (var i = 0; i < this.count(coll); i++) {
        if (i !== idx && this.values[coll + '.' + i + '.id'] === value) return [351, 'objective id ' + value + ' is already used'];
      }
    }
    if (p.pattern === 'cmi.interactions.n.learner_response' || p.pattern === 'cmi.interactions.n.correct_responses.n.pattern') {
      var base = segs.slice(0, 3).join('.');
      var type = this.values[base + '.type'];
      if (type === undefined) return [408, 'set ' + base + '.type first'];
      if (response(type, value, p.pattern !== 'cmi.interactions.n.learner_response')) {
        return [406, 'not a ' + type + ' response: ' + JSON.stringify(value)];
      }
      if (p.pattern === 'cmi.interactions.n.correct_responses.n.pattern') {
        // 2004 RTE 4.2.9.1: how many correct response patterns each type may have, each one different.
        var rc = base + '.correct_responses';
        var m = parseInt(segs[4], 10);
        if (m >= (PATTERN_LIMITS[type] || 1)) return [351, 'a ' + type + ' interaction has at most ' + (PATTERN_LIMITS[type] || 1) + ' correct response pattern(s)'];
        for (var j = 0; j < this.count(rc); j++) {
          if (j !== m && this.values[rc + '.' + j + '.pattern'] === value) return [351, 'this correct response pattern is already set'];
        }
      }
    }
    return null;
  };

  // Smallest permitted maximum of correct response patterns per interaction type (2004 RTE 4.2.9.1).
  var PATTERN_LIMITS = {
    'true-false': 1, 'likert': 1, 'numeric': 1, 'other': 1,
    'choice': 10, 'fill-in': 5, 'long-fill-in': 5, 'matching': 5, 'performance': 5, 'sequencing': 5
  };

  /** What is kept between sessions. */
  DataModel.prototype.snapshot = function () {
    return { values: JSON.parse(JSON.stringify(this.values)), counts: JSON.parse(JSON.stringify(this.counts)) };
  };

  // ---------------------------------------------------------------- time helpers
  /** Seconds in a SCORM 1.2 timespan (HHHH:MM:SS.SS) or an ISO 8601 duration. */
  function seconds(t) {
    if (!t) return 0;
    var m = TIMESPAN_12.exec(t);
    if (m) return +m[1] * 3600 + +m[2] * 60 + +m[3] + (m[4] ? parseFloat(m[4]) : 0);
    m = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(t);
    if (!m) return 0;
    return (+(m[1] || 0)) * 31536000 + (+(m[2] || 0)) * 2592000 + (+(m[3] || 0)) * 86400 +
      (+(m[4] || 0)) * 3600 + (+(m[5] || 0)) * 60 + parseFloat(m[6] || 0);
  }
  function iso(s) {
    var cs = Math.round(s * 100);
    var h = Math.floor(cs / 360000), mi = Math.floor((cs % 360000) / 6000), sec = (cs % 6000) / 100;
    return 'PT' + h + 'H' + mi + 'M' + sec + 'S';
  }
  function timespan12(s) {
    var cs = Math.round(s * 100);
    var h = Math.floor(cs / 360000), mi = Math.floor((cs % 360000) / 6000), sec = (cs % 6000) / 100;
    function pad(n, w) { n = String(n); while (n.length < w) n = '0' + n; return n; }
    return pad(h, 4) + ':' + pad(mi, 2) + ':' + pad(Math.floor(sec), 2) + '.' + pad(Math.round((sec % 1) * 100), 2);
  }

  // ---------------------------------------------------------------- the API objects
  /**
   * The session around a data model: the API functions, the error state, and the events (`initialized`,
   * `commit`, `terminated`) handed to `reporter`, which turns them into xAPI (see launch()).
   */
  function Session(version, init, saved, reporter) {
    this.v12 = version === '1.2';
    this.model = new DataModel(this.v12 ? MODEL_12 : MODEL_2004, init, saved);
    this.state = 'not initialized';
    this.error = 0;
    this.diagnostic = '';
    this.reporter = reporter || { initialize: function () {}, commit: function () { return true; }, terminate: function () { return true; } };
    this.started = null;
  }

  Session.prototype.ok = function () { this.error = 0; this.diagnostic = ''; return 'true'; };
  Session.prototype.fail = function (code, diag) { this.error = code; this.diagnostic = diag || ''; return 'false'; };

  Session.prototype.initialize = function (arg) {
    if (arg !== '' && arg !== undefined) return this.fail(201, 'the argument must be ""');
    if (this.state === 'running') return this.fail(this.v12 ? 101 : 103, 'already initialized');
    if (this.state === 'terminated') return this.fail(this.v12 ? 101 : 104, 'already terminated');
    this.state = 'running';
    this.started = Date.now();
    this.reporter.initialize(this);
    return this.ok();
  };

  Session.prototype.terminate = function (arg) {
    if (arg !== '' && arg !== undefined) return this.fail(201, 'the argument must be ""');
    if (this.state === 'not initialized') return this.fail(this.v12 ? 301 : 112, 'not initialized');
    if (this.state === 'terminated') return this.fail(this.v12 ? 101 : 113, 'already terminated');
    this.finish();
    this.state = 'terminated';
    return this.reporter.terminate(this) === false ? this.fail(this.v12 ? 101 : 111, 'could not save') : this.ok();
  };

  Session.prototype.getValue = function (path) {
    if (this.state !== 'running') {
      this.fail(this.v12 ? 301 : (this.state === 'terminated' ? 123 : 122), 'not running');
      return '';
    }
    var r = this.model.get(path);
    if (r[1]) this.fail(r[1], r[2]); else this.ok();
    return r[0];
  };

  Session.prototype.setValue = function (path, value) {
    if (this.state !== 'running') return this.fail(this.v12 ? 301 : (this.state === 'terminated' ? 133 : 132), 'not running');
    var r = this.model.set(path, value);
    return r[0] ? this.fail(r[0], r[1]) : this.ok();
  };

  Session.prototype.commit = function (arg) {
    if (arg !== '' && arg !== undefined) return this.fail(201, 'the argument must be ""');
    if (this.state !== 'running') return this.fail(this.v12 ? 301 : (this.state === 'terminated' ? 143 : 142), 'not running');
    return this.reporter.commit(this) === false ? this.fail(this.v12 ? 101 : 391, 'could not save') : this.ok();
  };

  Session.prototype.errorString = function (code) {
    var s = this.model.model.errors[parseInt(code, 10)];
    return s === undefined ? '' : s;
  };

  /** The end of a session: total time, and the statuses the LMS decides (1.2 masteryscore; 2004 eval). */
  Session.prototype.finish = function () {
    var m = this.model, vals = m.values;
    var session = this.v12 ? vals['cmi.core.session_time'] : vals['cmi.session_time'];
    var sessionSeconds = session !== undefined ? seconds(session) : (Date.now() - (this.started || Date.now())) / 1000;
    this.sessionSeconds = sessionSeconds;
    if (this.v12) {
      var total = seconds(vals['cmi.core.total_time']) + sessionSeconds;
      vals['cmi.core.total_time'] = timespan12(total);
      var status = m.implicit('cmi.core.lesson_status', 'cmi.core.lesson_status');
      var mastery = vals['cmi.student_data.mastery_score'];
      var raw = vals['cmi.core.score.raw'];
      if (vals['cmi.core.credit'] === 'credit' && mastery !== undefined && mastery !== '' && raw !== undefined && raw !== '') {
        vals['cmi.core.lesson_status'] = parseFloat(raw) >= parseFloat(mastery) ? 'passed' : 'failed';
      } else if (status === 'not attempted') {
        vals['cmi.core.lesson_status'] = vals['cmi.core.lesson_mode'] === 'browse' ? 'browsed' : 'completed';
      }
      this.exit = vals['cmi.core.exit'] || '';
    } else {
      vals['cmi.total_time'] = iso(seconds(vals['cmi.total_time']) + sessionSeconds);
      this.exit = vals['cmi.exit'] || '';
    }
  };

  /** The SCORM-level outcome for reporting: completion, success, score. */
  Session.prototype.outcome = function () {
    var m = this.model;
    var o = {};
    var score = {};
    function num(v) { return v === undefined || v === '' ? undefined : parseFloat(v); }
    if (this.v12) {
      var s = m.implicit('cmi.core.lesson_status', 'cmi.core.lesson_status');
      if (s === 'completed' || s === 'passed' || s === 'failed') o.completion = true;
      else if (s === 'incomplete') o.completion = false;
      if (s === 'passed') o.success = true;
      if (s === 'failed') o.success = false;
      score.raw = num(m.values['cmi.core.score.raw']);
      score.min = num(m.values['cmi.core.score.min']);
      score.max = num(m.values['cmi.core.score.max']);
      if (score.raw !== undefined) {
        var lo = score.min !== undefined ? score.min : 0, hi = score.max !== undefined ? score.max : 100;
        if (hi > lo) score.scaled = Math.max(-1, Math.min(1, Math.round(((score.raw - lo) / (hi - lo)) * 10000) / 10000));
      }
    } else {
      var c = m.implicit('cmi.completion_status', 'cmi.completion_status');
      if (c === 'completed') o.completion = true;
      else if (c === 'incomplete') o.completion = false;
      var su = m.implicit('cmi.success_status', 'cmi.success_status');
      if (su === 'passed') o.success = true;
      else if (su === 'failed') o.success = false;
      score.scaled = num(m.values['cmi.score.scaled']);
      score.raw = num(m.values['cmi.score.raw']);
      score.min = num(m.values['cmi.score.min']);
      score.max = num(m.values['cmi.score.max']);
      // The progress measure rolls up to clusters (completion by measure, progress weights): the
      // results' replay of the sequencer's rollup reads it from the statements.
      var pm = num(m.values['cmi.progress_measure']);
      if (pm !== undefined) { o.extensions = {}; o.extensions[PROGRESS_MEASURE] = pm; }
    }
    for (var k in score) if (score[k] === undefined) delete score[k];
    // xAPI wants raw within min..max; drop what would make the statement invalid rather than lose it.
    if (score.raw !== undefined && ((score.min !== undefined && score.raw < score.min) || (score.max !== undefined && score.raw > score.max))) {
      delete score.min; delete score.max;
    }
    if (Object.keys(score).length) o.score = score;
    return o;
  };

  /** The API object a SCO finds: `window.API` (1.2) or `window.API_1484_11` (2004). */
  function api(session) {
    if (session.v12) {
      return {
        LMSInitialize: function (a) { return session.initialize(a); },
        LMSFinish: function (a) { return session.terminate(a); },
        LMSGetValue: function (e) { return session.getValue(e); },
        LMSSetValue: function (e, v) { return session.setValue(e, v); },
        LMSCommit: function (a) { return session.commit(a); },
        LMSGetLastError: function () { return String(session.error); },
        LMSGetErrorString: function (c) { return session.errorString(c); },
        LMSGetDiagnostic: function (c) { return c === undefined || c === '' || String(c) === String(session.error) ? session.diagnostic : session.errorString(c); }
      };
    }
    return {
      version: '1.0',
      Initialize: function (a) { return session.initialize(a); },
      Terminate: function (a) { return session.terminate(a); },
      GetValue: function (e) { return session.getValue(e); },
      SetValue: function (e, v) { return session.setValue(e, v); },
      Commit: function (a) { return session.commit(a); },
      GetLastError: function () { return String(session.error); },
      GetErrorString: function (c) { return session.errorString(c); },
      GetDiagnostic: function (c) { return c === undefined || c === '' || String(c) === String(session.error) ? session.diagnostic : session.errorString(c); }
    };
  }

  // ---------------------------------------------------------------- xAPI reporting (ADL xAPI SCORM profile)
  var VERB = 'http://adlnet.gov/expapi/verbs/';
  var ATTEMPT_STATE = 'https://w3id.org/xapi/scorm/attempt-state';
  var ACTIVITY_STATE = 'https://w3id.org/xapi/scorm/activity-state';
  var PROGRESS_MEASURE = 'https://w3id.org/xapi/scorm/result/extensions/progress_measure';

  function uuid() {
    if (typeof crypto !== 'undefined' && crypto.randomUUID) return crypto.randomUUID();
    return 'xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx'.replace(/[xy]/g, function (c) {
      var r = Math.random() * 16 | 0;
      return (c === 'x' ? r : (r & 3 | 8)).toString(16);
    });
  }

  /**
   * Turns session events into statements and State writes, handed to `send(requests)`; each request is
   * {method, path, body}. Statements follow the profile: the SCO as a lesson activity, the course and
   * the attempt (the registration) in grouping, the profile in category.
   */
  function Reporter(cfg, send) {
    this.cfg = cfg;
    this.send = send;
    this.reported = {};
  }

  Reporter.prototype.statement = function (verb, result) {
    var c = this.cfg;
    var s = {
      id: uuid(),
      actor: c.actor,
      verb: { id: VERB + verb, display: { 'en-US': verb } },
      object: { objectType: 'Activity', id: c.activity_id, definition: { type: 'http://adlnet.gov/expapi/activities/lesson', name: { 'en-US': c.title || c.activity_id } } },
      context: {
        registration: c.registration,
        contextActivities: {
          grouping: [
            { id: c.course_id, definition: { type: 'http://adlnet.gov/expapi/activities/course', name: { 'en-US': c.course_title || c.course_id } } },
            { id: c.activity_id + '?attemptId=' + c.registration, definition: { type: 'http://adlnet.gov/expapi/activities/attempt' } }
          ],
          category: [{ id: 'https://w3id.org/xapi/scorm' }]
        }
      },
      timestamp: new Date().toISOString()
    };
    if (result && Object.keys(result).length) s.result = result;
    return s;
  };

  Reporter.prototype.stateRequest = function (stateId, body, withRegistration) {
    var c = this.cfg;
    var q = 'activityId=' + encodeURIComponent(c.activity_id) + '&agent=' + encodeURIComponent(JSON.stringify(c.actor)) +
      '&stateId=' + encodeURIComponent(stateId);
    if (withRegistration) q += '&registration=' + c.registration;
    return { method: 'PUT', path: 'activities/state?' + q, body: body };
  };

  Reporter.prototype.initialize = function (session) {
    var resumed = session.model.values[session.v12 ? 'cmi.core.entry' : 'cmi.entry'] === 'resume';
    var reqs = [{ method: 'POST', path: 'statements', body: [this.statement(resumed ? 'resumed' : 'initialized')] }];
    if (!resumed) {
      var attempts = (this.cfg.attempts || []).concat([this.cfg.activity_id + '?attemptId=' + this.cfg.registration]);
      reqs.push(this.stateRequest(ACTIVITY_STATE, { attempts: attempts }, false));
    }
    this.send(reqs);
  };

  /** Statements for what changed since the last report: completed, passed/failed, scored. */
  Reporter.prototype.changes = function (session) {
    var o = session.outcome();
    var out = [];
    if (o.completion === true && !this.reported.completed) {
      this.reported.completed = true;
      out.push(this.statement('completed', { completion: true }));
    }
    if (o.success !== undefined && this.reported.success !== o.success) {
      this.reported.success = o.success;
      out.push(this.statement(o.success ? 'passed' : 'failed', o.score ? { success: o.success, score: o.score } : { success: o.success }));
    }
    var sc = o.score ? JSON.stringify(o.score) : undefined;
    if (sc && this.reported.score !== sc) {
      this.reported.score = sc;
      out.push(this.statement('scored', { score: o.score }));
    }
    var pm = o.extensions ? o.extensions[PROGRESS_MEASURE] : undefined;
    if (pm !== undefined && this.reported.progress !== pm) {
      this.reported.progress = pm;
      var ext = {};
      ext[PROGRESS_MEASURE] = pm;
      out.push(this.statement('progressed', { extensions: ext }));
    }
    return out;
  };

  Reporter.prototype.saveState = function (session) {
    var m = session.model, v = m.values, v12 = session.v12;
    var body = {
      credit: v[v12 ? 'cmi.core.credit' : 'cmi.credit'],
      mode: v[v12 ? 'cmi.core.lesson_mode' : 'cmi.mode'],
      location: v[v12 ? 'cmi.core.lesson_location' : 'cmi.location'],
      total_time: v[v12 ? 'cmi.core.total_time' : 'cmi.total_time'],
      cmi: m.snapshot(),
      // What was already reported, so a resumed attempt does not report it again.
      reported: this.reported
    };
    return this.stateRequest(ATTEMPT_STATE, body, true);
  };

  Reporter.prototype.commit = function (session) {
    // The data is saved before the statements report it, so whoever sees a statement finds the data.
    var st = this.changes(session);
    var reqs = [this.saveState(session)];
    if (st.length) reqs.push({ method: 'POST', path: 'statements', body: st });
    return this.send(reqs);
  };

  Reporter.prototype.terminate = function (session) {
    var st = this.changes(session);
    var o = session.outcome();
    o.duration = iso(session.sessionSeconds || 0);
    st.push(this.statement(session.exit === 'suspend' ? 'suspended' : 'terminated', o));
    return this.send([this.saveState(session), { method: 'POST', path: 'statements', body: st }]);
  };

  // ---------------------------------------------------------------- the launch page
  /** An xAPI client for the launch credential: requests run one after another, in order. */
  function Transport(endpoint, auth, onIdle) {
    this.endpoint = endpoint;
    this.auth = auth;
    this.queue = Promise.resolve();
    this.pending = 0;
    this.failed = 0;
    this.onIdle = onIdle || function () {};
  }

  Transport.prototype.request = function (r) {
    var body = r.body === undefined ? undefined : JSON.stringify(r.body);
    return fetch(this.endpoint + r.path, {
      method: r.method,
      credentials: 'omit',
      headers: { 'Authorization': this.auth, 'X-Experience-API-Version': '1.0.3', 'Content-Type': 'application/json' },
      body: body,
      keepalive: body !== undefined && body.length < 60000
    });
  };

  Transport.prototype.send = function (reqs) {
    var self = this;
    self.pending += 1;
    self.queue = self.queue.then(function () {
      return reqs.reduce(function (p, r) {
        return p.then(function () {
          return self.request(r).then(function (resp) {
            if (!resp.ok) { self.failed += 1; if (typeof console !== 'undefined') console.error('Cairn: ' + r.method + ' ' + r.path + ' -> ' + resp.status); }
          });
        });
      }, Promise.resolve());
    }).catch(function (e) { self.failed += 1; if (typeof console !== 'undefined') console.error('Cairn: ' + e); })
      .then(function () { self.pending -= 1; if (!self.pending) self.onIdle(self); });
    return true;
  };

  Transport.prototype.get = function (path) {
    return fetch(this.endpoint + path, { credentials: 'omit', headers: { 'Authorization': this.auth, 'X-Experience-API-Version': '1.0.3' } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .catch(function () { return null; });
  };

  /**
   * Runs on Cairn's launch page (content origin): the credential comes from the URL fragment, which no
   * server ever sees, is dropped from the address bar at once and kept in this closure only (never in
   * storage another page of the origin could read); with it, the page asks for its configuration, then
   * provides the API and loads the SCO.
   */
  function start(doc) {
    var id = doc.body.getAttribute('data-cairn-launch');
    var status = doc.getElementById('cairn-status');
    var say = function (text) { if (status) status.textContent = text; };
    var m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
    if (!m) { say('This launch link has no credential, or was already opened: launch the course again.'); return; }
    var token = decodeURIComponent(m[1]);
    try { history.replaceState(null, '', location.pathname); } catch (e) { /* keep going */ }
    fetch('/launch/' + encodeURIComponent(id) + '/runtime', { headers: { 'Authorization': 'Basic ' + token }, credentials: 'omit' })
      .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
      .then(function (cfg) {
        if (status) status.parentNode.removeChild(status);
        if (cfg.title) doc.title = cfg.title;
        launch(cfg, token);
      })
      .catch(function () { say('This launch has ended or its link is no longer valid: launch the course again.'); });
  }

  /** Provides the API for one launch (`cfg` from the launch's run-time configuration) and loads the SCO. */
  function launch(cfg, token) {
    var transport = new Transport(cfg.endpoint, 'Basic ' + token, function (t) {
      document.documentElement.setAttribute('data-cairn-idle', t.failed ? 'failed' : 'ok');
    });
    var agent = encodeURIComponent(JSON.stringify(cfg.actor));
    var act = encodeURIComponent(cfg.activity_id);
    var attemptPath = 'activities/state?activityId=' + act + '&agent=' + agent + '&registration=' + cfg.registration +
      '&stateId=' + encodeURIComponent(ATTEMPT_STATE);
    var activityPath = 'activities/state?activityId=' + act + '&agent=' + agent + '&stateId=' + encodeURIComponent(ACTIVITY_STATE);
    Promise.all([cfg.entry === 'resume' ? transport.get(attemptPath) : null, transport.get(activityPath)]).then(function (got) {
      var saved = got[0] && got[0].cmi;
      cfg.attempts = (got[1] && got[1].attempts) || [];
      var init = Object.assign({}, cfg.init);
      var reporter = new Reporter(cfg, function (r) { return transport.send(r); });
      reporter.reported = (got[0] && got[0].reported) || {};
      var session = new Session(cfg.version, init, saved, reporter);
      window.CairnSession = session;
      if (cfg.version === '1.2') window.API = api(session); else window.API_1484_11 = api(session);
      var frame = document.createElement('iframe');
      frame.src = cfg.sco_url;
      frame.title = cfg.title || 'course';
      frame.setAttribute('allowfullscreen', '');
      if (cfg.player) playerGlue(cfg, token, session, reporter, transport, frame);
      document.body.appendChild(frame);
      // A learner closing the window without Terminate: end the session the way the SCO left it.
      window.addEventListener('pagehide', function () { if (session.state === 'running') session.terminate(''); });
    });
  }

  /** What the SCO set, for the course player's sequencer (`final`: at Terminate, with exit and time). */
  function playerReport(session, final) {
    var m = session.model, v = m.values;
    function num(x) { return x === undefined || x === '' ? undefined : parseFloat(x); }
    var r = {};
    if (session.v12) {
      r.lesson_status = m.implicit('cmi.core.lesson_status', 'cmi.core.lesson_status');
    } else {
      // Only what the SCO (or its threshold and passing score) decided: an unset status is left to the
      // sequencer's defaults (SN 4.2.1), which `unknown` would override.
      var c = m.implicit('cmi.completion_status', 'cmi.completion_status');
      if (v['cmi.completion_status'] !== undefined || c !== 'unknown') r.completion_status = c;
      var su = m.implicit('cmi.success_status', 'cmi.success_status');
      if (v['cmi.success_status'] !== undefined || su !== 'unknown') r.success_status = su;
      r.score_scaled = num(v['cmi.score.scaled']);
      r.score_raw = num(v['cmi.score.raw']);
      r.score_min = num(v['cmi.score.min']);
      r.score_max = num(v['cmi.score.max']);
      r.progress_measure = num(v['cmi.progress_measure']);
      r.objectives = [];
      for (var i = 0; i < m.count('cmi.objectives'); i++) {
        var p = 'cmi.objectives.' + i + '.';
        r.objectives.push({
          id: v[p + 'id'], success_status: v[p + 'success_status'], completion_status: v[p + 'completion_status'],
          score_scaled: num(v[p + 'score.scaled']), progress_measure: num(v[p + 'progress_measure']),
          score_raw: num(v[p + 'score.raw']), score_min: num(v[p + 'score.min']), score_max: num(v[p + 'score.max'])
        });
      }
    }
    if (final) { r.exit = session.exit || ''; r.session_seconds = session.sessionSeconds || 0; }
    return r;
  }

  /**
   * A SCO delivered by Cairn's course player (the launch page is framed by the player page, same
   * origin): on Commit and Terminate what the SCO set goes to the sequencer with this launch's own
   * credential, whose answer keeps `adl.nav.request_valid.*` current; after Terminate, once everything
   * is stored, the player is told, with the SCO's `adl.nav.request`. The player asks the launch page to
   * end the SCO (a button was pressed): the SCO's frame is removed, so its own unload handlers may
   * Terminate, and a SCO that did not is terminated as it left things (suspended for Suspend).
   */
  function playerGlue(cfg, token, session, reporter, transport, frame) {
    session.model.nav = cfg.player.valid || null;
    if (!session.v12) seedObjectives(session.model, cfg.player.objectives || []);
    var queue = Promise.resolve();
    var finished = null;
    function post(final) {
      queue = queue.then(function () { return transport.queue; }).then(function () {
        return fetch('/launch/' + encodeURIComponent(cfg.id) + '/sequencing', {
          method: 'POST', credentials: 'omit',
          headers: { 'Authorization': 'Basic ' + token, 'Content-Type': 'application/json' },
          body: JSON.stringify(playerReport(session, final))
        }).then(function (r) { return r.ok ? r.json() : null; })
          .then(function (a) { if (a && a.valid) session.model.nav = a.valid; })
          .catch(function () { /* the player still navigates; the report is lost */ });
      });
      return queue;
    }
    function tell() {
      var req = session.v12 ? '_none_' : (session.model.values['adl.nav.request'] || '_none_');
      if (window.parent !== window) window.parent.postMessage({ cairn: 'terminated', launch: cfg.id, request: req }, location.origin);
    }
    var commit = reporter.commit, terminate = reporter.terminate;
    // After a commit the player refreshes its contents (statuses, what may be chosen).
    reporter.commit = function (s) {
      var ok = commit.call(reporter, s);
      post(false).then(function () {
        if (window.parent !== window) window.parent.postMessage({ cairn: 'committed', launch: cfg.id }, location.origin);
      });
      return ok;
    };
    reporter.terminate = function (s) {
      var ok = terminate.call(reporter, s);
      finished = post(true).then(tell);
      return ok;
    };
    window.addEventListener('message', function (ev) {
      if (ev.origin !== location.origin || ev.source !== window.parent || !ev.data || ev.data.cairn !== 'end') return;
      if (frame.parentNode) frame.parentNode.removeChild(frame);
      if (session.state === 'running') {
        if (ev.data.suspend) session.model.values[session.v12 ? 'cmi.core.exit' : 'cmi.exit'] = 'suspend';
        session.terminate('');
      }
      if (finished) finished.then(tell); else tell();
    });
  }

  /**
   * `cmi.objectives.n` as the sequencer reads them now, through shared objectives (SN 4.2.1.6; RTE
   * 4.2.17): a known value wins over what a resumed attempt saved (ADL's SX-11a), an unknown one leaves
   * it; objectives the SCO never set are added.
   */
  function seedObjectives(model, objectives) {
    objectives.forEach(function (o) {
      var n = model.count('cmi.objectives');
      var at = n;
      for (var i = 0; i < n; i++) if (model.values['cmi.objectives.' + i + '.id'] === o.id) at = i;
      var p = 'cmi.objectives.' + at + '.';
      model.values[p + 'id'] = o.id;
      if (o.satisfied !== null && o.satisfied !== undefined) model.values[p + 'success_status'] = o.satisfied ? 'passed' : 'failed';
      if (o.completed !== null && o.completed !== undefined) model.values[p + 'completion_status'] = o.completed ? 'completed' : 'incomplete';
      if (o.score_scaled !== null && o.score_scaled !== undefined) model.values[p + 'score.scaled'] = String(o.score_scaled);
      if (o.progress_measure !== null && o.progress_measure !== undefined) model.values[p + 'progress_measure'] = String(o.progress_measure);
      ['raw', 'min', 'max'].forEach(function (k) {
        var x = o['score_' + k];
        if (x !== null && x !== undefined) model.values[p + 'score.' + k] = String(x);
      });
      if (at === n) model.counts['cmi.objectives'] = n + 1;
    });
  }

  if (typeof document !== 'undefined' && document.body && document.body.hasAttribute('data-cairn-launch')) {
    start(document);
  }

  return {
    DataModel: DataModel, Session: Session, Reporter: Reporter, api: api, launch: launch, playerReport: playerReport,
    seedObjectives: seedObjectives,
    MODEL_12: MODEL_12, MODEL_2004: MODEL_2004, seconds: seconds, iso: iso, timespan12: timespan12, response: response
  };
}));

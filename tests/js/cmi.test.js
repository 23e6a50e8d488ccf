// Unit tests of Cairn's SCORM run-time (static/scorm/runtime.js): the CMI data models of SCORM 1.2 and
// 2004 (types, ranges, access, error codes), the API state machines and the xAPI statements reported.
// Run with `node --test tests/js/` (scripts/test.sh does when node is installed).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const S = require(path.join(__dirname, '..', '..', 'static', 'scorm', 'runtime.js'));

const INIT = {
  learner_id: 'ann@example.com', learner_name: 'Ann', credit: 'credit', mode: 'normal', entry: 'ab-initio',
  launch_data: 'level=2', mastery_score: '80', max_time_allowed: null, time_limit_action: 'continue,no message'
};

function session(version, init, saved, sent) {
  const cfg = {
    actor: { objectType: 'Agent', mbox: 'mailto:ann@example.com' }, registration: '6fa1fd6e-2e6a-4f1c-9f52-9d1d1d1d1d1d',
    activity_id: 'urn:cairn:scorm:c/ITEM-1', course_id: 'urn:cairn:scorm:c', title: 'Lesson', attempts: []
  };
  const reporter = new S.Reporter(cfg, (reqs) => { if (sent) sent.push(...reqs); return true; });
  const s = new S.Session(version, Object.assign({}, INIT, init || {}), saved, reporter);
  return { s, api: S.api(s) };
}

function verbs(sent) {
  return sent.filter((r) => r.path === 'statements').flatMap((r) => r.body).map((st) => st.verb.id.split('/').pop());
}

test('1.2: calls before LMSInitialize fail with 301; arguments must be ""', () => {
  const { api } = session('1.2');
  assert.strictEqual(api.LMSGetValue('cmi.core.student_id'), '');
  assert.strictEqual(api.LMSGetLastError(), '301');
  assert.strictEqual(api.LMSSetValue('cmi.core.lesson_location', 'x'), 'false');
  assert.strictEqual(api.LMSCommit(''), 'false');
  assert.strictEqual(api.LMSFinish(''), 'false');
  assert.strictEqual(api.LMSInitialize('x'), 'false');
  assert.strictEqual(api.LMSGetLastError(), '201');
  assert.strictEqual(api.LMSInitialize(''), 'true');
  assert.strictEqual(api.LMSGetLastError(), '0');
  assert.strictEqual(api.LMSInitialize(''), 'false');
  assert.strictEqual(api.LMSGetLastError(), '101');
  assert.strictEqual(api.LMSGetErrorString('301'), 'Not initialized');
  assert.strictEqual(api.LMSGetErrorString('999'), '');
});

test('1.2: read-only, write-only, keywords and unknown elements', () => {
  const { api } = session('1.2');
  api.LMSInitialize('');
  const get = (e) => [api.LMSGetValue(e), api.LMSGetLastError()];
  const set = (e, v) => [api.LMSSetValue(e, v), api.LMSGetLastError()];
  assert.deepStrictEqual(get('cmi._version'), ['3.4', '0']);
  assert.deepStrictEqual(get('cmi.core.student_id'), ['ann@example.com', '0']);
  assert.deepStrictEqual(get('cmi.core.student_name'), ['Ann', '0']);
  assert.deepStrictEqual(get('cmi.core.credit'), ['credit', '0']);
  assert.deepStrictEqual(get('cmi.core.entry'), ['ab-initio', '0']);
  assert.deepStrictEqual(get('cmi.core.lesson_mode'), ['normal', '0']);
  assert.deepStrictEqual(get('cmi.core.lesson_status'), ['not attempted', '0']);
  assert.deepStrictEqual(get('cmi.core.total_time'), ['0000:00:00.00', '0']);
  assert.deepStrictEqual(get('cmi.launch_data'), ['level=2', '0']);
  assert.deepStrictEqual(get('cmi.student_data.mastery_score'), ['80', '0']);
  assert.deepStrictEqual(get('cmi.core.lesson_location'), ['', '0']);
  assert.deepStrictEqual(get('cmi.core._children'),
    ['student_id,student_name,lesson_location,credit,lesson_status,entry,score,total_time,lesson_mode,exit,session_time', '0']);
  assert.deepStrictEqual(get('cmi.core.score._children'), ['raw,min,max', '0']);
  assert.deepStrictEqual(get('cmi.objectives._children'), ['id,score,status', '0']);
  assert.deepStrictEqual(get('cmi.student_preference._children'), ['audio,language,speed,text', '0']);
  assert.deepStrictEqual(get('cmi.core.lesson_status._children'), ['', '202']);
  assert.deepStrictEqual(get('cmi.core.score._count'), ['', '203']);
  assert.deepStrictEqual(get('cmi.objectives._count'), ['0', '0']);
  assert.deepStrictEqual(get('cmi.core.exit'), ['', '404']);
  assert.deepStrictEqual(get('cmi.core.session_time'), ['', '404']);
  assert.deepStrictEqual(get('cmi.core.bogus'), ['', '201']);
  assert.deepStrictEqual(get(''), ['', '201']);
  assert.deepStrictEqual(set('cmi.core.student_id', 'x'), ['false', '403']);
  assert.deepStrictEqual(set('cmi.core.credit', 'no-credit'), ['false', '403']);
  assert.deepStrictEqual(set('cmi.core._children', 'x'), ['false', '402']);
  assert.deepStrictEqual(set('cmi._version', '4'), ['false', '402']);
  assert.deepStrictEqual(set('cmi.objectives._count', '3'), ['false', '402']);
  assert.deepStrictEqual(set('cmi.bogus', 'x'), ['false', '201']);
});

test('1.2: types, vocabularies and ranges answer 405', () => {
  const { api } = session('1.2');
  api.LMSInitialize('');
  const set = (e, v) => api.LMSSetValue(e, v) + '/' + api.LMSGetLastError();
  for (const v of ['passed', 'completed', 'failed', 'incomplete', 'browsed']) assert.strictEqual(set('cmi.core.lesson_status', v), 'true/0');
  assert.strictEqual(set('cmi.core.lesson_status', 'not attempted'), 'false/405');
  assert.strictEqual(set('cmi.core.lesson_status', 'Passed'), 'false/405');
  assert.strictEqual(set('cmi.core.score.raw', '85.5'), 'true/0');
  assert.strictEqual(set('cmi.core.score.raw', ''), 'true/0');
  assert.strictEqual(set('cmi.core.score.raw', '101'), 'false/405');
  assert.strictEqual(set('cmi.core.score.min', '-1'), 'false/405');
  assert.strictEqual(set('cmi.core.score.max', 'abc'), 'false/405');
  for (const v of ['time-out', 'suspend', 'logout', '']) assert.strictEqual(set('cmi.core.exit', v), 'true/0');
  assert.strictEqual(set('cmi.core.exit', 'normal'), 'false/405');
  assert.strictEqual(set('cmi.core.session_time', '0000:01:30.5'), 'true/0');
  assert.strictEqual(set('cmi.core.session_time', '01:30:00'), 'true/0');
  assert.strictEqual(set('cmi.core.session_time', '1:30'), 'false/405');
  assert.strictEqual(set('cmi.core.session_time', '00:61:00'), 'false/405');
  assert.strictEqual(set('cmi.core.lesson_location', 'x'.repeat(255)), 'true/0');
  assert.strictEqual(set('cmi.core.lesson_location', 'x'.repeat(256)), 'false/405');
  assert.strictEqual(set('cmi.suspend_data', 'x'.repeat(4096)), 'true/0');
  assert.strictEqual(set('cmi.suspend_data', 'x'.repeat(4097)), 'false/405');
  assert.strictEqual(set('cmi.student_preference.audio', '-1'), 'true/0');
  assert.strictEqual(set('cmi.student_preference.audio', '101'), 'false/405');
  assert.strictEqual(set('cmi.student_preference.speed', '-100'), 'true/0');
  assert.strictEqual(set('cmi.student_preference.speed', '1.5'), 'false/405');
  assert.strictEqual(set('cmi.student_preference.text', '2'), 'false/405');
  assert.strictEqual(set('cmi.comments', 'one '), 'true/0');
  assert.strictEqual(set('cmi.comments', 'two'), 'true/0');
  assert.strictEqual(api.LMSGetValue('cmi.comments'), 'one two', 'comments are appended');
});

test('1.2: objectives and write-only interactions grow one index at a time', () => {
  const { api } = session('1.2');
  api.LMSInitialize('');
  const set = (e, v) => api.LMSSetValue(e, v) + '/' + api.LMSGetLastError();
  assert.strictEqual(set('cmi.objectives.1.id', 'o2'), 'false/201');
  assert.strictEqual(set('cmi.objectives.0.id', 'o1'), 'true/0');
  assert.strictEqual(set('cmi.objectives.0.id', 'has space'), 'false/405');
  assert.strictEqual(set('cmi.objectives.0.status', 'not attempted'), 'true/0');
  assert.strictEqual(set('cmi.objectives.0.score.raw', '50'), 'true/0');
  assert.strictEqual(api.LMSGetValue('cmi.objectives._count'), '1');
  assert.strictEqual(api.LMSGetValue('cmi.objectives.0.score.raw'), '50');
  assert.strictEqual(api.LMSGetValue('cmi.objectives.0.score._children'), 'raw,min,max');
  assert.strictEqual(set('cmi.interactions.0.id', 'q1'), 'true/0');
  assert.strictEqual(set('cmi.interactions.0.type', 'choice'), 'true/0');
  assert.strictEqual(set('cmi.interactions.0.type', 'essay'), 'false/405');
  assert.strictEqual(set('cmi.interactions.0.time', '13:45:10'), 'true/0');
  assert.strictEqual(set('cmi.interactions.0.time', '25:00:00'), 'false/405');
  assert.strictEqual(set('cmi.interactions.0.result', 'wrong'), 'true/0');
  assert.strictEqual(set('cmi.interactions.0.result', '0.5'), 'true/0');
  assert.strictEqual(set('cmi.interactions.0.result', 'incorrect'), 'false/405');
  assert.strictEqual(set('cmi.interactions.0.latency', '0000:00:05'), 'true/0');
  assert.strictEqual(set('cmi.interactions.0.weighting', '1.5'), 'true/0');
  assert.strictEqual(set('cmi.interactions.0.objectives.0.id', 'o1'), 'true/0');
  assert.strictEqual(set('cmi.interactions.0.correct_responses.0.pattern', 'a'), 'true/0');
  assert.strictEqual(api.LMSGetValue('cmi.interactions.0.id'), '');
  assert.strictEqual(api.LMSGetLastError(), '404');
  assert.strictEqual(api.LMSGetValue('cmi.interactions._count'), '1');
  assert.strictEqual(api.LMSGetValue('cmi.interactions.0.objectives._count'), '1');
  assert.strictEqual(api.LMSGetValue('cmi.interactions.0.correct_responses._count'), '1');
});

test('1.2: LMSFinish applies the mastery score, adds session time, and ends the session', () => {
  const sent = [];
  const { api } = session('1.2', {}, null, sent);
  api.LMSInitialize('');
  api.LMSSetValue('cmi.core.score.raw', '85');
  api.LMSSetValue('cmi.core.lesson_status', 'completed');
  api.LMSSetValue('cmi.core.session_time', '0000:10:00');
  assert.strictEqual(api.LMSCommit(''), 'true');
  assert.strictEqual(api.LMSFinish(''), 'true');
  assert.strictEqual(api.LMSGetValue('cmi.core.lesson_status'), '');
  assert.strictEqual(api.LMSGetLastError(), '301');
  assert.deepStrictEqual(verbs(sent), ['initialized', 'completed', 'scored', 'passed', 'terminated']);
  const term = sent.filter((r) => r.path === 'statements').pop().body.pop();
  assert.deepStrictEqual(term.result, { completion: true, success: true, score: { raw: 85, scaled: 0.85 }, duration: 'PT0H10M0S' });
  const state = sent.filter((r) => r.method === 'PUT' && r.path.includes('attempt-state')).pop();
  assert.strictEqual(state.body.total_time, '0000:10:00.00');
  assert.strictEqual(state.body.cmi.values['cmi.core.lesson_status'], 'passed');
});

test('1.2: no status set means completed; a low score fails against the mastery score', () => {
  let sent = [];
  let { api } = session('1.2', {}, null, sent);
  api.LMSInitialize(''); api.LMSFinish('');
  assert.deepStrictEqual(verbs(sent), ['initialized', 'completed', 'terminated']);
  sent = [];
  ({ api } = session('1.2', {}, null, sent));
  api.LMSInitialize(''); api.LMSSetValue('cmi.core.score.raw', '40'); api.LMSFinish('');
  assert.deepStrictEqual(verbs(sent), ['initialized', 'completed', 'failed', 'scored', 'terminated']);
});

test('1.2: suspend and resume keep the attempt data', () => {
  const sent = [];
  const first = session('1.2', {}, null, sent);
  first.api.LMSInitialize('');
  first.api.LMSSetValue('cmi.suspend_data', 'page=3');
  first.api.LMSSetValue('cmi.core.lesson_location', 'p3');
  first.api.LMSSetValue('cmi.core.lesson_status', 'incomplete');
  first.api.LMSSetValue('cmi.core.exit', 'suspend');
  first.api.LMSSetValue('cmi.core.session_time', '0000:05:00');
  first.api.LMSFinish('');
  assert.deepStrictEqual(verbs(sent).slice(-1), ['suspended']);
  const saved = sent.filter((r) => r.path.includes('attempt-state')).pop().body.cmi;
  const sent2 = [];
  const second = session('1.2', { entry: 'resume' }, saved, sent2);
  second.api.LMSInitialize('');
  assert.strictEqual(second.api.LMSGetValue('cmi.core.entry'), 'resume');
  assert.strictEqual(second.api.LMSGetValue('cmi.suspend_data'), 'page=3');
  assert.strictEqual(second.api.LMSGetValue('cmi.core.lesson_location'), 'p3');
  assert.strictEqual(second.api.LMSGetValue('cmi.core.total_time'), '0000:05:00.00');
  assert.strictEqual(second.api.LMSGetValue('cmi.core.lesson_status'), 'incomplete');
  assert.deepStrictEqual(verbs(sent2), ['resumed']);
});

test('what a session reported is saved, so a resumed attempt does not report it twice', () => {
  const sent = [];
  const first = session('2004', {}, null, sent);
  first.api.Initialize('');
  first.api.SetValue('cmi.completion_status', 'completed');
  first.api.SetValue('cmi.exit', 'suspend');
  first.api.Terminate('');
  const state = sent.filter((r) => r.path.includes('attempt-state')).pop().body;
  assert.deepStrictEqual(state.reported, { completed: true });
  const sent2 = [];
  const second = session('2004', { entry: 'resume' }, state.cmi, sent2);
  second.s.reporter.reported = state.reported;
  second.api.Initialize('');
  second.api.Terminate('');
  assert.deepStrictEqual(verbs(sent2), ['resumed', 'terminated']);
});

test('2004: the API state machine and its error codes', () => {
  const { api } = session('2004');
  const last = () => api.GetLastError();
  assert.strictEqual(api.Terminate(''), 'false'); assert.strictEqual(last(), '112');
  api.GetValue('cmi.location'); assert.strictEqual(last(), '122');
  api.SetValue('cmi.location', 'x'); assert.strictEqual(last(), '132');
  api.Commit(''); assert.strictEqual(last(), '142');
  assert.strictEqual(api.Initialize('x'), 'false'); assert.strictEqual(last(), '201');
  assert.strictEqual(api.Initialize(''), 'true');
  assert.strictEqual(api.Initialize(''), 'false'); assert.strictEqual(last(), '103');
  assert.strictEqual(api.Commit('x'), 'false'); assert.strictEqual(last(), '201');
  assert.strictEqual(api.Terminate(''), 'true');
  assert.strictEqual(api.Terminate(''), 'false'); assert.strictEqual(last(), '113');
  assert.strictEqual(api.Initialize(''), 'false'); assert.strictEqual(last(), '104');
  api.GetValue('cmi.location'); assert.strictEqual(last(), '123');
  api.SetValue('cmi.location', 'x'); assert.strictEqual(last(), '133');
  api.Commit(''); assert.strictEqual(last(), '143');
  assert.strictEqual(api.GetErrorString('403'), 'Data Model Element Value Not Initialized');
  assert.strictEqual(api.GetDiagnostic('').length > 0, true);
});

test('2004: access rules, keywords and initial values', () => {
  const { api } = session('2004', { scaled_passing_score: null, completion_threshold: null });
  api.Initialize('');
  const get = (e) => [api.GetValue(e), api.GetLastError()];
  const set = (e, v) => api.SetValue(e, v) + '/' + api.GetLastError();
  assert.deepStrictEqual(get('cmi._version'), ['1.0', '0']);
  assert.deepStrictEqual(get('cmi.learner_id'), ['ann@example.com', '0']);
  assert.deepStrictEqual(get('cmi.completion_status'), ['unknown', '0']);
  assert.deepStrictEqual(get('cmi.success_status'), ['unknown', '0']);
  assert.deepStrictEqual(get('cmi.mode'), ['normal', '0']);
  assert.deepStrictEqual(get('cmi.entry'), ['ab-initio', '0']);
  assert.deepStrictEqual(get('cmi.total_time'), ['PT0H0M0S', '0']);
  assert.deepStrictEqual(get('cmi.learner_preference.audio_level'), ['1', '0']);
  assert.deepStrictEqual(get('cmi.location'), ['', '403']);
  assert.deepStrictEqual(get('cmi.score.scaled'), ['', '403']);
  assert.deepStrictEqual(get('cmi.max_time_allowed'), ['', '403']);
  assert.deepStrictEqual(get('cmi.exit'), ['', '405']);
  assert.deepStrictEqual(get('cmi.session_time'), ['', '405']);
  assert.deepStrictEqual(get('cmi.bogus'), ['', '401']);
  assert.deepStrictEqual(get(''), ['', '301']);
  assert.deepStrictEqual(get('cmi.score._children'), ['scaled,raw,min,max', '0']);
  assert.deepStrictEqual(get('cmi.objectives._children'), ['id,score,success_status,completion_status,progress_measure,description', '0']);
  assert.deepStrictEqual(get('cmi.location._children'), ['', '301']);
  assert.deepStrictEqual(get('cmi.score._count'), ['', '301']);
  assert.deepStrictEqual(get('cmi.bogus._count'), ['', '401']);
  assert.deepStrictEqual(get('cmi.interactions._count'), ['0', '0']);
  assert.strictEqual(set('cmi.learner_id', 'x'), 'false/404');
  assert.strictEqual(set('cmi.completion_threshold', '0.5'), 'false/404');
  assert.strictEqual(set('cmi._version', '2'), 'false/404');
  assert.strictEqual(set('cmi.interactions._count', '2'), 'false/404');
  assert.strictEqual(set('cmi.bogus', 'x'), 'false/401');
  assert.strictEqual(set('', 'x'), 'false/351');
});

test('2004: types (406) and ranges (407)', () => {
  const { api } = session('2004');
  api.Initialize('');
  const set = (e, v) => api.SetValue(e, v) + '/' + api.GetLastError();
  assert.strictEqual(set('cmi.score.scaled', '0.9'), 'true/0');
  assert.strictEqual(set('cmi.score.scaled', '-1'), 'true/0');
  assert.strictEqual(set('cmi.score.scaled', '1.5'), 'false/407');
  assert.strictEqual(set('cmi.score.scaled', 'high'), 'false/406');
  assert.strictEqual(set('cmi.score.raw', '-20.5'), 'true/0');
  assert.strictEqual(set('cmi.progress_measure', '1.1'), 'false/407');
  assert.strictEqual(set('cmi.progress_measure', '.5'), 'true/0');
  for (const v of ['completed', 'incomplete', 'not attempted', 'unknown']) assert.strictEqual(set('cmi.completion_status', v), 'true/0');
  assert.strictEqual(set('cmi.completion_status', 'passed'), 'false/406');
  assert.strictEqual(set('cmi.success_status', 'completed'), 'false/406');
  for (const v of ['time-out', 'suspend', 'logout', 'normal', '']) assert.strictEqual(set('cmi.exit', v), 'true/0');
  assert.strictEqual(set('cmi.exit', 'quit'), 'false/406');
  for (const v of ['PT1H30M', 'P1DT2H', 'PT0.25S', 'P2Y']) assert.strictEqual(set('cmi.session_time', v), 'true/0', v);
  for (const v of ['P', 'PT', '01:00:00', 'PT1.234S', 'P1H']) assert.strictEqual(set('cmi.session_time', v), 'false/406', v);
  assert.strictEqual(set('cmi.learner_preference.language', 'en-US'), 'true/0');
  assert.strictEqual(set('cmi.learner_preference.language', 'english!'), 'false/406');
  assert.strictEqual(set('cmi.learner_preference.audio_level', '-1'), 'false/407');
  assert.strictEqual(set('cmi.learner_preference.audio_captioning', '2'), 'false/406');
  assert.strictEqual(set('cmi.location', 'x'.repeat(1000)), 'true/0');
  assert.strictEqual(set('cmi.suspend_data', 'x'.repeat(64000)), 'true/0');
  assert.strictEqual(set('adl.nav.request', 'continue'), 'true/0');
  assert.strictEqual(set('adl.nav.request', '{target=sco2}choice'), 'true/0');
  assert.strictEqual(set('adl.nav.request', 'sideways'), 'false/406');
  assert.strictEqual(set('cmi.comments_from_learner.0.comment', '{lang=en}Nice'), 'true/0');
  assert.strictEqual(set('cmi.comments_from_learner.0.timestamp', '2024-03-01T10:00:00Z'), 'true/0');
  assert.strictEqual(set('cmi.comments_from_learner.0.timestamp', '2024-13-01'), 'false/406');
  assert.strictEqual(set('cmi.comments_from_learner.0.timestamp', '1969-01-01'), 'false/406');
  assert.strictEqual(set('cmi.comments_from_learner.0.comment', '{lang=!!}x'), 'false/406');
  assert.strictEqual(api.GetValue('cmi.comments_from_learner._count'), '1');
  assert.strictEqual(api.GetValue('cmi.comments_from_lms._count'), '0');
  assert.strictEqual(set('cmi.comments_from_lms.0.comment', 'x'), 'false/404');
});

test('2004: collections, dependencies and unique ids', () => {
  const { api } = session('2004');
  api.Initialize('');
  const set = (e, v) => api.SetValue(e, v) + '/' + api.GetLastError();
  assert.strictEqual(set('cmi.objectives.0.score.scaled', '0.5'), 'false/408');
  assert.strictEqual(set('cmi.objectives.1.id', 'o2'), 'false/351');
  assert.strictEqual(set('cmi.objectives.0.id', 'urn:obj:1'), 'true/0');
  assert.strictEqual(set('cmi.objectives.0.id', 'urn:obj:other'), 'false/351');
  assert.strictEqual(set('cmi.objectives.1.id', 'urn:obj:1'), 'false/351');
  assert.strictEqual(set('cmi.objectives.1.id', 'urn:obj:2'), 'true/0');
  assert.strictEqual(set('cmi.objectives.0.success_status', 'passed'), 'true/0');
  assert.strictEqual(api.GetValue('cmi.objectives._count'), '2');
  assert.strictEqual(api.GetValue('cmi.objectives.1.success_status'), 'unknown');
  assert.strictEqual(api.GetValue('cmi.objectives.1.description'), '');
  assert.strictEqual(api.GetLastError(), '403');
  assert.strictEqual(api.GetValue('cmi.objectives.5.id'), '');
  assert.strictEqual(api.GetLastError(), '301');
  assert.strictEqual(set('cmi.interactions.0.learner_response', 'true'), 'false/408');
  assert.strictEqual(set('cmi.interactions.0.id', 'q1'), 'true/0');
  assert.strictEqual(set('cmi.interactions.0.learner_response', 'true'), 'false/408');
  assert.strictEqual(set('cmi.interactions.0.type', 'true-false'), 'true/0');
  assert.strictEqual(set('cmi.interactions.0.learner_response', 'yes'), 'false/406');
  assert.strictEqual(set('cmi.interactions.0.learner_response', 'true'), 'true/0');
  assert.strictEqual(set('cmi.interactions.0.correct_responses.0.pattern', 'false'), 'true/0');
  assert.strictEqual(set('cmi.interactions.0.result', 'incorrect'), 'true/0');
  assert.strictEqual(set('cmi.interactions.0.result', 'wrong'), 'false/406');
  assert.strictEqual(set('cmi.interactions.0.latency', 'PT4S'), 'true/0');
  assert.strictEqual(set('cmi.interactions.0.timestamp', '2024-03-01T10:00:00.5+01:00'), 'true/0');
  assert.strictEqual(set('cmi.interactions.0.objectives.0.id', 'urn:obj:1'), 'true/0');
  assert.strictEqual(set('cmi.interactions.0.objectives.1.id', 'urn:obj:1'), 'false/351');
  assert.strictEqual(set('cmi.interactions.1.id', 'q2'), 'true/0');
  assert.strictEqual(set('cmi.interactions.1.type', 'choice'), 'true/0');
  assert.strictEqual(set('cmi.interactions.1.learner_response', 'a[,]b'), 'true/0');
  assert.strictEqual(set('cmi.interactions.1.learner_response', 'a[,]a'), 'false/406');
  assert.strictEqual(set('cmi.interactions.2.id', 'q3'), 'true/0');
  assert.strictEqual(set('cmi.interactions.2.type', 'numeric'), 'true/0');
  assert.strictEqual(set('cmi.interactions.2.correct_responses.0.pattern', '1[:]5'), 'true/0');
  assert.strictEqual(set('cmi.interactions.2.correct_responses.1.pattern', '5[:]1'), 'false/406');
  assert.strictEqual(set('cmi.interactions.2.learner_response', '3.5'), 'true/0');
  assert.strictEqual(set('cmi.interactions.3.id', 'q4'), 'true/0');
  assert.strictEqual(set('cmi.interactions.3.type', 'matching'), 'true/0');
  assert.strictEqual(set('cmi.interactions.3.learner_response', 'a[.]1[,]b[.]2'), 'true/0');
  assert.strictEqual(set('cmi.interactions.3.learner_response', 'a1'), 'false/406');
  assert.strictEqual(set('cmi.interactions.0.correct_responses.1.pattern', 'true'), 'false/351');
  assert.strictEqual(set('cmi.interactions.1.correct_responses.0.pattern', 'a[,]b'), 'true/0');
  assert.strictEqual(set('cmi.interactions.1.correct_responses.1.pattern', 'a[,]b'), 'false/351');
  assert.strictEqual(set('cmi.interactions.1.correct_responses.1.pattern', 'c'), 'true/0');
  assert.strictEqual(api.GetValue('cmi.interactions.0.objectives._count'), '1');
  assert.strictEqual(api.GetValue('cmi.interactions.0.type'), 'true-false');
  assert.strictEqual(api.GetValue('adl.nav.request_valid.choice.{target=sco2}'), 'unknown');
  assert.strictEqual(api.GetValue('adl.nav.request_valid.continue'), 'unknown');
  assert.strictEqual(api.GetValue('cmi.interactions._count'), '4');
});

test('2004: success and completion are evaluated against the passing score and threshold', () => {
  const { api } = session('2004', { scaled_passing_score: '0.8', completion_threshold: '0.75' });
  api.Initialize('');
  assert.strictEqual(api.GetValue('cmi.success_status'), 'unknown');
  assert.strictEqual(api.GetValue('cmi.completion_status'), 'unknown');
  api.SetValue('cmi.success_status', 'failed');
  api.SetValue('cmi.score.scaled', '0.85');
  assert.strictEqual(api.GetValue('cmi.success_status'), 'passed');
  api.SetValue('cmi.progress_measure', '0.5');
  assert.strictEqual(api.GetValue('cmi.completion_status'), 'incomplete');
  api.SetValue('cmi.progress_measure', '0.75');
  assert.strictEqual(api.GetValue('cmi.completion_status'), 'completed');
  assert.strictEqual(api.GetValue('cmi.scaled_passing_score'), '0.8');
});

test('2004: the progress measure is reported (progressed, and in the terminated result), once per change', () => {
  const sent = [];
  const { api } = session('2004', {}, null, sent);
  const EXT = 'https://w3id.org/xapi/scorm/result/extensions/progress_measure';
  api.Initialize('');
  api.SetValue('cmi.progress_measure', '0.4');
  api.Commit('');
  api.Commit('');
  api.SetValue('cmi.progress_measure', '0.75');
  api.Terminate('');
  assert.deepStrictEqual(verbs(sent), ['initialized', 'progressed', 'progressed', 'terminated']);
  const all = sent.filter((r) => r.path === 'statements').flatMap((r) => r.body);
  assert.deepStrictEqual(all[1].result, { extensions: { [EXT]: 0.4 } });
  assert.deepStrictEqual(all[3].result.extensions, { [EXT]: 0.75 });
});

test('2004: statements follow the xAPI SCORM profile', () => {
  const sent = [];
  const { api } = session('2004', {}, null, sent);
  api.Initialize('');
  api.SetValue('cmi.completion_status', 'completed');
  api.SetValue('cmi.success_status', 'passed');
  api.SetValue('cmi.score.scaled', '0.9');
  api.SetValue('cmi.score.raw', '90');
  api.SetValue('cmi.score.min', '0');
  api.SetValue('cmi.score.max', '100');
  api.SetValue('cmi.session_time', 'PT2M30S');
  api.Commit('');
  api.Terminate('');
  assert.deepStrictEqual(verbs(sent), ['initialized', 'completed', 'passed', 'scored', 'terminated']);
  const all = sent.filter((r) => r.path === 'statements').flatMap((r) => r.body);
  for (const st of all) {
    assert.strictEqual(st.context.registration, '6fa1fd6e-2e6a-4f1c-9f52-9d1d1d1d1d1d');
    assert.strictEqual(st.object.id, 'urn:cairn:scorm:c/ITEM-1');
    assert.strictEqual(st.object.definition.type, 'http://adlnet.gov/expapi/activities/lesson');
    assert.deepStrictEqual(st.context.contextActivities.category, [{ id: 'https://w3id.org/xapi/scorm' }]);
    assert.deepStrictEqual(st.context.contextActivities.grouping.map((g) => g.definition.type),
      ['http://adlnet.gov/expapi/activities/course', 'http://adlnet.gov/expapi/activities/attempt']);
    assert.match(st.id, /^[0-9a-f-]{36}$/);
  }
  assert.deepStrictEqual(all.pop().result,
    { completion: true, success: true, score: { scaled: 0.9, raw: 90, min: 0, max: 100 }, duration: 'PT0H2M30S' });
  const activityState = sent.find((r) => r.path.includes('activity-state'));
  assert.deepStrictEqual(activityState.body.attempts, ['urn:cairn:scorm:c/ITEM-1?attemptId=6fa1fd6e-2e6a-4f1c-9f52-9d1d1d1d1d1d']);
  assert.ok(!activityState.path.includes('registration='));
  const attemptState = sent.filter((r) => r.path.includes('attempt-state')).pop();
  assert.ok(attemptState.path.includes('registration=6fa1fd6e'));
  assert.strictEqual(attemptState.body.total_time, 'PT0H2M30S');
});

test('time helpers', () => {
  assert.strictEqual(S.seconds('0001:02:03.5'), 3723.5);
  assert.strictEqual(S.seconds('PT1H2M3.5S'), 3723.5);
  assert.strictEqual(S.seconds('P1D'), 86400);
  assert.strictEqual(S.iso(3723.5), 'PT1H2M3.5S');
  assert.strictEqual(S.timespan12(3723.5), '0001:02:03.50');
});

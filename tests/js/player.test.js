// Unit tests of the course player's part of the SCORM run-time (static/scorm/runtime.js): the
// `adl.nav.request_valid.*` answers come from the sequencer when the player gave them, and the report a
// SCO's Commit or Terminate sends to it carries only what the SCO (or its thresholds) decided.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const S = require(path.join(__dirname, '..', '..', 'static', 'scorm', 'runtime.js'));

const INIT = { learner_id: 'ann', learner_name: 'Ann', credit: 'credit', mode: 'normal', entry: 'ab-initio' };

function session(init) {
  const s = new S.Session('2004', Object.assign({}, INIT, init || {}), null, null);
  return { s, api: S.api(s) };
}

test('launched alone, request_valid answers are unknown', () => {
  const { api } = session();
  api.Initialize('');
  assert.strictEqual(api.GetValue('adl.nav.request_valid.continue'), 'unknown');
  assert.strictEqual(api.GetValue('adl.nav.request_valid.choice.{target=quiz}'), 'unknown');
});

test('in the player, request_valid answers are the sequencer\'s', () => {
  const { s, api } = session();
  s.model.nav = { continue: true, previous: false, choice: { quiz: false, intro: true }, jump: { quiz: true } };
  api.Initialize('');
  assert.strictEqual(api.GetValue('adl.nav.request_valid.continue'), 'true');
  assert.strictEqual(api.GetValue('adl.nav.request_valid.previous'), 'false');
  assert.strictEqual(api.GetValue('adl.nav.request_valid.choice.{target=quiz}'), 'false');
  assert.strictEqual(api.GetValue('adl.nav.request_valid.choice.{target=intro}'), 'true');
  assert.strictEqual(api.GetValue('adl.nav.request_valid.jump.{target=quiz}'), 'true');
  assert.strictEqual(api.GetValue('adl.nav.request_valid.choice.{target=nowhere}'), 'false');
  assert.strictEqual(api.GetLastError(), '0');
  assert.strictEqual(api.SetValue('adl.nav.request_valid.continue', 'true'), 'false', 'read-only');
});

test('the report leaves statuses the SCO never set to the sequencer', () => {
  const { s, api } = session();
  api.Initialize('');
  assert.deepStrictEqual(S.playerReport(s, false), {
    score_scaled: undefined, score_raw: undefined, score_min: undefined, score_max: undefined, progress_measure: undefined, objectives: []
  });
  api.SetValue('cmi.completion_status', 'incomplete');
  api.SetValue('cmi.score.scaled', '0.5');
  api.SetValue('cmi.objectives.0.id', 'obj-1');
  api.SetValue('cmi.objectives.0.success_status', 'passed');
  const r = S.playerReport(s, false);
  assert.strictEqual(r.completion_status, 'incomplete');
  assert.strictEqual(r.success_status, undefined);
  assert.strictEqual(r.score_scaled, 0.5);
  assert.deepStrictEqual(r.objectives, [{
    id: 'obj-1', success_status: 'passed', completion_status: undefined, score_scaled: undefined, progress_measure: undefined,
    score_raw: undefined, score_min: undefined, score_max: undefined
  }]);
  assert.strictEqual(r.exit, undefined, 'exit and time only at Terminate');
  api.SetValue('cmi.exit', 'suspend');
  api.Terminate('');
  const f = S.playerReport(s, true);
  assert.strictEqual(f.exit, 'suspend');
  assert.ok(f.session_seconds >= 0);
});

test('a passing score decides success when the SCO set none (scaled_passing_score)', () => {
  const { s, api } = session({ scaled_passing_score: '0.8' });
  api.Initialize('');
  api.SetValue('cmi.score.scaled', '0.85');
  assert.strictEqual(S.playerReport(s, false).success_status, 'passed');
});

test('shared objectives seed cmi.objectives; known values win over saved ones, unknown ones leave them', () => {
  const { s, api } = session();
  S.seedObjectives(s.model, [{ id: 'g1', satisfied: true, score_scaled: 0.7, completed: null, progress_measure: null, score_raw: 35, score_min: 0, score_max: 50 }]);
  S.seedObjectives(s.model, [{ id: 'g1', satisfied: null, score_raw: 7 }]);
  api.Initialize('');
  assert.strictEqual(api.GetValue('cmi.objectives._count'), '1');
  assert.strictEqual(api.GetValue('cmi.objectives.0.id'), 'g1');
  assert.strictEqual(api.GetValue('cmi.objectives.0.success_status'), 'passed');
  assert.strictEqual(api.GetValue('cmi.objectives.0.score.scaled'), '0.7');
  assert.strictEqual(api.GetValue('cmi.objectives.0.completion_status'), 'unknown');
  assert.strictEqual(api.GetValue('cmi.objectives.0.score.raw'), '7', 'the sequencer\'s newer value');
  assert.strictEqual(api.GetValue('cmi.objectives.0.score.max'), '50');
});

// Shared by the Node interop scripts: the LRS to talk to (from the environment), small assertions that
// name what was expected and what came back, and the steps every client runs in the same order.
"use strict";

const crypto = require("crypto");

function env(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`FAIL: environment variable ${name} is not set (need CAIRN_URL, CAIRN_KEY, CAIRN_SECRET)`);
    process.exit(2);
  }
  return v;
}

/** The xAPI endpoint (ending in /xapi/) and credential of the Cairn under test. */
function target() {
  let endpoint = env("CAIRN_URL");
  if (!endpoint.endsWith("/")) endpoint += "/";
  if (!endpoint.endsWith("/xapi/")) endpoint += "xapi/";
  return { endpoint, key: env("CAIRN_KEY"), secret: env("CAIRN_SECRET") };
}

class Mismatch extends Error {}

function fail(message) {
  throw new Mismatch(message);
}

function check(cond, message) {
  if (!cond) fail(message);
}

function eq(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) fail(`${what}: expected ${e}, got ${a}`);
}

/** Identifiers unique to this run, so the scripts can share a store and count exactly what they wrote. */
function run(client) {
  const tag = `${client}-${crypto.randomUUID()}`;
  return {
    tag,
    mbox: `mailto:${tag}@interop.example.com`,
    verb: `http://example.com/interop/verbs/${tag}`,
    activity: `http://example.com/interop/activities/${tag}`,
    otherActivity: `http://example.com/interop/activities/${tag}/other`,
  };
}

/**
 * Runs named steps in order, printing each; exits 1 with the step's name and message on the first
 * failure (a client error or a mismatch), 0 when all pass.
 */
async function steps(client, list) {
  let n = 0;
  for (const [name, fn] of list) {
    try {
      await fn();
      n += 1;
      console.log(`ok   ${client}: ${name}`);
    } catch (e) {
      const detail = e instanceof Mismatch ? e.message : (e && e.stack) || String(e);
      console.error(`FAIL ${client}: ${name}: ${detail}`);
      process.exit(1);
    }
  }
  console.log(`${client}: all ${n} steps passed`);
}

module.exports = { target, fail, check, eq, run, steps, Mismatch };

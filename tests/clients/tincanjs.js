// TinCanJS (npm `tincanjs`, Rustici's stock xAPI client, in its Node environment) against a running
// Cairn: statements (store, batch, fetch, void, query and page) and the three document resources.
// Usage: CAIRN_URL=http://127.0.0.1:8080/xapi/ CAIRN_KEY=... CAIRN_SECRET=... node tincanjs.js
"use strict";

const TinCan = require("tincanjs");
const { target, fail, check, eq, run, steps } = require("./common");

const CLIENT = "tincanjs";
const t = target();
const ids = run(CLIENT);

const lrs = new TinCan.LRS({
  endpoint: t.endpoint,
  username: t.key,
  password: t.secret,
  allowFail: false,
  // TinCanJS's newest version; Cairn serves every 1.0.x.
  version: "1.0.2",
});

/** Calls a TinCanJS method with a callback appended to its config; resolves to {err, result}. */
function call(method, ...args) {
  return new Promise((resolve) => {
    const cfg = Object.assign({}, args.pop() || {});
    cfg.callback = (err, result) => resolve({ err, result });
    lrs[method](...args, cfg);
  });
}

/** Like call, but a client-reported error (an HTTP status or exception) fails the step. */
async function ok(method, ...args) {
  const { err, result } = await call(method, ...args);
  if (err !== null && err !== undefined) {
    const body = result && result.responseText !== undefined ? ` body ${result.responseText}` : "";
    fail(`${method} failed: ${err}${body}`);
  }
  return result;
}

const actor = new TinCan.Agent({ mbox: ids.mbox, name: "Interop TinCanJS" });

function statement(verb, activity, extra) {
  return new TinCan.Statement(
    Object.assign(
      {
        actor: { mbox: ids.mbox, name: "Interop TinCanJS" },
        verb: { id: verb, display: { "en-US": "interop" } },
        target: { id: activity, definition: { name: { "en-US": "Interop activity" } } },
      },
      extra || {},
    ),
  );
}

const stored = []; // ids of the non-voided statements with our verb
let posted = null;
let toVoid = null;
let voidingId = null;

function sameStatement(got, want, what) {
  check(got instanceof TinCan.Statement, `${what}: no statement came back`);
  eq(got.id, want.id, `${what}: id`);
  eq(got.verb.id, want.verb.id, `${what}: verb`);
  eq(got.actor.mbox, ids.mbox, `${what}: actor mbox`);
  eq(got.target.id, want.target.id, `${what}: object id`);
  check(got.stored, `${what}: no stored timestamp`);
  check(got.authority, `${what}: no authority`);
}

steps(CLIENT, [
  [
    "about lists a 1.0.x version",
    async () => {
      const about = await ok("about", {});
      check(
        about.version.some((v) => v.startsWith("1.0.")),
        `about.version ${JSON.stringify(about.version)}`,
      );
    },
  ],
  [
    "saveStatement with an id (PUT) then without one (POST)",
    async () => {
      const s = statement(ids.verb, ids.activity);
      const put = await ok("saveStatement", s, {});
      eq(put.status, 204, "PUT statement status");
      stored.push(s.id);

      // doStamp false: no client-made id, so TinCanJS POSTs and the LRS assigns it.
      posted = new TinCan.Statement(
        {
          actor: { mbox: ids.mbox },
          verb: { id: ids.verb },
          target: { id: ids.otherActivity },
        },
        { doStamp: false },
      );
      check(posted.id === null, "statement unexpectedly has an id");
      const post = await ok("saveStatement", posted, {});
      eq(post.status, 200, "POST statement status");
      const returned = JSON.parse(post.responseText);
      check(Array.isArray(returned) && returned.length === 1, `POST answered ${post.responseText}`);
      posted.id = returned[0];
      stored.push(posted.id);
    },
  ],
  [
    "saveStatements stores a batch of 7",
    async () => {
      const batch = [];
      for (let i = 0; i < 7; i += 1) {
        batch.push(statement(ids.verb, `${ids.activity}/batch/${i}`));
      }
      const res = await ok("saveStatements", batch, {});
      eq(res.status, 200, "POST batch status");
      eq(JSON.parse(res.responseText), batch.map((s) => s.id), "ids answered for the batch");
      batch.forEach((s) => stored.push(s.id));
      toVoid = batch[3];
    },
  ],
  [
    "retrieveStatement returns what was stored",
    async () => {
      sameStatement(await ok("retrieveStatement", posted.id, {}), posted, "POSTed statement");
      sameStatement(await ok("retrieveStatement", toVoid.id, {}), toVoid, "batch statement");
    },
  ],
  [
    "void a statement: voidedStatementId returns it, statementId is 404",
    async () => {
      const voiding = new TinCan.Statement({
        actor: { mbox: ids.mbox },
        verb: { id: "http://adlnet.gov/expapi/verbs/voided", display: { "en-US": "voided" } },
        target: new TinCan.StatementRef({ id: toVoid.id }),
      });
      await ok("saveStatement", voiding, {});
      stored.splice(stored.indexOf(toVoid.id), 1);
      // A statement targeting another (StatementRef) meets a query's filters when its target does
      // (xAPI 1.0.3 "Filter Conditions for StatementRefs"), so the voiding statement is found too.
      stored.push(voiding.id);
      voidingId = voiding.id;

      sameStatement(await ok("retrieveVoidedStatement", toVoid.id, {}), toVoid, "voided statement");
      const { err, result } = await call("retrieveStatement", toVoid.id, {});
      eq(err, 404, "retrieveStatement of a voided statement: error status");
      check(!(result instanceof TinCan.Statement), "retrieveStatement of a voided statement returned it");

      const { err: err2 } = await call("retrieveVoidedStatement", posted.id, {});
      eq(err2, 404, "retrieveVoidedStatement of a statement that is not voided: error status");

      // The voiding statement itself is an ordinary statement.
      sameStatement(await ok("retrieveStatement", voiding.id, {}), voiding, "voiding statement");
    },
  ],
  [
    "queryStatements verb+agent, limit 2, following more to the end",
    async () => {
      const seen = new Set();
      let pages = 0;
      let page = await ok("queryStatements", {
        params: { verb: new TinCan.Verb({ id: ids.verb }), agent: actor, limit: 2 },
      });
      for (;;) {
        pages += 1;
        check(pages <= 20, "more links never ended");
        check(page.statements.length <= 2, `page of ${page.statements.length} statements for limit 2`);
        for (const s of page.statements) {
          check(!seen.has(s.id), `statement ${s.id} returned twice`);
          seen.add(s.id);
          if (s.id === voidingId) {
            eq(s.target.id, toVoid.id, "object of the voiding statement");
          } else {
            eq(s.verb.id, ids.verb, "verb of a queried statement");
          }
          eq(s.actor.mbox, ids.mbox, "actor of a queried statement");
        }
        if (!page.more) break;
        page = await ok("moreStatements", { url: page.more });
      }
      eq([...seen].sort(), [...stored].sort(), "statements found by paging (the voided one excluded, its voiding one included)");
      check(pages >= 4, `${stored.length} statements at limit 2 came in only ${pages} pages`);
    },
  ],
  [
    "attachments: multipart PUT, then retrieveStatement and queryStatements with attachments=true",
    async () => {
      const verb = `${ids.verb}/attached`;
      const content = `attachment of ${ids.tag}`;
      const s = new TinCan.Statement({
        actor: { mbox: ids.mbox },
        verb: { id: verb },
        target: { id: ids.activity },
        attachments: [
          {
            usageType: "http://id.tincanapi.com/attachment/supporting_media",
            display: { "en-US": "notes" },
            contentType: "text/plain",
            content,
          },
        ],
      });
      eq((await ok("saveStatement", s, {})).status, 204, "multipart PUT statement status");

      const got = await ok("retrieveStatement", s.id, { params: { attachments: true } });
      eq(got.attachments.length, 1, "attachments on the retrieved statement");
      eq(got.attachments[0].sha2, s.attachments[0].sha2, "attachment sha2");
      eq(TinCan.Utils.stringFromArrayBuffer(got.attachments[0].content), content, "attachment content (by statementId)");

      const page = await ok("queryStatements", {
        params: { verb: new TinCan.Verb({ id: verb }), agent: actor, attachments: true },
      });
      eq(page.statements.map((x) => x.id), [s.id], "statements found with attachments=true");
      const att = page.statements[0].attachments[0];
      eq(TinCan.Utils.stringFromArrayBuffer(att.content), content, "attachment content (by query)");
    },
  ],
  [
    "State: save, retrieve, If-Match update, stale If-Match 412, POST merge, ids, delete",
    async () => {
      const activity = new TinCan.Activity({ id: ids.activity });
      const registration = TinCan.Utils.getUUID();
      const where = { activity, agent: actor, registration };
      const put = await ok("saveState", "bookmark", { page: 3, done: false }, {
        ...where,
        contentType: "application/json",
      });
      eq(put.status, 204, "PUT state status");

      let state = await ok("retrieveState", "bookmark", where);
      check(state instanceof TinCan.State, `retrieveState gave ${state}`);
      eq(state.contents, { page: 3, done: false }, "state contents");
      check(TinCan.Utils.isApplicationJSON(state.contentType), `state content type ${state.contentType}`);
      check(state.etag, "state has no ETag");
      const first = state.etag;

      await ok("saveState", "bookmark", { page: 4, done: false }, {
        ...where,
        contentType: "application/json",
        lastSHA1: first,
      });
      const stale = await call("saveState", "bookmark", { page: 99 }, {
        ...where,
        contentType: "application/json",
        lastSHA1: first,
      });
      eq(stale.err, 412, "PUT state with a stale If-Match: error status");

      // POST merges JSON objects.
      await ok("saveState", "bookmark", { done: true }, { ...where, contentType: "application/json", method: "POST" });
      state = await ok("retrieveState", "bookmark", where);
      eq(state.contents, { page: 4, done: true }, "state after PUT with If-Match and POST merge");
      check(state.etag !== first, "ETag did not change with the content");

      await ok("saveState", "notes", "plain text, not JSON", { ...where, contentType: "text/plain" });
      const text = await ok("retrieveState", "notes", where);
      eq(text.contents, "plain text, not JSON", "text state contents");

      const stateIds = await ok("retrieveStateIds", where);
      eq([...stateIds].sort(), ["bookmark", "notes"], "state ids");

      await ok("dropState", "bookmark", where);
      eq(await ok("retrieveState", "bookmark", where), null, "retrieveState after dropState");
      await ok("dropState", null, where); // all of this registration's states
      eq(await ok("retrieveState", "notes", where), null, "retrieveState after dropping all");
      eq(await ok("retrieveStateIds", where), [], "state ids after dropping all");
    },
  ],
  [
    "Activity Profile: create (If-None-Match *), retrieve, If-Match update, conflicts, delete",
    async () => {
      const activity = new TinCan.Activity({ id: ids.activity });
      const key = "interop-profile";
      await ok("saveActivityProfile", key, { level: 1 }, { activity, contentType: "application/json" });

      let profile = await ok("retrieveActivityProfile", key, { activity });
      check(profile instanceof TinCan.ActivityProfile, `retrieveActivityProfile gave ${profile}`);
      eq(profile.contents, { level: 1 }, "activity profile contents");
      check(profile.etag, "activity profile has no ETag");

      // No lastSHA1 means If-None-Match: *, which must fail now that it exists.
      const again = await call("saveActivityProfile", key, { level: 9 }, { activity, contentType: "application/json" });
      eq(again.err, 412, "create of an existing activity profile (If-None-Match: *): error status");

      await ok("saveActivityProfile", key, { level: 2 }, {
        activity,
        contentType: "application/json",
        lastSHA1: profile.etag,
      });
      const stale = await call("saveActivityProfile", key, { level: 9 }, {
        activity,
        contentType: "application/json",
        lastSHA1: profile.etag,
      });
      eq(stale.err, 412, "activity profile PUT with a stale If-Match: error status");
      profile = await ok("retrieveActivityProfile", key, { activity });
      eq(profile.contents, { level: 2 }, "activity profile after update");

      const keys = await ok("retrieveActivityProfileIds", { activity });
      eq(keys, [key], "activity profile ids");
      await ok("dropActivityProfile", key, { activity });
      eq(await ok("retrieveActivityProfile", key, { activity }), null, "activity profile after drop");
    },
  ],
  [
    "Agent Profile: create (If-None-Match *), retrieve, If-Match update, conflicts, delete",
    async () => {
      const key = "interop-preferences";
      await ok("saveAgentProfile", key, { lang: "fr" }, { agent: actor, contentType: "application/json" });

      let profile = await ok("retrieveAgentProfile", key, { agent: actor });
      check(profile instanceof TinCan.AgentProfile, `retrieveAgentProfile gave ${profile}`);
      eq(profile.contents, { lang: "fr" }, "agent profile contents");
      check(profile.etag, "agent profile has no ETag");

      const again = await call("saveAgentProfile", key, { lang: "xx" }, { agent: actor, contentType: "application/json" });
      eq(again.err, 412, "create of an existing agent profile (If-None-Match: *): error status");

      await ok("saveAgentProfile", key, { lang: "de" }, {
        agent: actor,
        contentType: "application/json",
        lastSHA1: profile.etag,
      });
      const stale = await call("saveAgentProfile", key, { lang: "xx" }, {
        agent: actor,
        contentType: "application/json",
        lastSHA1: profile.etag,
      });
      eq(stale.err, 412, "agent profile PUT with a stale If-Match: error status");
      profile = await ok("retrieveAgentProfile", key, { agent: actor });
      eq(profile.contents, { lang: "de" }, "agent profile after update");

      eq(await ok("retrieveAgentProfileIds", { agent: actor }), [key], "agent profile ids");
      await ok("dropAgentProfile", key, { agent: actor });
      eq(await ok("retrieveAgentProfile", key, { agent: actor }), null, "agent profile after drop");
    },
  ],
]);

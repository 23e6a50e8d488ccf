// xAPI.js (npm `@xapi/xapi`, its default axios adapter) against a running Cairn: statements (store,
// batch, fetch, void, query and page) and the three document resources with ETag concurrency.
// Usage: CAIRN_URL=http://127.0.0.1:8080/xapi/ CAIRN_KEY=... CAIRN_SECRET=... node xapijs.js
"use strict";

const XAPI = require("@xapi/xapi");
const crypto = require("crypto");
const { target, fail, check, eq, run, steps } = require("./common");

const CLIENT = "xapijs";
const t = target();
const ids = run(CLIENT);

const xapi = new XAPI({
  endpoint: t.endpoint,
  auth: XAPI.toBasicAuth(t.key, t.secret),
  version: "1.0.3",
});

// The same client on its fetch adapter (Node's own fetch), which keeps the multipart Content-Type.
const viaFetch = new XAPI({
  endpoint: t.endpoint,
  auth: XAPI.toBasicAuth(t.key, t.secret),
  version: "1.0.3",
  adapter: "fetch",
});

/** Runs an xAPI.js call; resolves to {status, data, headers} whether the LRS said yes or no. */
async function call(method, params) {
  try {
    const r = await xapi[method](params);
    return { status: r.status, data: r.data, headers: r.headers };
  } catch (e) {
    if (e && e.response) {
      return { status: e.response.status, data: e.response.data, headers: e.response.headers };
    }
    throw e;
  }
}

/** Like call, but an answer outside 2xx fails the step. */
async function ok(method, params) {
  const r = await call(method, params);
  if (r.status < 200 || r.status > 299) {
    fail(`${method} answered ${r.status}: ${JSON.stringify(r.data)}`);
  }
  return r;
}

const actor = { objectType: "Agent", mbox: ids.mbox, name: "Interop xAPI.js" };

function statement(activity) {
  return {
    actor,
    verb: { id: ids.verb, display: { "en-US": "interop" } },
    object: { objectType: "Activity", id: activity, definition: { name: { "en-US": "Interop activity" } } },
  };
}

const stored = []; // ids the verb+agent query must find
let first = null;
let toVoid = null;
let voidingId = null;

function sameStatement(got, id, activity, what) {
  check(got && typeof got === "object", `${what}: no statement came back`);
  eq(got.id, id, `${what}: id`);
  eq(got.verb.id, ids.verb, `${what}: verb`);
  eq(got.actor.mbox, ids.mbox, `${what}: actor mbox`);
  eq(got.object.id, activity, `${what}: object id`);
  check(got.stored, `${what}: no stored timestamp`);
  check(got.authority, `${what}: no authority`);
}

steps(CLIENT, [
  [
    "getAbout lists 1.0.3",
    async () => {
      const about = await ok("getAbout");
      check(about.data.version.includes("1.0.3"), `about.version ${JSON.stringify(about.data.version)}`);
    },
  ],
  [
    "sendStatement (POST, LRS-assigned id)",
    async () => {
      const r = await ok("sendStatement", { statement: statement(ids.activity) });
      check(Array.isArray(r.data) && r.data.length === 1, `sendStatement answered ${JSON.stringify(r.data)}`);
      first = r.data[0];
      stored.push(first);
    },
  ],
  [
    "sendStatements stores a batch of 6, one with its own id",
    async () => {
      const own = crypto.randomUUID();
      const batch = [];
      for (let i = 0; i < 6; i += 1) batch.push(statement(`${ids.activity}/batch/${i}`));
      batch[2].id = own;
      const r = await ok("sendStatements", { statements: batch });
      check(Array.isArray(r.data) && r.data.length === 6, `sendStatements answered ${JSON.stringify(r.data)}`);
      eq(r.data[2], own, "id answered for the statement that had one");
      eq(new Set(r.data).size, 6, "distinct ids answered");
      r.data.forEach((id) => stored.push(id));
      toVoid = { id: r.data[4], activity: `${ids.activity}/batch/4` };
    },
  ],
  [
    "getStatement returns what was stored",
    async () => {
      sameStatement((await ok("getStatement", { statementId: first })).data, first, ids.activity, "first");
      sameStatement((await ok("getStatement", { statementId: toVoid.id })).data, toVoid.id, toVoid.activity, "batch");
    },
  ],
  [
    "voidStatement: getVoidedStatement returns it, getStatement is 404",
    async () => {
      const r = await ok("voidStatement", { actor, statementId: toVoid.id });
      voidingId = r.data[0];
      stored.splice(stored.indexOf(toVoid.id), 1);
      // A statement targeting another meets a query's filters when its target does (xAPI 1.0.3).
      stored.push(voidingId);

      const voided = await ok("getVoidedStatement", { voidedStatementId: toVoid.id });
      sameStatement(voided.data, toVoid.id, toVoid.activity, "voided statement");
      eq((await call("getStatement", { statementId: toVoid.id })).status, 404, "getStatement of a voided statement");
      eq((await call("getVoidedStatement", { voidedStatementId: first })).status, 404, "getVoidedStatement of a live one");

      const voiding = (await ok("getStatement", { statementId: voidingId })).data;
      eq(voiding.verb.id, "http://adlnet.gov/expapi/verbs/voided", "verb of the voiding statement");
      eq(voiding.object, { objectType: "StatementRef", id: toVoid.id }, "object of the voiding statement");
    },
  ],
  [
    "getStatements verb+agent, limit 2, following more with getMoreStatements",
    async () => {
      const seen = new Set();
      let pages = 0;
      let page = (await ok("getStatements", { agent: actor, verb: ids.verb, limit: 2 })).data;
      for (;;) {
        pages += 1;
        check(pages <= 20, "more links never ended");
        check(page.statements.length <= 2, `page of ${page.statements.length} statements for limit 2`);
        for (const s of page.statements) {
          check(!seen.has(s.id), `statement ${s.id} returned twice`);
          seen.add(s.id);
          eq(s.actor.mbox, ids.mbox, "actor of a queried statement");
        }
        if (!page.more) break;
        check(page.more.startsWith("/"), `more is not an absolute path: ${page.more}`);
        page = (await ok("getMoreStatements", { more: page.more })).data;
      }
      eq([...seen].sort(), [...stored].sort(), "statements found by paging (the voided one excluded, its voiding one included)");
      check(pages >= 3, `${stored.length} statements at limit 2 came in only ${pages} pages`);
    },
  ],
  [
    "attachments: sendStatement multipart (default adapter, and fetch), getStatement and getStatements with attachments",
    async () => {
      const verb = `${ids.verb}/attached`;
      const content = `attachment of ${ids.tag}`;
      const attachment = {
        usageType: XAPI.AttachmentUsages.SUPPORTING_MEDIA,
        display: { "en-US": "notes" },
        contentType: "text/plain",
        length: Buffer.byteLength(content),
        sha2: crypto.createHash("sha256").update(content).digest("hex"),
      };
      const st = { actor, verb: { id: verb }, object: { objectType: "Activity", id: ids.activity }, attachments: [attachment] };

      // With its default axios adapter under Node, xAPI.js 3.0.3 sends the multipart body it builds
      // (a Blob) as application/octet-stream: axios replaces the multipart/mixed Content-Type. Cairn
      // reads a body that opens with a delimiter line as the multipart request it is, so the default
      // client is used throughout; the fetch adapter, which keeps the header, is checked too (another
      // verb, so the queries below see only the default one).
      const viaAxios = await ok("sendStatement", { statement: st, attachments: [content] });
      check(Array.isArray(viaAxios.data) && viaAxios.data.length === 1, `sendStatement answered ${JSON.stringify(viaAxios.data)}`);
      const id = viaAxios.data[0];
      const fetched = await viaFetch.sendStatement({ statement: { ...st, verb: { id: `${verb}/fetch` } }, attachments: [content] });
      check(Array.isArray(fetched.data) && fetched.data.length === 1, `fetch adapter sendStatement answered ${JSON.stringify(fetched.data)}`);

      const got = (await ok("getStatement", { statementId: id, attachments: true })).data;
      check(Array.isArray(got) && got.length === 2, `getStatement with attachments gave ${JSON.stringify(got)}`);
      eq(got[0].id, id, "statement part id");
      eq(got[0].attachments[0].sha2, attachment.sha2, "attachment sha2");
      eq(got[1], content, "attachment content (by statementId)");

      const page = (await ok("getStatements", { agent: actor, verb, attachments: true })).data;
      check(Array.isArray(page) && page.length === 2, `getStatements with attachments gave ${JSON.stringify(page)}`);
      eq(page[0].statements.map((s) => s.id), [id], "statements found with attachments=true");
      eq(page[1], content, "attachment content (by query)");
    },
  ],
  [
    "State: setState, getState with ETag, If-Match / If-None-Match, createState merge, getStates, delete",
    async () => {
      const registration = crypto.randomUUID();
      const where = { agent: actor, activityId: ids.activity, registration };
      await ok("setState", { ...where, stateId: "progress", state: { slide: 1 }, contentType: "application/json" });

      let got = await ok("getState", { ...where, stateId: "progress" });
      eq(got.data, { slide: 1 }, "state contents");
      check(String(got.headers["content-type"]).startsWith("application/json"), `content type ${got.headers["content-type"]}`);
      const etag = got.headers.etag;
      check(etag, "state has no ETag");

      const created = await call("setState", {
        ...where,
        stateId: "progress",
        state: { slide: 9 },
        etag: "*",
        matchHeader: "If-None-Match",
      });
      eq(created.status, 412, "setState If-None-Match: * on an existing state");
      await ok("setState", { ...where, stateId: "progress", state: { slide: 2 }, etag, matchHeader: "If-Match" });
      const stale = await call("setState", { ...where, stateId: "progress", state: { slide: 9 }, etag, matchHeader: "If-Match" });
      eq(stale.status, 412, "setState with a stale If-Match");

      await ok("createState", { ...where, stateId: "progress", state: { visited: [1, 2] } });
      got = await ok("getState", { ...where, stateId: "progress" });
      eq(got.data, { slide: 2, visited: [1, 2] }, "state after If-Match PUT and POST merge");
      check(got.headers.etag !== etag, "ETag did not change with the content");

      await ok("setState", { ...where, stateId: "blob", state: "raw text", contentType: "text/plain" });
      eq((await ok("getState", { ...where, stateId: "blob" })).data, "raw text", "text state");
      eq([...(await ok("getStates", where)).data].sort(), ["blob", "progress"], "state ids");

      const wrong = await call("deleteState", { ...where, stateId: "progress", etag });
      eq(wrong.status, 412, "deleteState with a stale If-Match");
      await ok("deleteState", { ...where, stateId: "progress", etag: got.headers.etag });
      eq((await call("getState", { ...where, stateId: "progress" })).status, 404, "getState after deleteState");
      await ok("deleteStates", where);
      eq((await ok("getStates", where)).data, [], "state ids after deleteStates");
    },
  ],
  [
    "Activity Profile: set (If-None-Match *), get, If-Match update, merge, conflicts, delete",
    async () => {
      const where = { activityId: ids.activity, profileId: "interop-config" };
      await ok("setActivityProfile", { ...where, profile: { a: 1 }, etag: "*", matchHeader: "If-None-Match" });
      let got = await ok("getActivityProfile", where);
      eq(got.data, { a: 1 }, "activity profile contents");
      const etag = got.headers.etag;
      check(etag, "activity profile has no ETag");

      const again = await call("setActivityProfile", { ...where, profile: { a: 9 }, etag: "*", matchHeader: "If-None-Match" });
      eq(again.status, 412, "setActivityProfile If-None-Match: * on an existing profile");
      await ok("setActivityProfile", { ...where, profile: { a: 2 }, etag, matchHeader: "If-Match" });
      const stale = await call("setActivityProfile", { ...where, profile: { a: 9 }, etag, matchHeader: "If-Match" });
      eq(stale.status, 412, "setActivityProfile with a stale If-Match");

      got = await ok("getActivityProfile", where);
      await ok("createActivityProfile", { ...where, profile: { b: true }, etag: got.headers.etag, matchHeader: "If-Match" });
      got = await ok("getActivityProfile", where);
      eq(got.data, { a: 2, b: true }, "activity profile after update and POST merge");

      eq((await ok("getActivityProfiles", { activityId: ids.activity })).data, ["interop-config"], "profile ids");
      eq((await call("deleteActivityProfile", { ...where, etag })).status, 412, "deleteActivityProfile with a stale If-Match");
      await ok("deleteActivityProfile", { ...where, etag: got.headers.etag });
      eq((await call("getActivityProfile", where)).status, 404, "getActivityProfile after delete");
    },
  ],
  [
    "Agent Profile: set (If-None-Match *), get, If-Match update, merge, conflicts, delete",
    async () => {
      const where = { agent: actor, profileId: "interop-prefs" };
      await ok("setAgentProfile", { ...where, profile: { theme: "dark" }, etag: "*", matchHeader: "If-None-Match" });
      let got = await ok("getAgentProfile", where);
      eq(got.data, { theme: "dark" }, "agent profile contents");
      const etag = got.headers.etag;
      check(etag, "agent profile has no ETag");

      const again = await call("setAgentProfile", { ...where, profile: { theme: "x" }, etag: "*", matchHeader: "If-None-Match" });
      eq(again.status, 412, "setAgentProfile If-None-Match: * on an existing profile");
      await ok("setAgentProfile", { ...where, profile: { theme: "light" }, etag, matchHeader: "If-Match" });
      const stale = await call("setAgentProfile", { ...where, profile: { theme: "x" }, etag, matchHeader: "If-Match" });
      eq(stale.status, 412, "setAgentProfile with a stale If-Match");

      got = await ok("getAgentProfile", where);
      await ok("createAgentProfile", { ...where, profile: { size: 12 }, etag: got.headers.etag, matchHeader: "If-Match" });
      got = await ok("getAgentProfile", where);
      eq(got.data, { theme: "light", size: 12 }, "agent profile after update and POST merge");

      eq((await ok("getAgentProfiles", { agent: actor })).data, ["interop-prefs"], "agent profile ids");
      eq((await call("deleteAgentProfile", { ...where, etag })).status, 412, "deleteAgentProfile with a stale If-Match");
      await ok("deleteAgentProfile", { ...where, etag: got.headers.etag });
      eq((await call("getAgentProfile", where)).status, 404, "getAgentProfile after delete");
    },
  ],
]);

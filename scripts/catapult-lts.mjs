#!/usr/bin/env node
// Runs ADL's cmi5 LMS test suite packages (CATAPULT `lts/`) against Cairn in headless Chromium.
//
// CATAPULT is not vendored (and CI cannot fetch it), so this is a manual check. Build the packages first:
//   git clone https://github.com/adlnet/CATAPULT && cd CATAPULT/lts
//   PUPPETEER_SKIP_DOWNLOAD=1 npm ci --ignore-scripts && cd pkg && npx webpack
// then, from Cairn's folder, after `cargo build`:
//   node scripts/catapult-lts.mjs /path/to/CATAPULT/lts/pkg/dist
//
// For every package zip this starts from a fresh `cairn serve` (SQLite in a temp folder), imports the
// package over the admin API, launches each AU in Normal mode for a test learner (Browse and Review
// for 006-launchMode, whose AU expects them) and waits for the AU's verdict, the `<pre id="result">` CATAPULT's test AUs write.
// The suite's own jest procedure adds LMS-side checks on the statements afterwards; those are not
// reproduced here. Packages 1xx (valid) and 2xx (invalid) test the import only. Needs chromium and
// chromedriver (Debian: chromium, chromium-driver).
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';

const dist = process.argv[2];
if (!dist) {
  console.error('usage: node scripts/catapult-lts.mjs CATAPULT/lts/pkg/dist [path/to/cairn]');
  process.exit(2);
}
const cairn = process.argv[3] || 'target/debug/cairn';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

async function until(what, f, ms = 30000) {
  const start = Date.now();
  for (;;) {
    try { const v = await f(); if (v) return v; } catch { /* not yet */ }
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

async function startCairn() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'cairn-lts-'));
  const base = `http://127.0.0.1:${port}`;
  const proc = spawn(cairn, ['serve'], {
    stdio: 'ignore',
    env: {
      ...process.env, CAIRN_DATABASE_URL: `sqlite://${dir}/cairn.db`, CAIRN_LISTEN: `127.0.0.1:${port}`,
      CAIRN_PUBLIC_URL: base, CAIRN_BOOTSTRAP_KEY: 'lts', CAIRN_BOOTSTRAP_SECRET: 'lts-secret', CAIRN_LOG: 'warn'
    }
  });
  await until('cairn', async () => (await fetch(`${base}/xapi/about`)).ok);
  return { proc, base, auth: 'Basic ' + Buffer.from('lts:lts-secret').toString('base64') };
}

async function startBrowser() {
  const port = await freePort();
  // Its own process group, so that killing it takes its browsers along.
  const proc = spawn('chromedriver', [`--port=${port}`], { stdio: 'ignore', detached: true });
  const driver = `http://127.0.0.1:${port}`;
  const caps = { capabilities: { alwaysMatch: { browserName: 'chrome', 'goog:chromeOptions': {
    binary: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--no-first-run', '--disable-sync', '--disable-dev-shm-usage', '--disable-crash-reporter', '--disable-breakpad']
  } } } };
  const session = await until('chromedriver', async () => {
    const r = await fetch(`${driver}/session`, { method: 'POST', body: JSON.stringify(caps) });
    return (await r.json()).value.sessionId;
  });
  const url = `${driver}/session/${session}`;
  const cmd = async (method, path, body) => (await (await fetch(url + path, { method, body: body && JSON.stringify(body) })).json()).value;
  return {
    proc,
    open: (u) => cmd('POST', '/url', { url: u }),
    eval: (script) => cmd('POST', '/execute/sync', { script, args: [] }),
    quit: () => fetch(url, { method: 'DELETE' })
  };
}

function modules(nodes, out = []) {
  for (const n of nodes || []) { if (n.children) modules(n.children, out); else out.push(n); }
  return out;
}

const browser = await startBrowser();
const stopBrowser = () => { try { process.kill(-browser.proc.pid, 'SIGTERM'); } catch { /* gone */ } };
process.on('exit', stopBrowser);
const rows = [];
for (const zip of readdirSync(dist).filter((f) => f.endsWith('.zip')).sort()) {
  const server = await startCairn();
  try {
    const imp = await fetch(`${server.base}/api/courses`, { method: 'POST', headers: { Authorization: server.auth }, body: readFileSync(join(dist, zip)) });
    const course = await imp.json();
    if (imp.status !== 201) {
      // 2xx packages are the suite's invalid packages: refusing them is the pass.
      rows.push([zip, '-', 'import', (zip.startsWith('2') ? 'PASS refused: ' : 'FAIL refused: ') + (course.error ? course.error.message : imp.status)]);
      continue;
    }
    if (zip.startsWith('1')) {
      // 1xx packages test import only (their AUs are empty): accepting them is the pass.
      rows.push([zip, '-', 'import', 'PASS accepted']);
      continue;
    }
    if (zip.startsWith('2')) {
      rows.push([zip, '-', 'import', 'FAIL accepted an invalid package']);
      continue;
    }
    const modes = zip.startsWith('006-') ? ['Browse', 'Review'] : ['Normal'];
    for (const m of modules(course.course.root)) {
      for (const mode of modes) {
        const res = await fetch(`${server.base}/api/launches`, {
          method: 'POST', headers: { Authorization: server.auth, 'Content-Type': 'application/json' },
          body: JSON.stringify({ course: course.id, module: m.id, mode, learner: { objectType: 'Agent', account: { homePage: 'https://cairn.example/lts', name: 'lts-learner' } } })
        });
        const l = await res.json();
        if (res.status !== 201) { rows.push([zip, m.id, mode, 'launch refused: ' + JSON.stringify(l)]); continue; }
        await browser.open(l.url);
        if (zip.startsWith('008-')) {
          // The abandonment procedure: the AU shows a button once its session is set up; launching the
          // AU again abandons that session, and the button has the AU check it can no longer write.
          try {
            await until('the abandon button', () => browser.eval("return !!document.getElementById('abandon');"), 60000);
            await fetch(`${server.base}/api/launches`, {
              method: 'POST', headers: { Authorization: server.auth, 'Content-Type': 'application/json' },
              body: JSON.stringify({ course: course.id, module: m.id, learner: l.learner })
            });
            await browser.eval("document.getElementById('abandon').click(); return true;");
          } catch (e) { /* the verdict below reports it */ }
        }
        let verdict;
        try {
          verdict = JSON.parse(await until('the AU result', () => browser.eval("var r = document.getElementById('result'); return r && r.textContent;"), 90000));
        } catch (e) {
          const page = await browser.eval('return document.body ? document.body.innerText.slice(-300) : "";');
          verdict = { success: false, isError: true, msg: `${e}; page ends: ${JSON.stringify(page)}` };
        }
        rows.push([zip, m.id, mode, verdict.success && !verdict.isError ? 'PASS' : `FAIL ${verdict.reqId || ''} ${verdict.msg || ''}`]);
      }
    }
  } finally {
    server.proc.kill();
  }
}
await browser.quit();
for (const r of rows) console.log(r.join('  '));
const failed = rows.filter((r) => !String(r[3]).startsWith('PASS')).length;
console.log(`${rows.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

// A real OpenID provider for the single sign-on tests (tests/api/oidc.rs): the npm package
// `oidc-provider` (a certified OpenID Connect implementation) with its development login pages, which
// accept any login and password; the login is the account's `sub`.
//
// Protocol on stdio: prints {"issuer": URL} once listening on a loopback port, reads one JSON line
// {"clients": [...], "accounts": {sub: claims}}, prints {"ready": true}, and exits when stdin closes.
// A browser holding the cookie `cairn_hold_callback=1` on the provider's origin is shown a link to the
// client's callback instead of being redirected to it (see below).
import http from 'node:http';
import readline from 'node:readline';
import Provider from 'oidc-provider';

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;
console.log(JSON.stringify({ issuer }));

const rl = readline.createInterface({ input: process.stdin });
const line = await new Promise((resolve) => rl.once('line', resolve));
const { clients, accounts } = JSON.parse(line);
rl.on('close', () => process.exit(0));

const provider = new Provider(issuer, {
  clients,
  findAccount: async (ctx, sub) => ({ accountId: sub, claims: async () => ({ sub, ...(accounts[sub] || {}) }) }),
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    cairn: ['cairn_role'],
  },
  scopes: ['openid', 'email', 'profile', 'cairn'],
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['cairn-tests-only'] },
});
// The development pages warn on every start; the tests read only the JSON lines.
provider.on('server_error', (ctx, err) => console.error('oidc-provider server_error', err));
// A browser holding the cookie `cairn_hold_callback=1` (which a test sets on the provider's pages) is
// not sent on to a client's redirect URI: it gets a page linking to it instead (`#cairn-held-callback`),
// so that the test can fetch the callback itself and read the client's answer as served (Cairn's
// "signed in" page moves on by a meta refresh at once). Without the cookie nothing changes.
const redirectUris = clients.flatMap((c) => c.redirect_uris || []);
const handle = provider.callback();
const escapeHtml = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
server.on('request', (req, res) => {
  if (/(^|;\s*)cairn_hold_callback=1(;|$)/.test(req.headers.cookie || '')) {
    const end = res.end.bind(res);
    res.end = (...args) => {
      const location = res.getHeader('location');
      const held = res.statusCode >= 300 && res.statusCode < 400 && typeof location === 'string'
        && redirectUris.some((u) => location.startsWith(`${u}?`));
      if (!held) return end(...args);
      const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Held</title></head>`
        + `<body><a id="cairn-held-callback" href="${escapeHtml(location)}">the callback</a></body></html>`;
      res.statusCode = 200;
      res.removeHeader('location');
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.setHeader('content-length', Buffer.byteLength(page));
      return end(page);
    };
  }
  handle(req, res);
});
console.log(JSON.stringify({ ready: true }));

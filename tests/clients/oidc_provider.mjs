// A real OpenID provider for the single sign-on tests (tests/api/oidc.rs): the npm package
// `oidc-provider` (a certified OpenID Connect implementation) with its development login pages, which
// accept any login and password; the login is the account's `sub`.
//
// Protocol on stdio: prints {"issuer": URL} once listening on a loopback port, reads one JSON line
// {"clients": [...], "accounts": {sub: claims}}, prints {"ready": true}, and exits when stdin closes.
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
server.on('request', provider.callback());
console.log(JSON.stringify({ ready: true }));

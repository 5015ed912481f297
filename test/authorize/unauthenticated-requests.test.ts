import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_PARAMETER_LENGTH, MAX_PARAMETERS } from '../../src/authorization/authorize/params.ts';
import { pageMessage } from '../helpers/oauth-flow.ts';
import { location, PASSWORD, setup, testBrowser, USERNAME, type Fixture } from './setup.ts';

const from = (ip: string) => ({ incoming: { socket: { remoteAddress: ip } } });

/** Counts the authorization requests the real storage writes. */
function countStoredRequests(f: Fixture): { rows: () => number } {
  const requests = f.app.storage.authorizationRequests;
  const create = requests.create.bind(requests);
  let rows = 0;
  requests.create = async (record) => {
    await create(record);
    rows++;
  };
  return { rows: () => rows };
}

async function flood(f: Fixture, n: number, ip: string): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const response = await f.app.app.request(f.url({ state: `s${i}`, nonce: 'n'.repeat(500) }).href, {}, from(ip));
    await response.body?.cancel();
    statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
  }
  return statuses;
}

describe('HARD-2 unauthenticated authorization requests', () => {
  it('HARD-2 SEC-48 500 GET /authorize from one address store no row and get 429 with Retry-After past authorizePerMinute', async () => {
    const f = await setup({ config: { authorizePerMinute: 60 } });
    const stored = countStoredRequests(f);
    const statuses = await flood(f, 500, '203.0.113.7');
    assert.equal(statuses.get(303), 60, 'the burst is authorizePerMinute');
    assert.equal(statuses.get(429), 440);
    assert.equal(stored.rows(), 0, 'nothing is stored before someone signs in');

    const limited = await f.app.app.request(f.url().href, {}, from('203.0.113.7'));
    assert.equal(limited.status, 429);
    const retryAfter = Number(limited.headers.get('Retry-After'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    assert.match(pageMessage(await limited.text()), /Too many/);
    assert.equal((await f.app.app.request(f.url().href, {}, from('198.51.100.9'))).status, 303, 'another address is not affected');
    f.app.clock.advance(retryAfter * 1000);
    assert.equal((await f.app.app.request(f.url().href, {}, from('203.0.113.7'))).status, 303, 'the address recovers');
  });

  it('HARD-2 without the rate limit in the way, 500 unauthenticated requests still store nothing', async () => {
    const f = await setup({ config: { authorizePerMinute: 100_000 } });
    const stored = countStoredRequests(f);
    const statuses = await flood(f, 500, '203.0.113.7');
    assert.equal(statuses.get(303), 500);
    assert.equal(stored.rows(), 0);
  });

  it('HARD-2 the request is stored once a signed-in user must consent, and the flow completes', async () => {
    const f = await setup();
    const stored = countStoredRequests(f);
    const browser = testBrowser(f);
    const login = await browser.open(f.url());
    assert.equal(stored.rows(), 0);
    const afterLogin = await browser.submit(login.form!, { username: USERNAME, password: PASSWORD });
    assert.equal(location(afterLogin).pathname, '/consent');
    assert.equal(stored.rows(), 1);
    const consent = await browser.open(location(afterLogin));
    const allowed = await browser.submit(consent.form!, {}, (b) => b.value === 'allow');
    assert.ok(location(allowed).searchParams.get('code'));
    assert.equal(location(allowed).searchParams.get('state'), 'xyz-state');
  });

  it('HARD-2 a sealed login link cannot be altered, and expires with the request (10 minutes)', async () => {
    const f = await setup();
    const browser = testBrowser(f);
    const link = location(await f.app.request(f.url().href));
    const handle = link.searchParams.get('request')!;
    const [payload = '', mac = ''] = handle.split('.');
    const fields = JSON.parse(Buffer.from(payload, 'base64url').toString()) as unknown[];
    fields[2] = 'http://127.0.0.1:9999/evil';
    const altered = `${Buffer.from(JSON.stringify(fields)).toString('base64url')}.${mac}`;
    const tampered = await browser.open(new URL(`/login?request=${encodeURIComponent(altered)}`, f.app.origin));
    assert.equal(tampered.response.status, 400);
    assert.match(pageMessage(tampered.html), /expired/);

    assert.equal((await browser.open(link)).response.status, 200);
    f.app.clock.advance(10 * 60_000 + 1);
    const late = await browser.open(link);
    assert.equal(late.response.status, 400);
    assert.match(pageMessage(late.html), /expired/);
  });

  for (const [name, max] of Object.entries(MAX_PARAMETER_LENGTH)) {
    it(`HARD-2 a ${name} longer than ${max} characters is refused with a clear 400 and stores nothing`, async () => {
      const f = await setup();
      const stored = countStoredRequests(f);
      const response = await f.app.request(f.url({ [name]: 'a'.repeat(max + 1) }).href);
      assert.equal(response.status, 400);
      assert.equal(response.headers.get('Location'), null);
      assert.match(await response.text(), new RegExp(`${name} parameter is too long \\(at most ${max} characters\\)`));
      assert.equal(stored.rows(), 0);
    });
  }

  it('HARD-2 parameters the server ignores are capped too, and so is their number', async () => {
    const f = await setup();
    const long = await f.app.request(f.url({ extension: 'x'.repeat(2001) }).href);
    assert.equal(long.status, 400);
    assert.match(await long.text(), /extension parameter is too long/);
    const many = f.url();
    for (let i = 0; i < MAX_PARAMETERS; i++) many.searchParams.append(`p${i}`, 'x');
    const tooMany = await f.app.request(many.href);
    assert.equal(tooMany.status, 400);
    assert.match(await tooMany.text(), /too many parameters/);
    // At the caps, the sealed request still fits the login link and form, and signing in works.
    const browser = testBrowser(f);
    const login = await browser.open(f.url({ state: 's'.repeat(MAX_PARAMETER_LENGTH.state!), nonce: 'n'.repeat(MAX_PARAMETER_LENGTH.nonce!) }));
    assert.equal(login.response.status, 200);
    const signedIn = await browser.submit(login.form!, { username: USERNAME, password: PASSWORD });
    assert.equal(location(signedIn).pathname, '/consent');
  });
});

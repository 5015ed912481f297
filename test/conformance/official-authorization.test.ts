import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { authorizeWithForms, registerPublicClient } from '../helpers/oauth-flow.ts';
import {
  CONFORMANCE_USER,
  conformanceVersion,
  readChecks,
  runConformanceCli,
  startFrontedPortcullis,
  temporaryDirectory,
  type CliRun,
  type ConformanceCheck,
  type FrontedPortcullis,
} from './harness.ts';

/**
 * The official suite's authorization-server check (`conformance authorization`, 0.2.0 alphas only;
 * requirements reference §3.6) against the built-in authorization server on 127.0.0.1. The CLI
 * prints an authorization URL and waits for the browser to come back to its loopback callback; the
 * test plays the person: it opens the URL, signs in and consents through the real pages
 * (`authorizeWithForms`), then delivers the final redirect to the CLI's callback.
 */

const RUN_TIMEOUT_MS = 60_000;

/** A free loopback port for the CLI's callback server (it needs one known in advance). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe(`official conformance ${conformanceVersion('alpha')}: authorization command against the built-in authorization server`, () => {
  let real: FrontedPortcullis;
  const out = temporaryDirectory('portcullis-conformance-as-');
  let run: CliRun;
  let callback: URL | undefined;
  let checks: ConformanceCheck[];

  before(async () => {
    real = await startFrontedPortcullis();
    const port = await freePort();
    const redirectUri = `http://127.0.0.1:${port}/callback`;
    const client = await registerPublicClient(real.portcullis.ctx.storage, { redirectUris: [redirectUri], clientName: 'MCP conformance suite' });

    let driving: Promise<void> | undefined;
    run = await runConformanceCli(
      'alpha',
      ['authorization', '--url', real.origin, '--client-id', client.clientId, '--resource', `${real.origin}/mcp`, '--port', String(port), '-o', out.path],
      {
        timeoutMs: RUN_TIMEOUT_MS,
        onStdout: (_chunk, all) => {
          // The CLI prints the authorization URL on a line of its own, then waits for the callback.
          const printed = all.split('\n').find((line) => line.startsWith(`${real.origin}/authorize?`));
          if (!printed || driving) return;
          driving = (async () => {
            callback = await authorizeWithForms({ fetch: (u, i) => fetch(u, i), authorizationUrl: printed.trim(), ...CONFORMANCE_USER });
            assert.equal(`${callback.origin}${callback.pathname}`, redirectUri);
            await (await fetch(callback)).text();
          })();
        },
      },
    );
    await driving;
    checks = [...readChecks(out.path).values()].flat();
  });

  after(async () => {
    out.remove();
    await real?.close();
  });

  const check = (id: string): ConformanceCheck => {
    const found = checks.find((c) => c.id === id);
    assert.ok(found, `no ${id} check in checks.json (exit ${run.code}, timed out: ${run.timedOut})\n${run.stdout}\n${run.stderr}`);
    return found;
  };

  it('runs to completion within its time bound and writes checks.json', () => {
    assert.equal(run.timedOut, false, run.stdout);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.ok(checks.length >= 2, run.stdout);
  });

  it('AS-02b/AS-03/AS-04/AS-27/SEC-49: authorization-server-metadata-endpoint passes (RFC 8414 metadata, issuer identical to --url, S256 only, iss advertised)', () => {
    const metadata = check('authorization-server-metadata');
    assert.equal(metadata.status, 'SUCCESS', metadata.errorMessage ?? '');
    const { contentType, body } = metadata.details as { contentType: string; body: Record<string, unknown> };
    assert.match(contentType, /^application\/json/);
    assert.equal(body.issuer, real.origin, 'AS-04: the issuer equals the URL the metadata was found from, byte for byte');
    assert.deepEqual(body.code_challenge_methods_supported, ['S256']);
    assert.equal(body.authorization_response_iss_parameter_supported, true, 'AS-27');
  });

  it('SEC-11/SEC-20/SEC-31/AS-26: authorization-code-grant passes (S256 PKCE, state echoed, iss equal to the issuer, no-store JSON token response)', () => {
    const grant = check('authorization-code-grant');
    assert.equal(grant.status, 'SUCCESS', grant.errorMessage ?? '');
    assert.ok(callback, 'the authorization URL was printed and driven through the login and consent pages');
    const { authorizationRequest, authorizationResponseUrl, body } = grant.details as { authorizationRequest: string; authorizationResponseUrl: string; body: Record<string, unknown> };
    const request = new URL(authorizationRequest).searchParams;
    assert.equal(request.get('code_challenge_method'), 'S256');
    assert.equal(request.get('resource'), `${real.origin}/mcp`);
    const response = new URL(authorizationResponseUrl).searchParams;
    assert.equal(response.get('iss'), real.origin, 'RFC 9207 iss names the issuer exactly');
    assert.equal(response.get('state'), request.get('state'));
    assert.equal(body.token_type, 'Bearer');
  });

  it('reports no failing check at all', () => {
    const failing = checks.filter((c) => c.status === 'FAILURE');
    assert.deepEqual(failing.map((c) => `${c.id}: ${c.errorMessage}`), []);
  });
});

/**
 * Real token issuers on 127.0.0.1 for the example servers, which open their own connections:
 *
 * - a Portcullis authorization server (RFC 8414 metadata, JWKS, RFC 9068 access tokens from the real
 *   token code), what an example set up with `AUTHORIZATION_SERVER` trusts;
 * - the Stytch Connected Apps fixture over https (a certificate made at test time), what an example
 *   set up with `STYTCH_PROJECT_ID`/`STYTCH_DOMAIN` trusts. Children trust the certificate through
 *   `NODE_EXTRA_CA_CERTS`; the test process itself through `trustInProcess`.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { createAdaptorServer } from '@hono/node-server';
import { issueAccessToken } from '../../src/authorization/access-token.ts';
import { resolveConfig } from '../../src/config/resolve.ts';
import { createMemoryLogger } from '../../src/log/logger.ts';
import { createPortcullis, type Portcullis } from '../../src/portcullis.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/open.ts';
import { systemClock } from '../../src/util/clock.ts';
import { createConnectedAppsFixture, type ConnectedAppsFixture } from '../fixtures/stytch/connected-apps.ts';
import { createTestCertificate, listenHttps, type HttpsListener, type TestCertificate } from '../fixtures/stytch/https.ts';
import { createStytchProject } from '../fixtures/stytch/project.ts';

/** A token issuer as an example sees it: the environment that points the example at it, and a way to mint tokens. */
export interface ExampleIssuer {
  /** `AUTHORIZATION_SERVER=…`, or the Stytch variables (and `NODE_EXTRA_CA_CERTS` for a child process). */
  readonly env: Record<string, string>;
  /** The issuer URL the example's Protected Resource Metadata must name. */
  readonly issuer: string;
  /** A valid access token for `resource` (the example's MCP URL) carrying `scopes`, for subject `subject`. */
  mint(resource: string, scopes: readonly string[]): Promise<{ token: string; subject: string }>;
  close(): Promise<void>;
}

export async function startPortcullisIssuer(): Promise<ExampleIssuer> {
  let portcullis: Portcullis | undefined;
  const server = createAdaptorServer({ fetch: (request, env) => (portcullis ? portcullis.app.fetch(request, env) : new Response('starting', { status: 503 })) }) as Server;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  portcullis = await createPortcullis({
    config: resolveConfig({ publicUrl: origin, database: ':memory:' }),
    storage: await openSqliteStorage(':memory:'),
    logger: createMemoryLogger(),
  });
  const { ctx } = portcullis;
  let n = 0;
  return {
    env: { AUTHORIZATION_SERVER: ctx.config.issuer },
    issuer: ctx.config.issuer,
    async mint(resource, scopes) {
      // A third-party resource server checks signature, iss, aud and exp only: the grant id is never looked up.
      const subject = `usr_example_${++n}`;
      const { token } = await issueAccessToken(ctx, { subject, clientId: 'cli_example', scopes, resource, grantId: `grt_example_${n}` });
      return { token, subject };
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await portcullis.close();
    },
  };
}

export interface StytchIssuer extends ExampleIssuer {
  readonly fixture: ConnectedAppsFixture;
  readonly certificate: TestCertificate;
}

export async function startStytchIssuer(): Promise<StytchIssuer> {
  const certificate = await createTestCertificate();
  let fixture: ConnectedAppsFixture | undefined;
  const listener: HttpsListener = await listenHttps((request) => (fixture ? fixture.app.fetch(request) : new Response('starting', { status: 503 })), certificate);
  const project = createStytchProject(listener.origin);
  fixture = await createConnectedAppsFixture({ project, clock: systemClock });
  const connectedApps = fixture;
  return {
    fixture,
    certificate,
    env: { STYTCH_PROJECT_ID: project.projectId, STYTCH_DOMAIN: project.baseUrl, STYTCH_SECRET: project.secret, NODE_EXTRA_CA_CERTS: certificate.certPath },
    issuer: project.baseUrl,
    // Stytch puts only the project id in `aud` (seed-systems §4): `resource` is not in the token.
    async mint(_resource, scopes) {
      const token = await connectedApps.mintAccessToken({ claims: { scope: scopes.join(' ') } });
      const subject = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')).sub as string;
      return { token, subject };
    },
    async close() {
      await listener.close();
      await certificate.dispose();
    },
  };
}

/** Makes this process's TLS clients (fetch) trust `certificate` too, as `NODE_EXTRA_CA_CERTS` does for a child. */
export function trustInProcess(certificate: TestCertificate): void {
  setDefaultCACertificates([...getCACertificates('default'), certificate.cert]);
}

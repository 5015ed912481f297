import { describeExample } from './harness.ts';
import { startStytchIssuer, trustInProcess } from './issuers.ts';
import { loadNextExample } from './next-app.ts';

// The route modules read their settings on import, once per process: the generic setup is in next.test.ts.
describeExample(
  'examples/next (App Router route handlers, in-process) with tokens from Stytch',
  startStytchIssuer,
  async (issuer) => {
    // In-process, so this process trusts the fixture's certificate itself (a child would use NODE_EXTRA_CA_CERTS).
    trustInProcess(issuer.certificate);
    const { NODE_EXTRA_CA_CERTS: _forChildren, ...env } = issuer.env;
    return { mcpUrl: 'https://tasks.example/mcp', fetch: await loadNextExample({ ...env, PUBLIC_URL: 'https://tasks.example' }) };
  },
  { checksOrigin: true },
);

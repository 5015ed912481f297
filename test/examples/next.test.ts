import { describeExample } from './harness.ts';
import { startPortcullisIssuer } from './issuers.ts';
import { loadNextExample } from './next-app.ts';

// The route modules read their settings on import, once per process: the Stytch setup is in next-stytch.test.ts.
describeExample(
  'examples/next (App Router route handlers, in-process) with tokens from any OAuth server (Portcullis)',
  startPortcullisIssuer,
  async (issuer) => ({ mcpUrl: 'https://tasks.example/mcp', fetch: await loadNextExample({ ...issuer.env, PUBLIC_URL: 'https://tasks.example' }) }),
  { checksOrigin: true },
);

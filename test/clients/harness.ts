/**
 * What the client-matrix tests run against: the real Portcullis on a 127.0.0.1 socket (one user,
 * `E2E_USER`) and an https document server on 127.0.0.1 standing in for the clients' own hosts
 * (claude.ai, chatgpt.com, vscode.dev). Its certificate is made at test time; Portcullis's outbound
 * fetch trusts it, and the test-only private-network setting lets the SSRF guard reach 127.0.0.1.
 */
import { createServer } from 'node:net';
import type { ConfigInput } from '../../src/config/schema.ts';
import { fetchTrusting, startDocumentServer, type DocumentServer } from '../cimd/document-server.ts';
import { startRealServer, type RealServer } from '../helpers/e2e.ts';
import { createTestCertificate, type TestCertificate } from '../fixtures/stytch/https.ts';

export interface ClientsHarness {
  real: RealServer;
  /** Serves the clients' metadata documents (and a ChatGPT `jwks_uri`). */
  documents: DocumentServer;
  /** The URL a person pastes into the client: the MCP endpoint. */
  mcpUrl: string;
  close(): Promise<void>;
}

export async function startClientsHarness(config: ConfigInput = {}): Promise<ClientsHarness> {
  const certificate: TestCertificate = await createTestCertificate();
  const documents = await startDocumentServer(certificate);
  const trusting = fetchTrusting(certificate);
  const real = await startRealServer({ dangerouslyAllowPrivateNetworkFetches: true, ...config }, { fetch: trusting.fetch });
  return {
    real,
    documents,
    mcpUrl: real.portcullis.ctx.config.resource,
    async close() {
      await real.close();
      await documents.close();
      await trusting.close();
      await certificate.dispose();
    },
  };
}

/** A port the operating system just handed out, as a native client's loopback listener gets one. */
export async function ephemeralPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

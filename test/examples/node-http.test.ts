import { describeExample, ISSUERS, startExample } from './harness.ts';

for (const [mode, startIssuer] of ISSUERS) {
  describeExample(
    `examples/node-http (a child process) with tokens from ${mode}`,
    startIssuer,
    async (issuer) => {
      const example = await startExample('node-http', issuer.env);
      return { mcpUrl: example.mcpUrl, fetch, stop: example.stop };
    },
    { checksOrigin: true },
  );
}

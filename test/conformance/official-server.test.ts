import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  conformanceVersion,
  mintAccessToken,
  readChecks,
  runConformanceCli,
  startFrontedPortcullis,
  temporaryDirectory,
  type ConformanceCheck,
} from './harness.ts';
import { runLabel, SERVER_RUNS, SERVER_SCENARIOS, type ServerRun } from './official-server-scenarios.ts';

/**
 * The official suite's SERVER scenarios against the Portcullis MCP endpoint on 127.0.0.1, once with
 * the `latest` release and once per MCP revision with the 0.2.0 alpha. The CLI cannot send a bearer
 * token (requirements reference §3.5), so a test-only front proxy adds one minted for the conformance
 * user; every scenario is held to the table in official-server-scenarios.ts.
 */

const RUN_TIMEOUT_MS = 120_000;

/** The checks of one run, by scenario name. */
async function runServerSuite(mcpUrl: string, run: ServerRun): Promise<Map<string, ConformanceCheck[]>> {
  const out = temporaryDirectory('portcullis-conformance-server-');
  try {
    const args = ['server', '--url', mcpUrl, '--suite', 'all', '-o', out.path];
    if (run.specVersion) args.push('--spec-version', run.specVersion);
    const result = await runConformanceCli(run.release, args, { timeoutMs: RUN_TIMEOUT_MS });
    assert.equal(result.timedOut, false, `${runLabel(run)} did not finish within ${RUN_TIMEOUT_MS} ms\n${result.stdout}`);
    const byScenario = new Map<string, ConformanceCheck[]>();
    // Results land in `server-<scenario>-<timestamp>/checks.json`.
    for (const [dir, checks] of readChecks(out.path)) byScenario.set(dir.replace(/^server-/, '').replace(/-\d{4}-\d\d-\d\dT[\d-]+Z$/, ''), checks);
    assert.ok(byScenario.size > 0, `${runLabel(run)} wrote no results\n${result.stdout}\n${result.stderr}`);
    return byScenario;
  } finally {
    out.remove();
  }
}

const failures = (checks: ConformanceCheck[]): string[] => checks.filter((c) => c.status === 'FAILURE').map((c) => `${c.id}: ${c.errorMessage ?? ''}`);

describe(`official conformance ${conformanceVersion('stable')} and ${conformanceVersion('alpha')}: server scenarios against the MCP endpoint`, () => {
  let real: Awaited<ReturnType<typeof startFrontedPortcullis>>;
  let mcpUrl: string;
  const results = new Map<ServerRun, Map<string, ConformanceCheck[]>>();

  before(async () => {
    real = await startFrontedPortcullis();
    mcpUrl = `${real.origin}/mcp`;
  });

  after(async () => {
    await real?.close();
  });

  it('RS-09/RS-21: without a bearer token the suite is refused with 401 (the endpoint is protected; the proxy supplies the token)', async () => {
    real.setBearer(null);
    try {
      const unauthenticated = await runServerSuite(mcpUrl, SERVER_RUNS[0]);
      const initialize = failures(unauthenticated.get('server-initialize') ?? []);
      assert.ok(initialize.some((f) => /requires an OAuth access token/.test(f)), initialize.join('\n'));
      const rebinding = failures(unauthenticated.get('dns-rebinding-protection') ?? []);
      assert.ok(rebinding.some((f) => /localhost-host-valid-accepted: .*got 401/.test(f)), rebinding.join('\n'));
      assert.deepEqual(failures(unauthenticated.get('tools-list') ?? []).length, 1);
    } finally {
      real.setBearer(await mintAccessToken(real.portcullis));
    }
  });

  for (const run of SERVER_RUNS) {
    describe(`conformance ${runLabel(run)}`, () => {
      before(async () => {
        results.set(run, await runServerSuite(mcpUrl, run));
      });

      it('knows every scenario it ran (a new scenario must be added to official-server-scenarios.ts)', () => {
        const unknown = [...results.get(run)!.keys()].filter((name) => !(name in SERVER_SCENARIOS));
        assert.deepEqual(unknown, []);
      });

      it('RS-24/GEN-02: every applicable scenario passes (no FAILURE check)', () => {
        const failing: string[] = [];
        for (const [name, checks] of results.get(run)!) {
          if (SERVER_SCENARIOS[name]?.expect === 'pass') failing.push(...failures(checks).map((f) => `${name} → ${f}`));
        }
        assert.deepEqual(failing, []);
      });

      it('every scenario marked not applicable fails only for its stated reason, and its applicable checks pass', () => {
        const wrong: string[] = [];
        for (const [name, checks] of results.get(run)!) {
          const expectation = SERVER_SCENARIOS[name];
          if (expectation?.expect !== 'not applicable') continue;
          for (const failure of failures(checks)) if (!expectation.failsWith.test(failure)) wrong.push(`${name} → ${failure}`);
          for (const id of expectation.mustPass ?? []) {
            const own = checks.filter((c) => c.id === id);
            if (own.length === 0 || own.some((c) => c.status !== 'SUCCESS')) wrong.push(`${name} → ${id} did not pass`);
          }
        }
        assert.deepEqual(wrong, []);
      });
    });
  }

  it('ran the core scenarios that must pass: initialize, ping, tools/list, DNS-rebinding protection, the session lifecycle', () => {
    const ran = new Set([...results.values()].flatMap((byScenario) => [...byScenario.keys()]));
    for (const name of ['server-initialize', 'ping', 'tools-list', 'dns-rebinding-protection', 'server-session-lifecycle', 'http-header-validation']) {
      assert.ok(ran.has(name), `${name} was not run`);
    }
  });
});

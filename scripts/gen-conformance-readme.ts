/**
 * Renders test/conformance/README.md from the conformance matrix (test/conformance/matrix.ts) and the
 * official suite's scenario table (test/conformance/official-server-scenarios.ts).
 * `npm run docs:conformance` rewrites the file; `--check` only compares and exits 1 when it is stale
 * (test/conformance/matrix.test.ts does the same). `--suggest` prints, for rows not marked tested,
 * the test titles that now cite their id: what to move into the matrix.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CONFORMANCE_CLI, conformanceVersion } from '../test/conformance/harness.ts';
import { MATRIX, REVISIONS, type Coverage, type Requirement, type TestRef } from '../test/conformance/matrix.ts';
import { runLabel, SERVER_RUNS, SERVER_SCENARIOS } from '../test/conformance/official-server-scenarios.ts';
import { citationsById } from '../test/conformance/test-titles.ts';

export const CONFORMANCE_README_PATH = fileURLToPath(new URL('../test/conformance/README.md', import.meta.url));

const GROUPS: Array<[prefix: string, title: string]> = [
  ['GEN', 'General'],
  ['RS', 'MCP server as resource server'],
  ['AS', 'Authorization server'],
  ['BP', 'Security best practices (OAuth proxy, upstream login)'],
  ['CL', 'Client rules that shape what the server publishes'],
  ['CC', 'Extension: OAuth client credentials'],
  ['EMA', 'Extension: enterprise-managed authorization (ID-JAG)'],
  ['SEC', 'OAuth 2.1, RFC 9700 and related RFCs'],
  ['UP', 'Upstream identity provider delegation'],
];

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();
const ref = (r: TestRef): string => `\`${r.file.replace(/^test\//, '')}\` “${cell(r.name)}…”`;

function coverageCell(c: Coverage): string {
  switch (c.status) {
    case 'tested':
      return c.tests.map(ref).join('<br>');
    case 'uncited':
      return `${cell(c.reason)}: ${c.tests.map(ref).join('<br>')}`;
    case 'pending':
      return `${cell(c.reason)}; tests to land in ${c.expectedIn.map((d) => `\`${d}\``).join(', ')}`;
    default:
      return cell(c.reason);
  }
}

const STATUS_LABEL: Record<Coverage['status'], string> = {
  tested: '**tested**',
  uncited: 'tested, title does not cite the id',
  pending: '*pending*',
  untested: '*not tested*',
  'not implemented': '*not implemented*',
  'not applicable': 'not applicable',
};

function requirementTable(rows: Requirement[]): string[] {
  const lines = [
    `| ID | Level | Requirement | ${REVISIONS.join(' | ')} | Status | Checked by / why not |`,
    `|---|---|---|${REVISIONS.map(() => ':-:').join('|')}|---|---|`,
  ];
  for (const r of rows) {
    const revisions = REVISIONS.map((v) => (r.revisions.includes(v) ? '●' : ''));
    lines.push(`| ${r.id} | ${cell(r.level) || '—'} | ${cell(r.summary)} | ${revisions.join(' | ')} | ${STATUS_LABEL[r.coverage.status]} | ${coverageCell(r.coverage)} |`);
  }
  return lines;
}

function summaryTable(): string[] {
  const statuses = Object.keys(STATUS_LABEL) as Array<Coverage['status']>;
  const lines = [`| Revision | Requirements | ${statuses.map((s) => STATUS_LABEL[s]).join(' | ')} |`, `|---|--:|${statuses.map(() => '--:').join('|')}|`];
  for (const revision of REVISIONS) {
    const rows = MATRIX.filter((r) => r.revisions.includes(revision));
    lines.push(`| ${revision} | ${rows.length} | ${statuses.map((s) => rows.filter((r) => r.coverage.status === s).length).join(' | ')} |`);
  }
  return lines;
}

/** Scenario name → the revisions the CLI tags it with, from `conformance list --server` of each release. */
function listedScenarios(release: keyof typeof CONFORMANCE_CLI, flag: string): Map<string, string> {
  const listed = spawnSync(process.execPath, [CONFORMANCE_CLI[release], 'list', flag], { encoding: 'utf8', timeout: 30_000, env: { PATH: process.env.PATH ?? '' } });
  if (listed.status !== 0) throw new Error(`conformance list ${flag} failed: ${listed.stderr}`);
  const out = new Map<string, string>();
  for (const m of listed.stdout.matchAll(/^\s+- (\S+) \[([^\]]*)\]$/gm)) out.set(m[1]!, m[2]!);
  return out;
}

function serverScenarioTable(): string[] {
  const stable = listedScenarios('stable', '--server');
  const alpha = listedScenarios('alpha', '--server');
  const names = Object.keys(SERVER_SCENARIOS).sort((a, b) => {
    const rank = (n: string) => (SERVER_SCENARIOS[n]!.expect === 'pass' ? 0 : 1);
    return rank(a) - rank(b) || a.localeCompare(b);
  });
  const lines = ['| Scenario | Revisions (alpha tags) | In 0.1.16 | Result | Why |', '|---|---|:-:|---|---|'];
  for (const name of names) {
    const e = SERVER_SCENARIOS[name]!;
    const result = e.expect === 'pass' ? '**pass**' : e.mustPass ? 'partly (not applicable)' : 'not applicable';
    lines.push(`| \`${name}\` | ${alpha.get(name) ?? '—'} | ${stable.has(name) ? '●' : ''} | ${result} | ${cell(e.why)} |`);
  }
  return lines;
}

export function renderConformanceReadme(): string {
  const authorization = listedScenarios('alpha', '--authorization');
  const lines = [
    '<!-- Generated by scripts/gen-conformance-readme.ts from matrix.ts and official-server-scenarios.ts. Do not edit: run `npm run docs:conformance`. -->',
    '',
    '# Conformance',
    '',
    `Portcullis implements the MCP authorization revisions ${REVISIONS.slice(0, -1).join(', ')} and ${REVISIONS.at(-1)}. This directory maps every requirement id of the team's requirements list (\`mcp-auth-requirements.md\`: GEN, RS, AS, BP, CL, CC, EMA, SEC, UP) to the test that checks it, and runs the official conformance suite (\`@modelcontextprotocol/conformance\` ${conformanceVersion('stable')} and ${conformanceVersion('alpha')}) in \`npm test\`.`,
    '',
    '- `matrix.ts`: the machine-readable matrix; `matrix.test.ts` keeps it honest (every referenced test exists and its title cites the id, every id of the list is present, and a row not marked tested fails once a test cites its id).',
    '- `official-server.test.ts`, `official-authorization.test.ts`: the official suite against a real Portcullis on 127.0.0.1.',
    '',
    '## Summary',
    '',
    ...summaryTable(),
    '',
    'A requirement counts for a revision when the list tags it with that revision; client rules (CL, and AS rules marked *client*) are not applicable to a server, but are listed with what they ask of it.',
    '',
    '## The official conformance suite',
    '',
    "The CLI runs under the Node that runs the tests (`process.execPath` with the package's bin script, never `npx`), with an environment of PATH and HOME only, a time bound per run, and only 127.0.0.1 URLs.",
    '',
    '### Authorization server (`conformance authorization`, 0.2.0 alphas)',
    '',
    'Against the built-in authorization server with a registered public client (loopback callback `http://127.0.0.1:<port>/callback`); the test opens the printed authorization URL, signs in and consents through the real pages, and delivers the redirect to the CLI. Both scenarios must pass, and do:',
    '',
    '| Scenario | Revisions | Result |',
    '|---|---|---|',
    ...[...authorization].map(([name, tags]) => `| \`${name}\` | ${tags} | **pass** |`),
    '',
    '### MCP server (`conformance server`)',
    '',
    `The CLI sends no bearer token, so a test-only front proxy on 127.0.0.1 adds \`Authorization: Bearer <token>\` (minted for a test user with every scope) and passes Host and Origin through unchanged; without it every scenario is refused with 401. Runs: ${SERVER_RUNS.map(runLabel).join(', ')}. The suite targets its "everything" reference server; Portcullis's built-in tools are whoami and a per-user task list, so scenarios that call fixture tools, prompts or resources do not apply. A scenario marked not applicable must fail only for the reason given (and its listed applicable checks must pass), or the test fails.`,
    '',
    ...serverScenarioTable(),
    '',
    '## Requirements',
    '',
    'Columns: the revisions the requirement belongs to (●); the status; the test file under `test/` and the beginning of the test title.',
  ];
  for (const [prefix, title] of GROUPS) {
    const rows = MATRIX.filter((r) => r.id.startsWith(`${prefix}-`));
    lines.push('', `### ${prefix}: ${title}`, '', ...requirementTable(rows));
  }
  return lines.join('\n') + '\n';
}

/** Rows not marked tested whose id some test title now cites. */
export function staleRows(): Array<{ id: string; status: string; citedBy: string[] }> {
  const citations = citationsById();
  return MATRIX.filter((r) => r.coverage.status !== 'tested')
    .map((r) => ({ id: r.id, status: r.coverage.status, citedBy: (citations.get(r.id) ?? []).map((c) => `${c.file}: ${c.title}`) }))
    .filter((r) => r.citedBy.length > 0);
}

const invokedDirectly = process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  if (process.argv.includes('--suggest')) {
    // Ready to paste as the row's coverage in matrix.ts (check the titles first).
    const citations = citationsById();
    for (const row of staleRows()) {
      const refs = (citations.get(row.id) ?? []).map((c) => `t(${JSON.stringify(c.file)}, ${JSON.stringify(c.title.split('${')[0]!.slice(0, 72).trimEnd())})`);
      console.log(`${row.id} (now ${row.status}): tested(${refs.join(', ')})`);
    }
  } else {
    const rendered = renderConformanceReadme();
    if (process.argv.includes('--check')) {
      const current = readFileSync(CONFORMANCE_README_PATH, 'utf8');
      if (current !== rendered) {
        console.error('test/conformance/README.md is stale: run `npm run docs:conformance`');
        process.exit(1);
      }
    } else {
      writeFileSync(CONFORMANCE_README_PATH, rendered);
      console.log(`wrote ${CONFORMANCE_README_PATH}`);
    }
  }
}

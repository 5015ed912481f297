import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CONFORMANCE_README_PATH, renderConformanceReadme, staleRows } from '../../scripts/gen-conformance-readme.ts';
import { MATRIX, REVISIONS } from './matrix.ts';
import { citedIds, listTestFiles, REPO_ROOT, REQUIREMENT_ID, testTitles } from './test-titles.ts';

/**
 * Keeps the conformance matrix honest: what it says is tested is tested by a test that names the
 * requirement, nothing in the requirements list is missing from it, and its README is what it renders to.
 */

/** The team's requirements list, next to the repository (../shared/reference); absent outside the workspace. */
const REFERENCE_LIST = join(REPO_ROOT, '../shared/reference/mcp-auth-requirements.md');

describe('conformance matrix (test/conformance/matrix.ts)', () => {
  const files = new Set(listTestFiles());

  it('lists each requirement id once, in the list\'s id format, with at least one revision', () => {
    const seen = new Set<string>();
    for (const r of MATRIX) {
      assert.ok(!seen.has(r.id), `${r.id} is listed twice`);
      seen.add(r.id);
      assert.deepEqual(r.id.match(REQUIREMENT_ID), [r.id], `${r.id} is not a requirement id`);
      assert.ok(r.revisions.length > 0 && r.revisions.every((v) => REVISIONS.includes(v)), `${r.id} names no revision`);
      assert.ok(r.summary.length > 0, `${r.id} has no summary`);
    }
  });

  it('every referenced test file exists and has a test whose title starts as given; a "tested" row\'s title cites its id', () => {
    const problems: string[] = [];
    for (const r of MATRIX) {
      if (r.coverage.status !== 'tested' && r.coverage.status !== 'uncited') continue;
      assert.ok(r.coverage.tests.length > 0, `${r.id} names no test`);
      for (const ref of r.coverage.tests) {
        if (!files.has(ref.file)) {
          problems.push(`${r.id}: ${ref.file} does not exist`);
          continue;
        }
        const titles = testTitles(ref.file).filter((title) => title.startsWith(ref.name));
        if (titles.length === 0) problems.push(`${r.id}: no test in ${ref.file} is titled “${ref.name}…”`);
        else if (r.coverage.status === 'tested' && !titles.some((title) => citedIds(title).includes(r.id))) {
          problems.push(`${r.id}: “${ref.name}…” in ${ref.file} does not cite ${r.id}`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  it('a row without tests says why (reason), and pending rows name where their tests will land under test/', () => {
    for (const r of MATRIX) {
      if (r.coverage.status === 'tested') continue;
      assert.ok(r.coverage.reason.length > 10, `${r.id} gives no reason`);
      if (r.coverage.status === 'pending') assert.ok(r.coverage.expectedIn.every((d) => d.startsWith('test/')), r.id);
    }
  });

  it('no row says "not tested", "not implemented" or "not applicable" while a test title cites its id (move it to tested: `node scripts/gen-conformance-readme.ts --suggest`)', () => {
    const stale = staleRows().filter((row) => row.status !== 'pending');
    assert.deepEqual(stale, []);
  });

  const citedPending = staleRows().filter((row) => row.status === 'pending');
  it(
    'pending rows (work in progress) that tests now cite are reported, to be moved to tested',
    { todo: citedPending.length > 0 ? `${citedPending.length} pending rows are now cited: ${citedPending.map((r) => r.id).join(', ')}` : false },
    () => {
      assert.deepEqual(citedPending, []);
    },
  );

  it('has every requirement id of the requirements list, and no other', { skip: existsSync(REFERENCE_LIST) ? false : `the requirements list is not at ${REFERENCE_LIST}` }, () => {
    const reference = readFileSync(REFERENCE_LIST, 'utf8');
    // Requirement rows start with `| <ID> |`; ids elsewhere in the text are cross-references.
    const listed = [...reference.matchAll(/^\| ((?:GEN|RS|AS|BP|CL|CC|EMA|SEC|UP)-\d{2}[ab]?) \|/gm)].map((m) => m[1]!);
    assert.ok(listed.length > 100, 'the list was parsed');
    assert.deepEqual(MATRIX.map((r) => r.id).sort(), [...new Set(listed)].sort());
  });
});

describe('test/conformance/README.md', () => {
  it('is exactly what the matrix and the scenario table render to (run `npm run docs:conformance` after changing either)', () => {
    assert.equal(readFileSync(CONFORMANCE_README_PATH, 'utf8'), renderConformanceReadme());
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The titles of the tests in the repository's test files, read from the source (not by running
 * them): what `describe(…)`, `it(…)` and `test(…)` are called with as a plain or template string
 * literal. Requirement ids are cited in these titles (for example `AS-23: …`), which is how the
 * conformance matrix finds the test that checks a requirement.
 */

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A requirement id as the reference list writes it: RS-03a, AS-02b, SEC-16, EMA-11 … */
export const REQUIREMENT_ID = /\b(?:GEN|RS|AS|BP|CL|CC|EMA|SEC|UP)-\d{2}[ab]?\b/g;

const TITLE = /\b(?:describe|it|test|suite)(?:\.(?:skip|only|todo))?\(\s*(?:'((?:[^'\\\n]|\\.)*)'|"((?:[^"\\\n]|\\.)*)"|`((?:[^`\\]|\\.)*)`)/g;

/** Every `*.test.ts` file under test/, as a path relative to the repository root. */
export function listTestFiles(dir = join(REPO_ROOT, 'test')): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...listTestFiles(path));
    else if (entry.name.endsWith('.test.ts')) files.push(relative(REPO_ROOT, path));
  }
  return files.sort();
}

/** The test titles in one file (template-literal placeholders left as written). */
export function testTitles(file: string): string[] {
  const source = readFileSync(join(REPO_ROOT, file), 'utf8');
  return [...source.matchAll(TITLE)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
}

/** The requirement ids a title cites. */
export const citedIds = (title: string): string[] => [...new Set(title.match(REQUIREMENT_ID) ?? [])];

/** For every requirement id cited by some test title: the files and titles that cite it. */
export function citationsById(files = listTestFiles()): Map<string, Array<{ file: string; title: string }>> {
  const out = new Map<string, Array<{ file: string; title: string }>>();
  for (const file of files) {
    for (const title of testTitles(file)) {
      for (const id of citedIds(title)) {
        const list = out.get(id) ?? [];
        list.push({ file, title });
        out.set(id, list);
      }
    }
  }
  return out;
}

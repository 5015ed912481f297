import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

/** scripts/check-node.cjs: the one check of the Node version, for the npm scripts and the `portcullis` command. */
export const checkNode = createRequire(import.meta.url)('../../scripts/check-node.cjs') as {
  required: string;
  tooOld(version: string, required: string): boolean;
};

/**
 * A Node older than the package needs, to see what a user of it gets: the system Node of this
 * team's machines (20). Undefined where there is none (the tests that need it are skipped).
 */
export function findOldNode(): { path: string; version: string } | undefined {
  const path = '/usr/bin/node';
  if (!existsSync(path)) return undefined;
  const version = execFileSync(path, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
  return checkNode.tooOld(version, checkNode.required) ? { path, version } : undefined;
}

/** The one line Portcullis answers with on `oldVersion`: what was found, what is needed, how to get it. */
export function tooOldLine(oldVersion: string): RegExp {
  const needed = checkNode.required.replace(/^>=\s*/, '').replaceAll('.', '\\.');
  return new RegExp(`^Portcullis needs Node\\.js ${needed} or later, and this is Node\\.js ${oldVersion.replaceAll('.', '\\.')} \\(.+\\): install Node\\.js 24 LTS \\(https://nodejs\\.org/[^)]*\\) and run it again\\.$`);
}

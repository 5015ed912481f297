#!/usr/bin/env node
/**
 * The `portcullis` command. The Node version is checked before anything else is loaded: the app's
 * static imports (node:sqlite…) would fail on an old Node before any of its code ran, so the rest
 * comes by a dynamic import. Compiled to dist/cli/bin.js, the package's `bin`.
 */
import { createRequire } from 'node:module';

createRequire(import.meta.url)('../../scripts/check-node.cjs'); // one line and exit 1 on a Node too old

// As the npm scripts do with --disable-warning: Node 22 calls node:sqlite experimental on every start.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const type = warning instanceof Error ? warning.name : typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
  if (type !== 'ExperimentalWarning') (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;

const { runCommandLine } = await import('./main.ts');
await runCommandLine();

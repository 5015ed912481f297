/**
 * `npm run build` (and so `npm pack`, by `prepack`): dist/ anew from src/ — JavaScript and declarations.
 * tsc rewrites the `.ts` of relative imports to `.js` in the JavaScript it emits but not in the
 * declarations; rewritten here too, so that every TypeScript version and module resolution a user may
 * have finds them (declarations `./x.js` → `./x.d.ts`).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const dist = join(root, 'dist');

// Anew: a module removed from src/ must not live on in the package.
rmSync(dist, { recursive: true, force: true });
execFileSync('tsc', ['-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', shell: process.platform === 'win32' });

const RELATIVE_TS = /((?:from|import)\s*\(?\s*)(['"])(\.{1,2}\/[^'"]*)\.ts\2/g;
for (const entry of readdirSync(dist, { recursive: true, encoding: 'utf8' })) {
  if (!entry.endsWith('.d.ts')) continue;
  const file = join(dist, entry);
  const text = readFileSync(file, 'utf8');
  const rewritten = text.replace(RELATIVE_TS, (_, before: string, quote: string, path: string) => `${before}${quote}${path}.js${quote}`);
  if (rewritten !== text) writeFileSync(file, rewritten);
}

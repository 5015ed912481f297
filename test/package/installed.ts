/**
 * The package as a user gets it: `npm pack` of this repository (its `prepack` builds dist/), then
 * `npm install <tarball>` in a new project in the system's temporary directory, outside this
 * repository, with what the examples import (at package.json's ranges) and @types/node. npm reads its
 * cache first (`--prefer-offline`): no network when the cache has every package.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
const NPM_TIMEOUT_MS = 180_000;

export interface InstalledPackage {
  /** The user's project: package.json, node_modules/, and a copy of examples/. */
  readonly dir: string;
  /** Every path in the tarball, relative to the package root. */
  readonly files: readonly string[];
  cleanup(): void;
}

/** npm on the Node running the tests (and the machine's proxy and certificate settings), without its network chores. */
export function npmEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    npm_config_prefer_offline: 'true',
    ...extra,
  };
}

function npm(args: readonly string[], cwd: string): string {
  return execFileSync('npm', args, { cwd, env: npmEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: NPM_TIMEOUT_MS });
}

/** The packages the examples import (bare specifiers other than `portcullis` and `node:`), at this repository's ranges. */
function exampleDependencies(manifest: { dependencies: Record<string, string>; devDependencies: Record<string, string> }): string[] {
  const ranges = { ...manifest.dependencies, ...manifest.devDependencies };
  const names = new Set<string>();
  for (const entry of readdirSync(join(REPO, 'examples'), { recursive: true, encoding: 'utf8' })) {
    if (!entry.endsWith('.ts')) continue;
    for (const [, specifier] of readFileSync(join(REPO, 'examples', entry), 'utf8').matchAll(/\bfrom '([^'.][^']*)'/g)) {
      if (specifier!.startsWith('node:')) continue;
      const parts = specifier!.split('/');
      const name = specifier!.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
      if (name !== 'portcullis') names.add(name);
    }
  }
  return [...names].sort().map((name) => {
    const range = ranges[name];
    if (range === undefined) throw new Error(`an example imports ${name}, which package.json does not list`);
    return `${name}@${range}`;
  });
}

export function packAndInstall(): InstalledPackage {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-user-'));
  try {
    const manifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    // --json: the tarball's name and contents on stdout (the build's output goes to stderr).
    const [packed] = JSON.parse(npm(['pack', '--json', '--pack-destination', dir], REPO)) as [{ filename: string; files: { path: string }[] }];
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'portcullis-user', private: true, type: 'module' }, null, 2));
    npm(['install', '--no-audit', '--no-fund', '--prefer-offline', `./${packed.filename}`, ...exampleDependencies(manifest), `@types/node@${manifest.devDependencies['@types/node']}`], dir);
    cpSync(join(REPO, 'examples'), join(dir, 'examples'), { recursive: true });
    return { dir, files: packed.files.map((f) => f.path), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

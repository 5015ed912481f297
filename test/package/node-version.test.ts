import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkNode, findOldNode, tooOldLine } from './old-node.ts';

/**
 * PKG-3: Node 20 answered every command with only "bad option: --experimental-strip-types". Now the
 * npm scripts run on the Node 24 of the `node` devDependency whatever the system Node is, and where
 * that is missing, a Node older than 22.13 says in one line which Node it found, which it needs and
 * how to get it, and exits non-zero. The installed `portcullis` command: test/package/pack.test.ts.
 */

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const oldNode = findOldNode();

/** That Node first on PATH, with the npm installed beside it, as on a machine where it is the system Node. */
const oldNodeEnv = (bin: string) => ({ PATH: `${bin}:/usr/bin:/bin`, HOME: process.env.HOME, npm_config_update_notifier: 'false', npm_config_loglevel: 'error' });

describe('PKG-3 the Node version check', () => {
  it('PKG-3 the minimum is package.json engines.node, compared by major, minor and patch', () => {
    assert.equal(checkNode.required, '>=22.13');
    for (const version of ['22.13.0', '22.13.1', '22.14.0', '23.0.0', '24.21.0', '30.1.2']) assert.equal(checkNode.tooOld(version, '>=22.13'), false, version);
    for (const version of ['22.12.9', '22.0.0', '21.99.0', '20.20.2', '18.20.0']) assert.equal(checkNode.tooOld(version, '>=22.13'), true, version);
    assert.equal(checkNode.tooOld('22.13.0', '>=22.13.1'), true);
  });

  it('PKG-3 on this Node it passes silently', () => {
    const result = spawnSync(process.execPath, ['scripts/check-node.cjs'], { cwd: REPO, encoding: 'utf8' });
    assert.deepEqual([result.status, result.stdout, result.stderr], [0, '', '']);
  });

  // A machine whose system Node is too old (20 here) still runs the README's commands: the `node` package
  // (a devDependency) puts Node 24 in node_modules/.bin, which npm scripts find first.
  it(`PKG-3 \`npm run portcullis -- --help\` with Node ${oldNode?.version ?? '< 22.13'} as the system Node runs on the project's own Node 24`, { skip: !oldNode && 'no Node older than 22.13 on this machine' }, () => {
    const bin = dirname(oldNode!.path);
    const result = spawnSync(`${bin}/npm`, ['run', '--silent', 'portcullis', '--', '--help'], { cwd: REPO, encoding: 'utf8', env: oldNodeEnv(bin), timeout: 60_000 });
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /^Usage: npm run portcullis -- <command>/m);
  });

  // Without it (`npm install --omit=dev`, or a Node run by hand), the check answers in one line.
  it(`PKG-3 the check on Node ${oldNode?.version ?? '< 22.13'}: one line naming the version found, the one needed and how to get it; exit non-zero`, { skip: !oldNode && 'no Node older than 22.13 on this machine' }, () => {
    const result = spawnSync(oldNode!.path, ['scripts/check-node.cjs'], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
    assert.notEqual(result.status, 0);
    const lines = result.stderr.split('\n').filter((line) => line !== '');
    assert.equal(lines.length, 1, `one line on stderr:\n${result.stderr}`);
    assert.match(lines[0]!, tooOldLine(oldNode!.version));
  });

  it('PKG-3 every npm script that runs the project checks the Node version first', () => {
    const { scripts } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
    for (const name of ['start', 'portcullis', 'test']) assert.match(scripts[name]!, /^node scripts\/check-node\.cjs && /, name);
  });
});

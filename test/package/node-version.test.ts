import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkNode, findOldNode, tooOldLine } from './old-node.ts';

/**
 * PKG-3: on a Node older than 22.13 (Node 20 answered every command with only "bad option:
 * --experimental-strip-types"), `npm start`, `npm test` and `npm run portcullis` say in one line
 * which Node they found, which they need and how to get it, and exit non-zero. The installed
 * `portcullis` command: test/package/pack.test.ts.
 */

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const oldNode = findOldNode();

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

  for (const args of [['start'], ['test'], ['run', 'portcullis', '--', '--help']]) {
    it(`PKG-3 \`npm ${args.join(' ')}\` on Node ${oldNode?.version ?? '< 22.13'}: one line naming the version found, the one needed and how to get it; exit non-zero`, { skip: !oldNode && 'no Node older than 22.13 on this machine' }, () => {
      // That Node first on PATH, with the npm installed beside it, as on a machine where it is the system Node.
      const bin = dirname(oldNode!.path);
      const result = spawnSync(`${bin}/npm`, args, {
        cwd: REPO,
        encoding: 'utf8',
        env: { PATH: `${bin}:/usr/bin:/bin`, HOME: process.env.HOME, npm_config_update_notifier: 'false', npm_config_loglevel: 'error' },
        timeout: 60_000,
      });
      assert.notEqual(result.status, 0, result.stdout + result.stderr);
      assert.equal(result.signal, null);
      const lines = result.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('npm error'));
      assert.equal(lines.length, 1, `one line on stderr:\n${result.stderr}`);
      assert.match(lines[0]!, tooOldLine(oldNode!.version));
      assert.doesNotMatch(result.stdout + result.stderr, /bad option|SyntaxError|ERR_/);
    });
  }
});

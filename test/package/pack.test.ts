import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { describeExample, ISSUERS, startProgram } from '../examples/harness.ts';
import { npmEnv, packAndInstall, REPO, type InstalledPackage } from './installed.ts';
import { findOldNode, tooOldLine } from './old-node.ts';

/**
 * PKG-1: what `npm pack` gives is a package a new user installs and uses — a plain JavaScript or
 * strict TypeScript project outside this repository, on Node 22.13+ without type stripping — and
 * every example of examples/ runs on the installed package, not on this repository's sources.
 * PKG-3: the installed `portcullis` command on an older Node says so in one line.
 */

let installed: InstalledPackage | undefined;
before(() => {
  installed = packAndInstall();
});
after(() => installed?.cleanup());

const project = (): string => {
  assert.ok(installed, 'the package was packed and installed');
  return installed.dir;
};
const STRIP_TYPES = ['--experimental-strip-types', '--disable-warning=ExperimentalWarning'];

describe('PKG-1 the package npm pack makes, installed in a new project', () => {
  it('PKG-1 ships compiled JavaScript, declarations and the bin; every entry point it names; no TypeScript sources, tests or examples', () => {
    const files = new Set(installed!.files);
    const manifest = JSON.parse(readFileSync(join(project(), 'node_modules/portcullis/package.json'), 'utf8')) as {
      private?: boolean;
      exports: { '.': Record<string, string> };
      bin: Record<string, string>;
      types: string;
    };
    assert.equal(manifest.private, undefined, 'not private');
    const named = [...Object.entries(manifest.exports['.']).filter(([condition]) => condition !== 'portcullis-source').map(([, path]) => path), manifest.types, ...Object.values(manifest.bin)];
    for (const path of named) assert.ok(files.has(path.replace(/^\.\//, '')), `${path} is in the tarball`);
    assert.deepEqual(manifest.bin, { portcullis: './dist/cli/bin.js' });
    assert.ok(files.has('scripts/check-node.cjs'), 'the Node check the command runs first');
    const typeScript = [...files].filter((path) => /\.[cm]?ts$/.test(path) && !/\.d\.[cm]?ts$/.test(path));
    assert.deepEqual(typeScript, [], 'no TypeScript for Node to strip');
    assert.deepEqual([...files].filter((path) => /^(src|test|examples|bench)\//.test(path)), []);
    assert.equal(readFileSync(join(project(), 'node_modules/portcullis/dist/cli/bin.js'), 'utf8').split('\n')[0], '#!/usr/bin/env node', 'a plain node shebang: no flag an older Node would refuse');
    const declarations = readFileSync(join(project(), 'node_modules/portcullis/dist/index.d.ts'), 'utf8');
    assert.doesNotMatch(declarations, /from '\.[^']*\.ts'/, 'declarations import .js specifiers, which every TypeScript resolves');
  });

  it('PKG-1 `portcullis` resolves, from the project and from its copy of examples/, to the installed compiled package', () => {
    assert.ok(!project().startsWith(REPO), 'the project is outside this repository');
    const expected = pathToFileURL(join(project(), 'node_modules/portcullis/dist/index.js')).href;
    for (const cwd of [project(), join(project(), 'examples/next/app/mcp')]) {
      const resolved = execFileSync(process.execPath, ['--input-type=module', '-e', "console.log(import.meta.resolve('portcullis'))"], { cwd, encoding: 'utf8' }).trim();
      assert.equal(resolved, expected, `from ${cwd}`);
    }
  });

  it('PKG-1 RS-03 a plain JavaScript (.mjs) consumer, run by node without flags, imports the library and gets the 401 challenge naming the PRM', () => {
    writeFileSync(
      join(project(), 'consumer.mjs'),
      `import { createJwksVerifier, createResourceServer, protectedResourceMetadataUrlFor } from 'portcullis';
const resource = 'https://mcp.example.com/mcp';
const rs = createResourceServer({ resource, authorizationServers: ['https://auth.example.com'], verifier: createJwksVerifier({ issuer: 'https://auth.example.com', audience: resource }) });
const answer = await rs.authenticate({ headers: new Headers() });
console.log(JSON.stringify({ status: answer.status, challenge: answer.headers.get('www-authenticate'), metadata: protectedResourceMetadataUrlFor(resource) }));
`,
    );
    const result = JSON.parse(execFileSync(process.execPath, ['consumer.mjs'], { cwd: project(), encoding: 'utf8' })) as { status: number; challenge: string; metadata: string };
    assert.equal(result.status, 401);
    assert.equal(result.metadata, 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp');
    assert.equal(result.challenge, `Bearer resource_metadata="${result.metadata}"`);
  });

  it('PKG-1 a strict TypeScript consumer (skipLibCheck false) type-checks against the installed declarations, and they are not `any`', () => {
    writeFileSync(
      join(project(), 'consumer.ts'),
      `import { createIntrospectionVerifier, createResourceServer, createStytchVerifier, expressAuth, honoAuth, nodeAuth, withMcpAuth, type Principal, type TokenVerifier } from 'portcullis';

const verifier: TokenVerifier = createStytchVerifier({ projectId: 'project-test-1', projectDomain: 'https://example.customers.stytch.com' });
const rs = createResourceServer({ resource: 'https://mcp.example.com/mcp', authorizationServers: ['https://example.customers.stytch.com'], verifier });
export const handlers = [honoAuth(rs), expressAuth(rs, { requiredScopes: ['tasks:write'] }), nodeAuth(rs)];
export const route = withMcpAuth((_request: Request, auth: Principal) => new Response(auth.subject), { resourceServer: rs });
export const introspection = createIntrospectionVerifier({ issuer: 'https://as.example.com', clientId: 'rs', clientSecret: 'secret', audience: 'https://mcp.example.com/mcp' });
export const subject = async (headers: Headers): Promise<string | undefined> => {
  const result = await rs.authenticate({ headers });
  return result instanceof Response ? undefined : result.subject;
};
// @ts-expect-error resource is required
createResourceServer({ authorizationServers: [], verifier });
// @ts-expect-error a principal's subject is a string
export const wrong: number = ({} as Principal).subject;
`,
    );
    writeFileSync(
      join(project(), 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, skipLibCheck: false, module: 'nodenext', target: 'es2022', types: ['node'], noEmit: true }, files: ['consumer.ts'] }),
    );
    const tsc = spawnSync(join(REPO, 'node_modules/.bin/tsc'), ['-p', project()], { cwd: project(), encoding: 'utf8', timeout: 120_000 });
    assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
  });

  it('PKG-1 `npx portcullis --help` runs the compiled command', () => {
    const help = execFileSync('npx', ['portcullis', '--help'], { cwd: project(), env: npmEnv(), encoding: 'utf8', timeout: 60_000 });
    assert.match(help, /^Usage: portcullis <command> \[options\]\n/);
    assert.match(help, /^ {2}start /m);
  });

  it('PKG-1 RS-01 `portcullis start` (the bin npm linked) serves /.well-known/oauth-protected-resource and stops on SIGTERM, exit 0', async () => {
    const child = spawn(join(project(), 'node_modules/.bin/portcullis'), ['start'], {
      cwd: project(),
      env: npmEnv({ PORT: '0', PORTCULLIS_DATABASE: join(project(), 'data/portcullis.db') }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no banner within 30 s\n${stdout}\n${stderr}`)), 30_000);
        child.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
          const m = /Listening on\s+127\.0\.0\.1:(\d+)\n/.exec(stdout);
          if (m) {
            clearTimeout(timer);
            resolve(Number(m[1]));
          }
        });
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`exited (${code}) before the banner\n${stdout}\n${stderr}`));
        });
      });
      const mcpUrl = /MCP server URL\s+(\S+)/.exec(stdout)?.[1];
      const response = await fetch(`http://127.0.0.1:${port}/.well-known/oauth-protected-resource`, { signal: AbortSignal.timeout(10_000) });
      assert.equal(response.status, 200);
      const metadata = (await response.json()) as { resource: string; authorization_servers: string[] };
      assert.equal(metadata.resource, mcpUrl);
      assert.equal(metadata.authorization_servers.length, 1);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, stderr);
    assert.match(stdout, /"msg":"server stopped"/);
    assert.doesNotMatch(stderr, /Warning/, 'no Node warning on a user terminal');
  });

  const oldNode = findOldNode();
  it(`PKG-3 the installed \`portcullis\` on Node ${oldNode?.version ?? '< 22.13'}: one line naming the version found, the one needed and how to get it; exit non-zero`, { skip: !oldNode && 'no Node older than 22.13 on this machine' }, () => {
    // `#!/usr/bin/env node` finds the old Node first on PATH, as on a machine where it is the system Node.
    const result = spawnSync(join(project(), 'node_modules/.bin/portcullis'), ['start'], {
      cwd: project(),
      env: { PATH: `${dirname(oldNode!.path)}:/usr/bin:/bin`, HOME: process.env.HOME },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(result.status, 1, result.stderr);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /\n$/);
    assert.match(result.stderr.slice(0, -1), tooOldLine(oldNode!.version));
  });
});

// Each example, copied into the project, run by Node's type stripping as a user on Node 22.13+ can, against the installed package.
for (const name of ['express', 'hono', 'node-http', 'next']) {
  // Next.js is not installed: its route handlers are served by a stand-in (next-host.ts) that imports the copied routes.
  const args = (dir: string): string[] =>
    name === 'next' ? [...STRIP_TYPES, join(REPO, 'test/package/next-host.ts'), join(dir, 'examples/next/app')] : [...STRIP_TYPES, `examples/${name}/server.ts`];
  for (const [mode, startIssuer] of ISSUERS) {
    describeExample(
      `PKG-1 examples/${name} on the installed package with tokens from ${mode}`,
      startIssuer,
      async (issuer) => {
        const example = await startProgram(`examples/${name} (installed)`, args(project()), project(), issuer.env);
        return { mcpUrl: example.mcpUrl, fetch, stop: example.stop };
      },
      { checksOrigin: true },
    );
  }
}

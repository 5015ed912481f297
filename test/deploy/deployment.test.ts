/**
 * Issue 12 part 8: the deployment files. There is no container daemon on these machines, so what a
 * daemon would do is done here by hand from the files themselves: the Dockerfile's command is run on
 * the JavaScript its build stage makes, with its environment, its health check is run against it, and
 * it is stopped with the SIGTERM `docker stop` sends; the compose file is parsed and its settings
 * resolved by the server's own configuration code; the systemd unit and nginx example likewise.
 * Not run here: `docker build`, `docker compose up`, Caddy, nginx and systemd themselves.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { ENV_VARS, loadConfigInput } from '../../src/config/env.ts';
import { resolveConfig } from '../../src/config/resolve.ts';
import { READ_VARIABLES } from '../helpers/read-variables.ts';
import { dockerInstructions, envPairs, interpolate, readRepoFile, ROOT, unitFile } from './files.ts';

const KNOWN_SETTINGS = new Set(ENV_VARS);
const instructions = dockerInstructions(readRepoFile('Dockerfile'));
/** The instructions of the final stage: what the image runs. */
const runStage = instructions.slice(instructions.findLastIndex((i) => i.keyword === 'FROM'));
const one = (keyword: string) => runStage.filter((i) => i.keyword === keyword).at(-1)?.args ?? '';
const execForm = (args: string): string[] => JSON.parse(args.replace(/^CMD\s+/, '')) as string[];

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });

describe('Dockerfile', () => {
  it('runs on Node 24 as an unprivileged user, keeps its state in the /data volume, and runs node itself (exec form) as PID 1', () => {
    assert.match(one('FROM'), /^node:24(-|$)/);
    const user = one('USER');
    assert.ok(user !== '' && user !== 'root' && user !== '0', `USER ${user}`);
    assert.deepEqual(JSON.parse(one('VOLUME')), ['/data']);
    const env = new Map(runStage.filter((i) => i.keyword === 'ENV').flatMap((i) => envPairs(i.args)));
    assert.match(env.get('PORTCULLIS_DATABASE') ?? '', /^\/data\//);
    const cmd = execForm(one('CMD'));
    assert.equal(cmd[0], 'node', 'no shell or npm in between: signals reach Node');
    for (const name of env.keys()) if (name !== 'NODE_ENV') assert.ok(KNOWN_SETTINGS.has(name), `ENV ${name} is a setting`);
    assert.match(one('HEALTHCHECK'), /CMD \["node",/);
  });

  describe('its command, on the JavaScript its build stage makes', () => {
    const work = mkdtempSync(join(tmpdir(), 'portcullis-image-'));
    after(() => rmSync(work, { recursive: true, force: true }));

    before(() => {
      // The build stage: `npm run build` (tsc -p tsconfig.build.json), here into the image's /app layout.
      execFileSync(join(ROOT, 'node_modules/.bin/tsc'), ['-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(work, 'dist'), '--declaration', 'false'], { stdio: 'pipe' });
      copyFileSync(join(ROOT, 'package.json'), join(work, 'package.json'));
      mkdirSync(join(work, 'scripts'));
      copyFileSync(join(ROOT, 'scripts/check-node.cjs'), join(work, 'scripts/check-node.cjs'));
      symlinkSync(join(ROOT, 'node_modules'), join(work, 'node_modules'));
      mkdirSync(join(work, 'data'), { mode: 0o700 });
    });

    it('starts, passes its health check, and stops cleanly (exit 0) on the SIGTERM of `docker stop`', async () => {
      const port = await freePort();
      // The image's environment, with /data here and listening on loopback only (a shared test machine).
      const imageEnv = Object.fromEntries(runStage.filter((i) => i.keyword === 'ENV').flatMap((i) => envPairs(i.args)).map(([k, v]) => [k, v.replace(/^\/data\//, `${work}/data/`)]));
      const env = { PATH: process.env.PATH, ...imageEnv, HOST: '127.0.0.1', PORT: String(port) };
      const [command, ...args] = execForm(one('CMD'));
      const child = spawn(command === 'node' ? process.execPath : command!, args, { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
      try {
        const deadline = Date.now() + 30_000;
        while (!stdout.includes('Portcullis is running') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
        assert.match(stdout, /Portcullis is running/, `stdout: ${stdout}\nstderr: ${stderr}`);
        const passwordFile = imageEnv['PORTCULLIS_INITIAL_ADMIN_PASSWORD_FILE']!;
        assert.equal(statSync(passwordFile).mode & 0o777, 0o600, 'the first admin password went to a private file in the volume');
        assert.ok(!stdout.includes(readFileSync(passwordFile, 'utf8').trim()), 'and not to the container log');
        assert.ok(existsSync(`${imageEnv['PORTCULLIS_DATABASE']}.key`), 'the key file is in the volume too');

        // HEALTHCHECK CMD, as the daemon would run it inside the container.
        const [hcCommand, ...hcArgs] = JSON.parse(one('HEALTHCHECK').replace(/^.*?CMD\s+/, '')) as string[];
        assert.equal(hcCommand, 'node');
        const health = spawn(process.execPath, hcArgs, { env: { PORT: String(port) }, stdio: 'ignore' });
        assert.equal(await new Promise((resolve) => health.on('exit', resolve)), 0, 'healthy');

        child.kill('SIGTERM');
        const result = await Promise.race([exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no exit after SIGTERM\n${stderr}`)), 15_000))]);
        assert.deepEqual(result, { code: 0, signal: null }, stderr);
        assert.match(stdout + stderr, /"msg":"server stopped"/);

        const stopped = spawn(process.execPath, hcArgs, { env: { PORT: String(port) }, stdio: 'ignore' });
        assert.equal(await new Promise((resolve) => stopped.on('exit', resolve)), 1, 'and unhealthy once stopped: the check can fail');
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    });
  });
});

describe('deploy/compose.yaml', () => {
  const values = { MCP_HOST: 'mcp.example.com', POSTGRES_PASSWORD: 'pw-from-dotenv' };
  const compose = parseYaml(interpolate(readRepoFile('deploy/compose.yaml'), values)) as {
    services: Record<string, { environment?: Record<string, string>; volumes?: string[]; networks?: unknown; healthcheck?: unknown; build?: { context: string } }>;
    networks: Record<string, { ipam?: { config: { subnet: string }[] } }>;
  };
  const app = compose.services['portcullis']!;

  it('parses, refuses to start without its secrets (as compose does), and has PostgreSQL and a TLS proxy', () => {
    assert.throws(() => interpolate(readRepoFile('deploy/compose.yaml'), {}), /MCP_HOST is required: set MCP_HOST in deploy\/.env/);
    assert.deepEqual(Object.keys(compose.services).sort(), ['caddy', 'db', 'portcullis']);
    assert.equal(app.build?.context, '..', 'builds the Dockerfile at the repository root');
    assert.ok(app.volumes?.some((v) => v.endsWith(':/data')), "the image's /data volume is a named volume");
    assert.ok(compose.services['db']!.healthcheck, 'PostgreSQL reports when it is ready');
  });

  it("its Portcullis settings are the server's own: every variable known, and they resolve to PostgreSQL behind https", () => {
    const env = app.environment!;
    for (const name of Object.keys(env)) assert.ok(KNOWN_SETTINGS.has(name), `${name} is a setting`);
    const config = resolveConfig(loadConfigInput(env));
    assert.equal(config.database, 'postgres://portcullis:pw-from-dotenv@db:5432/portcullis');
    assert.equal(config.issuer, 'https://mcp.example.com');
    assert.equal(config.keyEncryptionKeyFile, '/run/secrets/key-encryption-key', 'PostgreSQL instances share a key-encryption key, given as a secret');
    const caddy = compose.services['caddy']!.networks as Record<string, { ipv4_address: string }>;
    assert.deepEqual(config.trustedProxies, [caddy['edge']!.ipv4_address], 'the proxy whose X-Forwarded-For is believed is Caddy, at its fixed address');
    assert.ok(caddy['edge']!.ipv4_address.startsWith(compose.networks['edge']!.ipam!.config[0]!.subnet.replace(/0\/24$/, '')));
  });

  it('Caddy proxies to the port Portcullis listens on and flushes streams at once (SSE)', () => {
    const caddyfile = readRepoFile('deploy/Caddyfile');
    assert.match(caddyfile, new RegExp(`reverse_proxy portcullis:${app.environment!['PORT']}\\b`));
    assert.match(caddyfile, /flush_interval -1/);
    assert.match(caddyfile, /^\{\$MCP_HOST\} \{/m);
  });
});

describe('docs/deploy: systemd unit and nginx', () => {
  const unit = unitFile(readRepoFile('docs/deploy/portcullis.service'));
  const service = unit.get('Service')!;
  const env = Object.fromEntries((service.get('Environment') ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));

  it('the unit runs `portcullis start` as its own user, stops it with SIGTERM, and its settings resolve', () => {
    assert.match(service.get('ExecStart')![0]!, /\/portcullis start$/);
    assert.ok(!['root', '0'].includes(service.get('User')![0]!));
    assert.equal(service.get('KillSignal')![0], 'SIGTERM');
    for (const name of Object.keys(env)) assert.ok(KNOWN_SETTINGS.has(name), `${name} is a setting`);
    const config = resolveConfig(loadConfigInput(env));
    assert.equal(config.issuer, 'https://mcp.example.com');
    assert.ok(config.database.startsWith(`/var/lib/${service.get('StateDirectory')![0]}/`), 'the database is in the state directory systemd creates');
  });

  it('nginx passes to that address without buffering (SSE) and sends X-Forwarded-For from a trusted proxy', () => {
    const nginx = readRepoFile('docs/deploy/nginx.conf');
    assert.match(nginx, new RegExp(`proxy_pass http://${env['HOST']}:${env['PORT']};`));
    assert.match(nginx, /proxy_buffering off;/);
    assert.match(nginx, /proxy_http_version 1\.1;/);
    assert.match(nginx, /proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;/);
    assert.deepEqual(resolveConfig(loadConfigInput(env)).trustedProxies, ['127.0.0.1']);
  });
});

describe('docs/deployment.md', () => {
  it('names only environment variables that the loader really reads, and only files that exist', () => {
    const doc = readRepoFile('docs/deployment.md');
    const named = new Set(doc.match(/\b(?:PORTCULLIS_[A-Z_]+|DATABASE_URL|PORT|HOST|LOG_LEVEL)\b/g) ?? []);
    assert.ok(named.size > 3);
    for (const name of named) assert.ok(READ_VARIABLES.has(name), `names ${name}, which nothing reads`);
    for (const [, path] of doc.matchAll(/\(`((?:deploy|docs\/deploy)\/[^`]+|Dockerfile)`\)/g)) assert.ok(existsSync(join(ROOT, path!)), `${path} exists`);
  });
});

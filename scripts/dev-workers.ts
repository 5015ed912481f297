/**
 * `npm run dev:workers`: Portcullis as a Cloudflare Worker on this machine, under workerd (Miniflare),
 * with a local D1 database in `data/workers/`. It prints what `npm start` prints: the MCP URL and, on
 * the first start, the administrator's one-time password. Settings come from the environment, as for
 * `npm start` (PORT, default 8787; PORTCULLIS_PUBLIC_URL, default http://localhost:<PORT>).
 *
 * The Worker creates the first administrator itself, from PORTCULLIS_INITIAL_ADMIN_PASSWORD, as a
 * deployed one does (README "Deploy on Cloudflare Workers"); here that password is generated, and
 * printed only if the Worker used it: on a database that had no accounts.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { renderStartupBanner } from '../src/bootstrap/banner.ts';
import { FIRST_ADMIN_USERNAME } from '../src/bootstrap/first-admin.ts';
import { ENV_VARS } from '../src/config/env.ts';
import { ConfigError } from '../src/config/resolve.ts';
import { generatePassword } from '../src/identity/passwords.ts';
import { newKeyEncryptionKeyText } from '../src/keys/key-encryption.ts';
import { INITIAL_ADMIN_PASSWORD, workersSettings } from '../src/runtime/workers-config.ts';
import { buildWorkerBundle, createLocalWorker } from './workers/local.ts';

const DATA = resolve(process.env['PORTCULLIS_WORKERS_DATA'] ?? 'data/workers');
/** Not settings of the Worker: where the local server listens. */
const LOCAL_ONLY = new Set(['HOST', 'PORT']);

/** The key-encryption key of the local D1 data, made on first start next to it (a deployed Worker has it as a secret). */
async function localKeyEncryptionKey(): Promise<string> {
  const file = join(DATA, 'key-encryption-key');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const key = newKeyEncryptionKeyText();
    await writeFile(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(file, 0o600);
    return key;
  }
}

async function main(): Promise<void> {
  const host = process.env['HOST'] ?? '127.0.0.1';
  const port = Number(process.env['PORT'] ?? 8787);
  await mkdir(DATA, { recursive: true, mode: 0o700 });
  const password = generatePassword();
  const vars: Record<string, string> = {};
  for (const name of [...ENV_VARS, INITIAL_ADMIN_PASSWORD]) {
    const value = process.env[name];
    if (value !== undefined && value !== '' && !LOCAL_ONLY.has(name)) vars[name] = value;
  }
  vars['PORTCULLIS_PUBLIC_URL'] ??= `http://localhost:${port}`;
  vars['PORTCULLIS_KEY_ENCRYPTION_KEY'] ??= await localKeyEncryptionKey();
  vars[INITIAL_ADMIN_PASSWORD] ??= password;
  // The Worker checks these itself; checking here too names a mistake before anything starts.
  const { config } = workersSettings(vars);

  process.stdout.write('Building the Worker (wrangler deploy --dry-run)…\n');
  const bundle = await buildWorkerBundle();
  const startedAt = Date.now();
  // The Worker's log lines (JSON) follow the banner, as with `npm start`.
  let held: string[] | null = [];
  const onLog = (line: string): void => void (held ? held.push(line) : process.stdout.write(`${line}\n`));
  const mf = createLocalWorker({ code: bundle.code, host, port, persistTo: DATA, vars, onLog });
  await mf.ready;
  // The first request starts the app in the Worker: migrations, signing key, first administrator.
  const ready = await mf.dispatchFetch(new URL('/readyz', config.issuer));
  if (!ready.ok) throw new Error(`The Worker did not start: ${ready.status} ${await ready.text()}`);
  const db = await mf.getD1Database('DB');
  const admin = await db.prepare('select created_at from users where username = ?').bind(FIRST_ADMIN_USERNAME).first<{ created_at: number }>();
  const createdNow = admin !== null && Number(admin.created_at) >= startedAt && vars[INITIAL_ADMIN_PASSWORD] === password;

  process.stdout.write(
    renderStartupBanner({
      config,
      listening: `${host}:${port}`,
      firstAdmin: createdNow ? { username: FIRST_ADMIN_USERNAME, password } : null,
      cli: null,
      data: `D1 (local, under workerd) in ${DATA}`,
    }),
  );
  process.stdout.write(`Worker bundle: ${(bundle.bytes / 1024 / 1024).toFixed(1)} MB. Stop with Ctrl+C.\n`);
  for (const line of held) process.stdout.write(`${line}\n`);
  held = null;

  // Ctrl+C or SIGTERM: Miniflare's own exit hook stops workerd, then exits (130 or 143, as signalled processes do).
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof ConfigError ? error.message : String((error as Error)?.stack ?? error)}\n`);
  process.exit(1);
});

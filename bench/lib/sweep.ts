import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { DatabaseSync } from 'node:sqlite';
import { setTimeout as sleep } from 'node:timers/promises';
import { openSqliteStorage } from '../../src/storage/sqlite/open.ts';
import type { Storage } from '../../src/storage/types.ts';

/**
 * The expiry sweep on a large SQLite store (HARD-8): how long the event loop, and a request reading
 * the store meanwhile, wait because of it. Portcullis runs the sweep every 10 minutes in the server
 * process, and node:sqlite is synchronous: whatever one statement costs, every request waits for.
 *
 * - `before`: what the server did until HARD-8, replayed statement for statement on the same data:
 *   one unbatched `DELETE … WHERE expires_at <= now` per table, without the expiry indexes.
 * - `after`: `storage.collectExpired` as it is now: indexed, batches sized for about 10 ms each
 *   (50 to 2,000 rows) with a turn of the event loop between them.
 *
 * Each runs twice: with half the rows expired, then again with nothing left to delete.
 */

export interface SweepRun {
  rowsDeleted: number;
  durationMs: number;
  /** The longest time the event loop was blocked during the sweep (timer probe every 1 ms). */
  maxStallMs: number;
  /** 99th percentile of the event-loop delay during the sweep. */
  p99StallMs: number;
  /**
   * The slowest read of a live refresh token, one due every millisecond during the sweep, from when
   * it was due to when it was answered: what a token request would have waited.
   */
  maxRequestMs: number;
  requests: number;
  /** Statements (batches) the sweep ran, and the longest one in wall time and in CPU time of this process. */
  batches: number;
  maxBatchMs: number;
  maxBatchCpuMs: number;
}

export interface SweepReport {
  rows: number;
  before: { full: SweepRun; empty: SweepRun };
  after: { full: SweepRun; empty: SweepRun };
}

/** Indexes migration 005 added for the sweep; `before` runs without them, as the schema was. */
const SWEEP_INDEXES = [
  'authorization_requests_expires_at',
  'authorization_codes_expires_at',
  'refresh_tokens_expires_at',
  'login_sessions_expires_at',
  'upstream_transactions_expires_at',
  'grants_expires_at',
  'grants_revoked_at',
  'failures_locked_until',
];

/** The statements of the old `collectExpired`, in its order. */
const OLD_SWEEP = [
  'delete from authorization_requests where expires_at <= ?',
  'delete from authorization_codes where expires_at <= ?',
  'delete from refresh_tokens where expires_at <= ?',
  'delete from login_sessions where expires_at <= ?',
  'delete from upstream_transactions where expires_at <= ?',
  'delete from used_assertions where expires_at <= ?',
  'delete from grants where expires_at <= ? or revoked_at is not null',
];

const DAY = 86_400_000;

/** A migrated SQLite file with `rows` refresh tokens (every other one expired) over 10,000 live grants. */
async function populate(file: string, rows: number, now: number): Promise<void> {
  await (await openSqliteStorage(file)).close();
  const db = new DatabaseSync(file);
  try {
    db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; BEGIN');
    const grant = db.prepare('insert into grants (id, user_id, client_id, scopes, resource, created_at, expires_at, revoked_at) values (?, ?, ?, ?, ?, ?, ?, null)');
    for (let g = 0; g < 10_000; g++) grant.run(`g${g}`, 'u', 'c', 'tasks:read', 'http://localhost/mcp', now - DAY, now + 30 * DAY);
    const token = db.prepare('insert into refresh_tokens (token_hash, grant_id, client_id, scopes, issued_at, expires_at, rotated_at, successor_hash) values (?, ?, ?, ?, ?, ?, null, null)');
    for (let i = 0; i < rows; i++) token.run(`h${i}`, `g${i % 10_000}`, 'c', 'tasks:read', now - DAY, i % 2 === 0 ? now + DAY : now - 1000);
    db.exec('COMMIT');
  } finally {
    db.close();
  }
}

/**
 * Times the stretches between pauses: each is one statement (batch) that held the event loop. CPU
 * time is this process's own, so it shows the statement's cost apart from a busy machine's scheduling.
 */
function batchTimer() {
  let wall = performance.now();
  let cpu = process.cpuUsage();
  const stats = { batches: 0, maxBatchMs: 0, maxBatchCpuMs: 0 };
  return {
    stats,
    start() {
      wall = performance.now();
      cpu = process.cpuUsage();
    },
    /** Ends a batch; call `start` again when the next begins. */
    end() {
      const used = process.cpuUsage(cpu);
      stats.batches++;
      stats.maxBatchMs = Math.max(stats.maxBatchMs, performance.now() - wall);
      stats.maxBatchCpuMs = Math.max(stats.maxBatchCpuMs, (used.user + used.system) / 1000);
    },
  };
}

type Timer = ReturnType<typeof batchTimer>;

/** Runs `sweep` while probing the event loop and reading the store every millisecond. */
async function measure(storage: Storage, sweep: (timer: Timer) => Promise<number>): Promise<SweepRun> {
  const timer = batchTimer();
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  let maxStall = 0;
  let last = performance.now();
  const probe = setInterval(() => {
    const t = performance.now();
    maxStall = Math.max(maxStall, t - last);
    last = t;
  }, 1);
  let maxRequest = 0;
  let requests = 0;
  let running = true;
  const reader = (async () => {
    while (running) {
      const due = performance.now() + 1;
      await sleep(1);
      await storage.refreshTokens.getWithGrant('h0');
      maxRequest = Math.max(maxRequest, performance.now() - due);
      requests++;
    }
  })();
  histogram.enable();
  await sleep(50);
  maxStall = 0;
  maxRequest = 0;
  histogram.reset();
  const started = performance.now();
  timer.start();
  const rowsDeleted = await sweep(timer);
  timer.end();
  const durationMs = performance.now() - started;
  await sleep(50);
  running = false;
  await reader;
  clearInterval(probe);
  histogram.disable();
  return { rowsDeleted, durationMs, maxStallMs: Math.max(maxStall, histogram.max / 1e6 - 1), p99StallMs: histogram.percentile(99) / 1e6, maxRequestMs: maxRequest, requests, ...timer.stats };
}

async function measureBefore(file: string, now: number): Promise<{ full: SweepRun; empty: SweepRun }> {
  const raw = new DatabaseSync(file);
  for (const index of SWEEP_INDEXES) raw.exec(`drop index if exists ${index}`);
  const storage = await openSqliteStorage(file);
  const oldSweep = async (timer: Timer) => {
    let n = 0;
    for (const [i, statement] of OLD_SWEEP.entries()) {
      if (i > 0) timer.start();
      n += Number(raw.prepare(statement).run(now).changes);
      if (i < OLD_SWEEP.length - 1) timer.end();
    }
    return n;
  };
  try {
    return { full: await measure(storage, oldSweep), empty: await measure(storage, oldSweep) };
  } finally {
    await storage.close();
    raw.close();
  }
}

async function measureAfter(file: string, now: number): Promise<{ full: SweepRun; empty: SweepRun }> {
  const storage = await openSqliteStorage(file);
  try {
    const sweep = (timer: Timer) =>
      storage.collectExpired(now, {
        pause: async () => {
          timer.end();
          await sleep(0);
          timer.start();
        },
      });
    return { full: await measure(storage, sweep), empty: await measure(storage, sweep) };
  } finally {
    await storage.close();
  }
}

export async function measureSweep(rows: number, log: (line: string) => void = () => {}): Promise<SweepReport> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-sweep-'));
  const now = Date.now();
  try {
    log(`sweep: ${rows.toLocaleString('en')} refresh tokens, the old sweep…`);
    await populate(join(dir, 'before.db'), rows, now);
    const before = await measureBefore(join(dir, 'before.db'), now);
    log(`sweep: ${rows.toLocaleString('en')} refresh tokens, the batched sweep…`);
    await populate(join(dir, 'after.db'), rows, now);
    const after = await measureAfter(join(dir, 'after.db'), now);
    return { rows, before, after };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatSweep(report: SweepReport): string[] {
  const ms = (v: number) => `${v.toFixed(v < 10 ? 1 : 0)} ms`;
  const row = (label: string, r: SweepRun) =>
    `  ${label.padEnd(32)}${r.rowsDeleted.toLocaleString('en').padStart(9)} rows in ${ms(r.durationMs).padStart(8)}, ${String(r.batches).padStart(4)} statements; ` +
    `longest ${ms(r.maxBatchMs).padStart(8)} (CPU ${ms(r.maxBatchCpuMs)}); event-loop stall max ${ms(r.maxStallMs)}, p99 ${ms(r.p99StallMs)}; slowest read ${ms(r.maxRequestMs)}`;
  return [
    `Expiry sweep on ${report.rows.toLocaleString('en')} refresh tokens (SQLite): what a request waits for (target ≤ 50 ms)`,
    row('before (one DELETE, no index)', report.before.full),
    row('before, nothing left to delete', report.before.empty),
    row('after (indexed, batches)', report.after.full),
    row('after, nothing left to delete', report.after.empty),
  ];
}

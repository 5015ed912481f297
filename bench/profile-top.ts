/**
 * Reads a V8 CPU profile (`BENCH_CPU_PROF=1 npm run bench` writes one per server to
 * bench/results/profiles/) and prints its top frames: by self time, and by total time for frames
 * under a given path (e.g. `src/` for the product's own functions, or `node_modules/kysely`).
 *
 *   node --experimental-strip-types bench/profile-top.ts bench/results/profiles/portcullis.cpuprofile [rows] [path-filter]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame's code lives: a package, a folder of this repository, Node's internals, or native code. */
export function frameOwner(frame: string): string {
  const at = frame.lastIndexOf(' ');
  const where = at < 0 ? '' : frame.slice(at + 1);
  if (!where) return `native/${frame.replace(/ .*$/, '')}`;
  const pkg = /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(where);
  if (pkg) return pkg[1]!;
  if (where.startsWith('node:')) return 'node (internals)';
  const folder = /^(src|bench|test)\/([^/]+)/.exec(where);
  return folder ? `${folder[1]}/${folder[2]}` : where;
}

export interface FrameShare {
  frame: string;
  /** Share of all sampled time, 0..1. */
  self: number;
  total: number;
}

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url ? url.replace(/^file:\/\//, '').replace(/^.*?\/(node_modules|src|bench|test)\//, '$1/') : '';
  return `${functionName || '(anonymous)'}${where ? ` ${where}:${lineNumber + 1}` : ''}`;
}

/** Self and total (inclusive, counted once per stack) time per frame name, as shares of the whole profile. */
export function frameShares(profile: CpuProfile): FrameShare[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let all = 0;
  profile.samples.forEach((id, i) => {
    const dt = Math.max(0, profile.timeDeltas[i] ?? 0);
    all += dt;
    const node = byId.get(id);
    if (!node) return;
    const name = frameName(node);
    self.set(name, (self.get(name) ?? 0) + dt);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = frameName(byId.get(at)!);
      if (seen.has(frame)) continue;
      seen.add(frame);
      total.set(frame, (total.get(frame) ?? 0) + dt);
    }
  });
  return [...total.entries()].map(([frame, t]) => ({ frame, self: (self.get(frame) ?? 0) / all, total: t / all }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // Piped into `head`: stop quietly when the reader goes away.
  process.stdout.on('error', () => process.exit(0));
  const [file, rowsArg, filter] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: profile-top.ts <file.cpuprofile> [rows] [path-filter]\n');
    process.exit(2);
  }
  const rows = Number(rowsArg ?? 25);
  const shares = frameShares(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
  const pct = (x: number): string => `${(x * 100).toFixed(1).padStart(5)}%`;
  process.stdout.write(`Top ${rows} by self time\n`);
  for (const s of [...shares].sort((a, b) => b.self - a.self).slice(0, rows)) process.stdout.write(`${pct(s.self)} ${pct(s.total)}  ${s.frame}\n`);
  const owners = new Map<string, number>();
  for (const s of shares) owners.set(frameOwner(s.frame), (owners.get(frameOwner(s.frame)) ?? 0) + s.self);
  process.stdout.write(`\nSelf time by owner (package, folder, Node internals, native function)\n`);
  for (const [owner, share] of [...owners].sort((a, b) => b[1] - a[1]).slice(0, rows)) process.stdout.write(`${pct(share)}  ${owner}\n`);
  const scoped = filter ? shares.filter((s) => s.frame.includes(filter)) : shares;
  process.stdout.write(`\nTop ${rows} by total time${filter ? ` (frames in ${filter})` : ''}\n`);
  for (const s of [...scoped].sort((a, b) => b.total - a.total).slice(0, rows)) process.stdout.write(`${pct(s.self)} ${pct(s.total)}  ${s.frame}\n`);
}

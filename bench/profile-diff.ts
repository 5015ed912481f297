/**
 * Compares two V8 CPU profiles of the same request path (e.g. the authenticated tools/call and its
 * auth-off twin) in microseconds per request: where does one spend more per request than the other?
 * Request counts are the `requests` of the two runs in bench/results/latest.json.
 *
 *   node --experimental-strip-types bench/profile-diff.ts a.cpuprofile <requests of a> b.cpuprofile <requests of b> [rows]
 *
 * Prints, by self time and by total time, the frames with the largest difference a − b per request.
 * `(idle)` and the profiler's own `post` are left out.
 */
import { readFileSync } from 'node:fs';
import { frameShares, frameOwner } from './profile-top.ts';

type Profile = Parameters<typeof frameShares>[0];

function perRequest(file: string, requests: number): { self: Map<string, number>; total: Map<string, number>; owners: Map<string, number>; busy: number } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const micros = profile.timeDeltas.reduce((a, b) => a + Math.max(0, b), 0);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const owners = new Map<string, number>();
  let busy = 0;
  for (const s of frameShares(profile)) {
    if (s.frame === '(idle)' || s.frame.startsWith('post node:inspector')) continue;
    self.set(s.frame, (s.self * micros) / requests);
    total.set(s.frame, (s.total * micros) / requests);
    owners.set(frameOwner(s.frame), (owners.get(frameOwner(s.frame)) ?? 0) + (s.self * micros) / requests);
    busy += (s.self * micros) / requests;
  }
  return { self, total, owners, busy };
}

const [fileA, requestsA, fileB, requestsB, rowsArg] = process.argv.slice(2);
if (!fileA || !requestsA || !fileB || !requestsB) {
  process.stderr.write('usage: profile-diff.ts a.cpuprofile <requests> b.cpuprofile <requests> [rows]\n');
  process.exit(2);
}
process.stdout.on('error', () => process.exit(0));
const rows = Number(rowsArg ?? 30);
const a = perRequest(fileA, Number(requestsA));
const b = perRequest(fileB, Number(requestsB));
const us = (x: number): string => x.toFixed(2).padStart(8);
const table = (title: string, left: Map<string, number>, right: Map<string, number>): void => {
  const frames = new Set([...left.keys(), ...right.keys()]);
  const diffs = [...frames].map((f) => ({ f, a: left.get(f) ?? 0, b: right.get(f) ?? 0 })).sort((x, y) => Math.abs(y.a - y.b) - Math.abs(x.a - x.b));
  process.stdout.write(`\n${title}\n${'a µs'.padStart(8)}${'b µs'.padStart(8)}${'a − b'.padStart(8)}\n`);
  for (const d of diffs.slice(0, rows)) process.stdout.write(`${us(d.a)}${us(d.b)}${us(d.a - d.b)}  ${d.f}\n`);
};
process.stdout.write(`busy CPU per request (profiled, without idle and the profiler): a ${a.busy.toFixed(1)} µs, b ${b.busy.toFixed(1)} µs\n`);
table('Self time by owner, per request', a.owners, b.owners);
table('Self time per request, largest differences', a.self, b.self);
table('Total time per request, largest differences', a.total, b.total);

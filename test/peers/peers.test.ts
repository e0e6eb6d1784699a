/**
 * Peer cross-checks: networkx (bench/peers/networkx_reach.py) and pgRouting
 * (bench/peers/pgrouting.ts) must both implement bounded Dijkstra reach with an
 * INCLUSIVE cutoff (reached iff shortest time <= budget) on the exchange format.
 *
 *   node --import tsx --test test/peers/peers.test.ts
 *
 * Needs /usr/bin/python3 with python3-networkx, and PostgreSQL + pgRouting
 * (sudo bash scripts/setup-postgres.sh). When a peer is unavailable its tests
 * are skipped with the reason, except with CI=true, where they fail.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { pgroutingAvailable, pgroutingReach } from '../../bench/peers/pgrouting.ts';
import { mulberry32 } from '../../src/util/random.ts';

const execFileP = promisify(execFile);
const HERE = dirname(fileURLToPath(import.meta.url));
const NX_SCRIPT = join(HERE, '..', '..', 'bench', 'peers', 'networkx_reach.py');
const PYTHON = '/usr/bin/python3';
const CI = process.env.CI === 'true';

type Arc = [source: number, target: number, timeS: number];
type Reach = Map<number, number>;

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

const workDir = await mkdtemp(join(tmpdir(), 'lifecircle-peers-'));
after(async () => {
  await rm(workDir, { recursive: true, force: true });
});
let fileSeq = 0;

/** Write the exchange CSV (JS String(n) is the shortest round-trip repr). */
async function writeEdges(arcs: Arc[]): Promise<string> {
  const p = join(workDir, `edges-${fileSeq++}.csv`);
  const lines = ['source,target,time_s', ...arcs.map(([s, t, w]) => `${s},${t},${w}`)];
  await writeFile(p, lines.join('\n') + '\n');
  return p;
}

async function writeOrigins(origins: number[]): Promise<string> {
  const p = join(workDir, `origins-${fileSeq++}.json`);
  await writeFile(p, JSON.stringify(origins));
  return p;
}

function toReach(obj: Record<string, number>): Reach {
  return new Map(Object.entries(obj).map(([k, v]) => [Number(k), v]));
}

async function runNetworkx(args: string[]): Promise<unknown> {
  const { stdout } = await execFileP(PYTHON, [NX_SCRIPT, ...args], { maxBuffer: 256 * 1024 * 1024 });
  return JSON.parse(stdout);
}

async function networkxReach(edges: string, origins: number[], budget: number): Promise<Map<number, Reach>> {
  const out = (await runNetworkx([
    '--edges', edges, '--origins', await writeOrigins(origins), '--budget', String(budget), '--mode', 'check',
  ])) as { results: Array<{ origin: number; reached: Record<string, number> }> };
  assert.equal(out.results.length, origins.length);
  return new Map(out.results.map((r) => [r.origin, toReach(r.reached)]));
}

async function pgReach(
  edges: string,
  origins: number[],
  budget: number,
  variant: 'per-origin' | 'multi-start' = 'per-origin',
): Promise<Map<number, Reach>> {
  const res = await pgroutingReach(edges, origins, budget, { mode: 'check', variant });
  assert.ok(res.results, 'check mode returns results');
  assert.equal(res.results.length, origins.length);
  return new Map(res.results.map((r) => [r.origin, r.reached]));
}

/** Sorted [node, time] pairs: deepEqual then shows a readable diff. */
function sorted(m: Reach): Array<[number, number]> {
  return [...m.entries()].sort((a, b) => a[0] - b[0]);
}

function assertSameReach(actual: Reach, expected: Reach, label: string, tol = 0): void {
  const a = sorted(actual);
  const e = sorted(expected);
  assert.deepEqual(a.map(([n]) => n), e.map(([n]) => n), `${label}: reached node sets differ`);
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i][1] - e[i][1]);
    assert.ok(d <= tol, `${label}: node ${a[i][0]} time ${a[i][1]} vs ${e[i][1]} (|diff| ${d} > ${tol})`);
  }
}

// ---------------------------------------------------------------------------
// availability: skip with a reason locally, fail under CI=true
// ---------------------------------------------------------------------------

async function networkxAvailable(): Promise<{ ok: true; version: string } | { ok: false; why: string }> {
  try {
    const { stdout } = await execFileP(PYTHON, ['-c', 'import networkx; print(networkx.__version__)']);
    return { ok: true, version: stdout.trim() };
  } catch (e) {
    return { ok: false, why: `${PYTHON} cannot import networkx (apt-get install python3-networkx): ${(e as Error).message.split('\n')[0]}` };
  }
}

const nx = await networkxAvailable();
const pgr = await pgroutingAvailable();

function gate(avail: { ok: true; version: string } | { ok: false; why: string }, name: string): string | false {
  if (avail.ok || CI) return false;
  return `${name} unavailable: ${avail.why}`;
}
function requirePeer(avail: { ok: true; version: string } | { ok: false; why: string }, name: string): void {
  if (!avail.ok) assert.fail(`${name} is required (CI=true) but unavailable: ${avail.why}`);
}
const skipNx = gate(nx, 'networkx');
const skipPg = gate(pgr, 'PostgreSQL/pgRouting');
const skipBoth = skipNx || skipPg;

// ---------------------------------------------------------------------------
// hand-made graph, worked out by hand
// ---------------------------------------------------------------------------
//
//   0 <-100-> 1 <-100-> 2 <-100-> 3        path, arcs both ways, 100 s each
//   0 --250--> 3                           one-way shortcut (no 3 -> 0 arc)
//   1 ==80/50==> 4, 4 --80--> 1            parallel arcs 1->4: 80 and 50, min 50 wins
//   3 --50--> 5 --0.5--> 6                 5 lies exactly at the budget from 0
//   2 --201--> 6                           a longer alternative into 6
//   7 --10--> 0                            one-way feeder: 7 unreachable from anywhere
//
// Budget 300 s (inclusive).
// From 0: 1=100, 2=200, 3=min(300, 250)=250 (shortcut), 4=100+min(80,50)=150,
//         5=250+50=300 (== budget: reached), 6=min(300.5, 200+201)=300.5 (> budget: not), 7 unreachable.
// From 3: 2=100, 5=50, 6=50.5, 1=200, 4=200+50=250, 0=300 via 1 (== budget: reached;
//         the shortcut is one-way so there is no 250 path back).
// From 5: 6=0.5 (6 is a sink).
// From 7: 0=10, 1=110, 2=210, 3=min(10+250, 10+300)=260, 4=160, 5=310 (> budget: not).
const HAND_ARCS: Arc[] = [
  [0, 1, 100], [1, 0, 100],
  [1, 2, 100], [2, 1, 100],
  [2, 3, 100], [3, 2, 100],
  [0, 3, 250],
  [1, 4, 80], [1, 4, 50], [4, 1, 80],
  [3, 5, 50],
  [5, 6, 0.5],
  [2, 6, 201],
  [7, 0, 10],
];
const HAND_BUDGET = 300;
const HAND_EXPECTED = new Map<number, Reach>([
  [0, new Map([[0, 0], [1, 100], [2, 200], [3, 250], [4, 150], [5, 300]])],
  [3, new Map([[3, 0], [2, 100], [5, 50], [6, 50.5], [1, 200], [4, 250], [0, 300]])],
  [5, new Map([[5, 0], [6, 0.5]])],
  [7, new Map([[7, 0], [0, 10], [1, 110], [2, 210], [3, 260], [4, 160]])],
]);
const HAND_ORIGINS = [...HAND_EXPECTED.keys()];

// Float sums are compared exactly, no epsilon: 0.1 + 0.2 = 0.30000000000000004 > 0.3.
const FLOAT_ARCS: Arc[] = [[0, 1, 0.1], [1, 2, 0.2]];

test('networkx: hand graph, inclusive cutoff, parallel arcs, one-way shortcut', { skip: skipNx }, async () => {
  requirePeer(nx, 'networkx');
  const got = await networkxReach(await writeEdges(HAND_ARCS), HAND_ORIGINS, HAND_BUDGET);
  for (const [o, exp] of HAND_EXPECTED) assertSameReach(got.get(o)!, exp, `networkx origin ${o}`);
});

test('networkx: --multi gives the multi-source field (min over origins)', { skip: skipNx }, async () => {
  requirePeer(nx, 'networkx');
  const out = (await runNetworkx([
    '--edges', await writeEdges(HAND_ARCS), '--origins', await writeOrigins([0, 5]),
    '--budget', String(HAND_BUDGET), '--mode', 'check', '--multi',
  ])) as { field: Record<string, number> };
  // From {0, 5}: the From-0 reach with 5 -> 0 and 6 -> 0.5 (via 5).
  assertSameReach(toReach(out.field), new Map([[0, 0], [1, 100], [2, 200], [3, 250], [4, 150], [5, 0], [6, 0.5]]), 'networkx field');
});

test('networkx: float budgets compare exactly; isolated origin reaches itself', { skip: skipNx }, async () => {
  requirePeer(nx, 'networkx');
  const edges = await writeEdges(FLOAT_ARCS);
  const at03 = await networkxReach(edges, [0, 42], 0.3);
  assertSameReach(at03.get(0)!, new Map([[0, 0], [1, 0.1]]), 'budget 0.3');
  assertSameReach(at03.get(42)!, new Map([[42, 0]]), 'isolated origin 42');
  const atSum = await networkxReach(edges, [0], 0.1 + 0.2);
  assertSameReach(atSum.get(0)!, new Map([[0, 0], [1, 0.1], [2, 0.1 + 0.2]]), 'budget 0.1+0.2');
});

test('pgRouting: hand graph, inclusive cutoff, parallel arcs, one-way shortcut', { skip: skipPg }, async () => {
  requirePeer(pgr, 'PostgreSQL/pgRouting');
  const edges = await writeEdges(HAND_ARCS);
  for (const variant of ['per-origin', 'multi-start'] as const) {
    const got = await pgReach(edges, HAND_ORIGINS, HAND_BUDGET, variant);
    for (const [o, exp] of HAND_EXPECTED) assertSameReach(got.get(o)!, exp, `pgRouting ${variant} origin ${o}`);
  }
});

test('pgRouting: float budgets compare exactly; isolated origin reaches itself', { skip: skipPg }, async () => {
  requirePeer(pgr, 'PostgreSQL/pgRouting');
  const edges = await writeEdges(FLOAT_ARCS);
  const at03 = await pgReach(edges, [0, 42], 0.3);
  assertSameReach(at03.get(0)!, new Map([[0, 0], [1, 0.1]]), 'budget 0.3');
  assertSameReach(at03.get(42)!, new Map([[42, 0]]), 'isolated origin 42');
  const atSum = await pgReach(edges, [0], 0.1 + 0.2);
  assertSameReach(atSum.get(0)!, new Map([[0, 0], [1, 0.1], [2, 0.1 + 0.2]]), 'budget 0.1+0.2');
});

// ---------------------------------------------------------------------------
// random graph: the two peers must agree with each other
// ---------------------------------------------------------------------------


/**
 * 40 x 50 = 2,000-node street-like grid: 4-neighbour arcs of 30..120 s with
 * fractional seconds, ~10 % one-way, ~5 % with a parallel arc, and 200 random
 * one-way long links; node ids dense 0..1999.
 */
function randomGraph(seed: number): { arcs: Arc[]; n: number } {
  const rnd = mulberry32(seed);
  const W = 40;
  const H = 50;
  const n = W * H;
  const arcs: Arc[] = [];
  const t = () => 30 + rnd() * 90;
  const link = (a: number, b: number) => {
    const w = t();
    arcs.push([a, b, w]);
    if (rnd() >= 0.1) arcs.push([b, a, rnd() < 0.5 ? w : t()]);
    if (rnd() < 0.05) arcs.push([a, b, t()]);
  };
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const id = y * W + x;
      if (x + 1 < W) link(id, id + 1);
      if (y + 1 < H) link(id, id + W);
    }
  }
  for (let i = 0; i < 200; i++) {
    const a = Math.floor(rnd() * n);
    const b = Math.floor(rnd() * n);
    if (a !== b) arcs.push([a, b, 60 + rnd() * 600]);
  }
  return { arcs, n };
}

test('random 2,000-node graph: networkx and pgRouting agree on 20 origins (1e-6 s)', { skip: skipBoth }, async (t) => {
  requirePeer(nx, 'networkx');
  requirePeer(pgr, 'PostgreSQL/pgRouting');
  const { arcs, n } = randomGraph(20240615);
  const rnd = mulberry32(7);
  const origins = Array.from({ length: 20 }, () => Math.floor(rnd() * n));
  const budget = 900;
  const edges = await writeEdges(arcs);

  const a = await networkxReach(edges, origins, budget);
  const b = await pgReach(edges, origins, budget);
  let total = 0;
  let maxDiff = 0;
  for (const o of origins) {
    const ra = a.get(o)!;
    const rb = b.get(o)!;
    assert.equal(ra.get(o), 0, `origin ${o} at 0 in networkx`);
    assert.equal(rb.get(o), 0, `origin ${o} at 0 in pgRouting`);
    assertSameReach(rb, ra, `origin ${o} pgRouting vs networkx`, 1e-6);
    for (const [node, time] of ra) {
      assert.ok(time <= budget, `networkx node ${node} at ${time} > budget`);
      maxDiff = Math.max(maxDiff, Math.abs(time - rb.get(node)!));
    }
    total += ra.size;
  }
  assert.ok(total > 20 * 50, `the budget should reach a fair share of the graph (reached ${total})`);
  t.diagnostic(`arcs=${arcs.length} reachedTotal=${total} maxAbsDiff=${maxDiff}`);

  // Rough query rates (informational, not asserted).
  const nxBench = (await runNetworkx([
    '--edges', edges, '--origins', await writeOrigins(origins), '--budget', String(budget), '--mode', 'bench',
  ])) as { queriesPerSecond: number; reachedTotal: number; version: string };
  assert.equal(nxBench.reachedTotal, total);
  const pgBench = await pgroutingReach(edges, origins, budget, { mode: 'bench' });
  assert.equal(pgBench.reachedTotal, total);
  const pgMulti = await pgroutingReach(edges, origins, budget, { mode: 'bench', variant: 'multi-start' });
  assert.equal(pgMulti.reachedTotal, total);
  t.diagnostic(
    `networkx ${nxBench.version}: ${nxBench.queriesPerSecond.toFixed(0)} q/s; ` +
      `pgRouting ${pgBench.version} per-origin: ${pgBench.queriesPerSecond.toFixed(0)} q/s, ` +
      `multi-start: ${pgMulti.queriesPerSecond.toFixed(0)} q/s`,
  );
});

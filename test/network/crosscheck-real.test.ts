/**
 * Cross-check of the reach engine on the real central-Shanghai extract against two independent tools fed the
 * same graph: networkx 2.8 (single_source_dijkstra_path_length / multi_source_dijkstra_path_length, Debian
 * python3-networkx) and pgRouting 3.4 (pgr_drivingDistance, Debian postgresql-15-pgrouting). The graph is the
 * one lifecircle builds, exported arc by arc (`writeArcsCsv`), so the comparison is of the search itself:
 * identical reached node sets and times within 1e-6 s, walk and bike (one-way streets), 15 minutes.
 *
 * Peers missing: skipped with the reason locally, a failure under CI=true (scripts/setup-system.sh installs them).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readOsmNetwork, buildGraph, writeArcsCsv, type Graph, type ModeName } from '../../src/network/index.ts';
import { ReachEngine } from '../../src/analysis/dijkstra.ts';
import { sharedDataDir } from '../../src/util/data-dir.ts';
import { mulberry32 } from '../../src/util/random.ts';
import { pgroutingAvailable, pgroutingReach } from '../../bench/peers/pgrouting.ts';

const CI = process.env.CI === 'true';
const PYTHON = '/usr/bin/python3';
const NX_SCRIPT = new URL('../../bench/peers/networkx_reach.py', import.meta.url).pathname;
const BUDGET_S = 900;
const work = mkdtempSync(join(tmpdir(), 'lifecircle-xcheck-'));
after(() => rmSync(work, { recursive: true, force: true }));

const osm = join(sharedDataDir(), 'osm-shanghai-center', 'shanghai_center.osm');
const { raw } = await readOsmNetwork(osm, { modes: ['walk', 'bike'] });
const graph = buildGraph(raw);

/** Seeded origins spread over the mode's kept network (mulberry32). */
function origins(g: Graph, mode: ModeName, count: number, seed: number): number[] {
  const rand = mulberry32(seed);
  const comp = g.mode(mode).nodeComponent;
  const out: number[] = [];
  while (out.length < count) {
    const n = Math.floor(rand() * g.nodeCount);
    if (comp[n] >= 0) out.push(n);
  }
  return out;
}

function ours(mode: ModeName, origin: number): Map<number, number> {
  const engine = new ReachEngine(graph.mode(mode));
  engine.run([origin], [0], BUDGET_S);
  const m = new Map<number, number>();
  for (let i = 0; i < engine.reachedCount; i++) m.set(engine.reached[i], engine.timeS[engine.reached[i]]);
  return m;
}

function assertSameReach(label: string, got: Map<number, number>, want: Map<number, number>): void {
  const missing = [...want.keys()].filter((n) => !got.has(n));
  const extra = [...got.keys()].filter((n) => !want.has(n));
  assert.deepEqual({ missing: missing.slice(0, 5), extra: extra.slice(0, 5) }, { missing: [], extra: [] }, `${label}: node sets differ`);
  let worst = 0;
  for (const [n, t] of want) worst = Math.max(worst, Math.abs(got.get(n)! - t));
  assert.ok(worst <= 1e-6, `${label}: largest time difference ${worst} s > 1e-6 s`);
}

function skipOrFail(t: { skip: (m: string) => void }, why: string): boolean {
  if (CI) assert.fail(`peer required under CI=true but unavailable: ${why}`);
  t.skip(why);
  return true;
}

for (const mode of ['walk', 'bike'] as const) {
  const edges = join(work, `${mode}.csv`);
  await writeArcsCsv(graph, mode, edges);
  const sample = origins(graph, mode, 40, mode === 'walk' ? 7 : 11);

  test(`${mode}: 15-minute reach from 40 origins equals networkx on the real extract`, (t) => {
    if (!existsSync(PYTHON) && skipOrFail(t, `${PYTHON} not found`)) return;
    const originsFile = join(work, `${mode}-origins.json`);
    writeFileSync(originsFile, JSON.stringify(sample));
    let out: string;
    try {
      out = execFileSync(PYTHON, [NX_SCRIPT, '--edges', edges, '--origins', originsFile, '--budget', String(BUDGET_S), '--mode', 'check'], { encoding: 'utf8', maxBuffer: 1 << 28 });
    } catch (e) {
      if (skipOrFail(t, `networkx failed: ${(e as Error).message.split('\n')[0]}`)) return;
      throw e;
    }
    const { results } = JSON.parse(out) as { results: Array<{ origin: number; reached: Record<string, number> }> };
    assert.equal(results.length, sample.length);
    let reachedTotal = 0;
    for (const r of results) {
      const want = new Map(Object.entries(r.reached).map(([k, v]) => [Number(k), v]));
      reachedTotal += want.size;
      assertSameReach(`${mode} origin ${r.origin}`, ours(mode, r.origin), want);
    }
    assert.ok(reachedTotal > sample.length * 20, `queries reach a real neighbourhood (got ${reachedTotal} nodes over ${sample.length} origins)`);
  });

  test(`${mode}: multi-source nearest field from 40 origins equals networkx`, (t) => {
    if (!existsSync(PYTHON) && skipOrFail(t, `${PYTHON} not found`)) return;
    const originsFile = join(work, `${mode}-multi.json`);
    writeFileSync(originsFile, JSON.stringify(sample));
    const out = execFileSync(PYTHON, [NX_SCRIPT, '--edges', edges, '--origins', originsFile, '--budget', String(BUDGET_S), '--mode', 'check', '--multi'], { encoding: 'utf8', maxBuffer: 1 << 28 });
    const want = new Map(Object.entries((JSON.parse(out) as { field: Record<string, number> }).field).map(([k, v]) => [Number(k), v]));
    const engine = new ReachEngine(graph.mode(mode));
    engine.run(sample, sample.map(() => 0), BUDGET_S);
    const got = new Map<number, number>();
    for (let i = 0; i < engine.reachedCount; i++) got.set(engine.reached[i], engine.timeS[engine.reached[i]]);
    assertSameReach(`${mode} multi-source field`, got, want);
  });

  test(`${mode}: 15-minute reach from 40 origins equals pgRouting pgr_drivingDistance`, async (t) => {
    const avail = await pgroutingAvailable();
    if (!avail.ok && skipOrFail(t, avail.why)) return;
    const r = await pgroutingReach(edges, sample, BUDGET_S, { mode: 'check', variant: 'multi-start' });
    assert.equal(r.results!.length, sample.length);
    for (const res of r.results!) assertSameReach(`${mode} origin ${res.origin} (pgRouting)`, ours(mode, res.origin), res.reached);
  });
}

/**
 * ReachEngine (typed-array binary heap with decrease-key, bounded, reusable) against a textbook Dijkstra
 * written here: array scan for the minimum, no heap, no budget (the full field), then the budget applied
 * afterwards ("reached" = shortest time <= budget, or < budget for 'exclusive'). Nonnegative arc times make
 * the two definitions equal: every prefix of a shortest path within the budget is itself within it.
 *
 *   node --import tsx --test test/analysis/dijkstra-oracle.test.ts
 *
 * Graphs are seeded random (mulberry32), 50–2,000 nodes, random directed arcs (with parallel arcs, self
 * loops and zero-time arcs), arc times Float32-representable. Sums of a few thousand float32 values in
 * [2^-4, 2^10] are exact in float64, so both implementations get bit-identical times whatever the order of
 * additions; the tolerance is 1e-9 anyway. A second block builds random RawNetworks through buildGraph
 * (degree-2 collapse, chains) and compares against a textbook Dijkstra over the uncollapsed segments.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReachEngine, type Cutoff } from '../../src/analysis/dijkstra.ts';
import { LifecircleError } from '../../src/errors.ts';
import { haversineM } from '../../src/geo.ts';
import { buildGraph, type ModeGraph, type RawNetwork } from '../../src/network/index.ts';
import { mulberry32 } from '../../src/util/random.ts';


interface Arc {
  from: number;
  to: number;
  timeS: number;
}

/** A ModeGraph laid out by hand (CSR over the arcs, grouped by tail in arc order). */
function modeGraphOf(nodeCount: number, arcs: Arc[]): ModeGraph {
  const arcOffsets = new Uint32Array(nodeCount + 1);
  for (const a of arcs) arcOffsets[a.from + 1]++;
  for (let n = 0; n < nodeCount; n++) arcOffsets[n + 1] += arcOffsets[n];
  const arcTarget = new Uint32Array(arcs.length);
  const arcChain = new Uint32Array(arcs.length);
  const arcTimeS = new Float64Array(arcs.length);
  const fill = arcOffsets.slice(0, nodeCount);
  arcs.forEach((a, i) => {
    const k = fill[a.from]++;
    arcTarget[k] = a.to;
    arcChain[k] = i * 2;
    arcTimeS[k] = a.timeS;
  });
  return {
    mode: 'walk',
    speedMps: 1.25,
    arcOffsets,
    arcTarget,
    arcChain,
    arcTimeS,
    chainUsable: new Uint8Array(arcs.length).fill(1),
    chainSecPerMFwd: new Float64Array(arcs.length).fill(0.8),
    chainSecPerMBack: new Float64Array(arcs.length).fill(Infinity),
    nodeComponent: new Int32Array(nodeCount),
  };
}

/**
 * Textbook Dijkstra: dist[] = Infinity, sources set, repeatedly pick the unsettled node of least finite
 * distance by scanning the whole array, relax its out-arcs. O(n²), no heap, no budget.
 */
function oracle(nodeCount: number, out: Arc[][], sources: Array<[node: number, timeS: number]>): Float64Array {
  const dist = new Float64Array(nodeCount).fill(Infinity);
  const done = new Uint8Array(nodeCount);
  for (const [n, t] of sources) if (t < dist[n]) dist[n] = t;
  for (;;) {
    let u = -1;
    for (let v = 0; v < nodeCount; v++) if (!done[v] && dist[v] < Infinity && (u < 0 || dist[v] < dist[u])) u = v;
    if (u < 0) break;
    done[u] = 1;
    for (const a of out[u]) if (dist[u] + a.timeS < dist[a.to]) dist[a.to] = dist[u] + a.timeS;
  }
  return dist;
}

function randomGraph(rand: () => number, nodeCount: number): Arc[] {
  const arcs: Arc[] = [];
  const avgOut = 1 + rand() * 3; // sparse to medium: many unreachable pockets on the sparse ones
  const arcCount = Math.round(nodeCount * avgOut);
  const local = rand() < 0.5; // half the graphs: arcs mostly between nearby ids (long paths, deep searches)
  for (let i = 0; i < arcCount; i++) {
    const from = Math.floor(rand() * nodeCount);
    const to = local ? Math.min(nodeCount - 1, Math.max(0, from + Math.floor((rand() - 0.5) * 20))) : Math.floor(rand() * nodeCount);
    const r = rand();
    // float32-representable: zero (5 %), small integers, and arbitrary fround'ed reals in [1/16, 1024)
    const timeS = r < 0.05 ? 0 : r < 0.3 ? Math.floor(rand() * 60) + 1 : Math.fround(2 ** (rand() * 14 - 4));
    arcs.push({ from, to, timeS });
    if (rand() < 0.05) arcs.push({ from, to, timeS: Math.fround(timeS * 2) }); // a slower parallel arc
  }
  return arcs;
}

interface Query {
  sources: Array<[number, number]>;
  budgetS: number;
  cutoff: Cutoff;
  /** Oracle fields, computed once per source set: all sources together, and each source alone. */
  field: Float64Array;
  perSource: Float64Array[];
}

/** Checks one engine run against the oracle field; returns the reached set size. */
function check(engine: ReachEngine, nodeCount: number, q: Query, label: string): number {
  const nodes = q.sources.map((s) => s[0]);
  const times = q.sources.map((s) => s[1]);
  const count = engine.run(nodes, times, q.budgetS, q.cutoff);
  const dist = q.field;
  const within = (t: number) => (q.cutoff === 'inclusive' ? t <= q.budgetS : t < q.budgetS);
  const expected = new Set<number>();
  for (let v = 0; v < nodeCount; v++) if (dist[v] < Infinity && within(dist[v])) expected.add(v);

  assert.equal(count, expected.size, `${label}: reached count`);
  assert.equal(engine.reachedCount, expected.size, `${label}: reachedCount`);
  const seen = new Set<number>();
  let last = -Infinity;
  for (let i = 0; i < engine.reachedCount; i++) {
    const v = engine.reached[i];
    assert.ok(!seen.has(v), `${label}: node ${v} settled twice`);
    seen.add(v);
    assert.ok(expected.has(v), `${label}: node ${v} reached at ${engine.timeS[v]} but oracle says ${dist[v]}`);
    assert.ok(Math.abs(engine.timeS[v] - dist[v]) <= 1e-9, `${label}: node ${v} time ${engine.timeS[v]} vs oracle ${dist[v]}`);
    assert.ok(engine.timeS[v] >= last, `${label}: settle order not non-decreasing at ${v}`);
    last = engine.timeS[v];
  }
  for (let v = 0; v < nodeCount; v++) {
    if (!expected.has(v)) {
      assert.equal(engine.timeS[v], Infinity, `${label}: node ${v} not reached must have time Infinity`);
      assert.equal(engine.source[v], -1, `${label}: node ${v} not reached must have source -1`);
    }
  }
  // source attribution: source[v] = i must be a source from which v is reached at exactly timeS[v]
  if (q.sources.length > 1 && q.sources.length <= 4) {
    const per = q.perSource;
    for (const v of expected) {
      const i = engine.source[v];
      assert.ok(i >= 0 && i < q.sources.length, `${label}: node ${v} source index ${i}`);
      assert.ok(Math.abs(per[i][v] - dist[v]) <= 1e-9, `${label}: node ${v} attributed to source ${i} (${per[i][v]}), best is ${dist[v]}`);
    }
  } else if (q.sources.length === 1) {
    for (const v of expected) assert.equal(engine.source[v], 0);
  }
  return count;
}

function randomQueries(rand: () => number, nodeCount: number, out: Arc[][]): Query[] {
  const queries: Query[] = [];
  const pick = () => Math.floor(rand() * nodeCount);
  for (let k = 0; k < 6; k++) {
    const multi = k >= 3;
    const sources: Array<[number, number]> = [];
    const sourceCount = multi ? 2 + Math.floor(rand() * 3) : 1;
    for (let s = 0; s < sourceCount; s++) sources.push([pick(), multi ? Math.fround(rand() * 100) : 0]);
    if (multi && rand() < 0.5) sources.push([sources[0][0], Math.fround(sources[0][1] / 2)]); // same node, earlier
    // budgets: Infinity, random, and exactly a reached node's time (the inclusive/exclusive boundary)
    const field = oracle(nodeCount, out, sources);
    const perSource = sources.length > 1 && sources.length <= 4 ? sources.map((s) => oracle(nodeCount, out, [s])) : [];
    const finite = [...field].filter((t) => t < Infinity).sort((a, b) => a - b);
    const budgets = [Infinity, Math.fround(rand() * 2000), finite[Math.floor(rand() * finite.length)], finite[finite.length - 1], 0];
    for (const budgetS of budgets) for (const cutoff of ['inclusive', 'exclusive'] as const) queries.push({ sources, budgetS, cutoff, field, perSource });
  }
  return queries;
}

test('ReachEngine = textbook Dijkstra on 30 seeded random graphs (50–2,000 nodes), single and multi-source, both cutoffs', () => {
  const rand = mulberry32(20240611);
  let runs = 0;
  let boundaryHits = 0;
  for (let g = 0; g < 30; g++) {
    const nodeCount = g < 3 ? [50, 2000, 1000][g] : 50 + Math.floor(rand() * 1951);
    const arcs = randomGraph(rand, nodeCount);
    const out: Arc[][] = Array.from({ length: nodeCount }, () => []);
    for (const a of arcs) out[a.from].push(a);
    const mode = modeGraphOf(nodeCount, arcs);
    const shared = new ReachEngine(mode);
    for (const q of randomQueries(rand, nodeCount, out)) {
      const label = `graph ${g} (${nodeCount} nodes, ${arcs.length} arcs), ${q.sources.length} source(s), budget ${q.budgetS}, ${q.cutoff}`;
      check(shared, nodeCount, q, label);
      runs++;
      // a budget equal to a reached time: the node at exactly that time is in for inclusive, out for exclusive
      if (Number.isFinite(q.budgetS) && q.budgetS > 0) {
        let atBudget = 0;
        for (let v = 0; v < nodeCount; v++) if (shared.timeS[v] === q.budgetS) atBudget++;
        if (q.cutoff === 'inclusive' && atBudget > 0) boundaryHits++;
        if (q.cutoff === 'exclusive') assert.equal(atBudget, 0, `${label}: exclusive must not keep a node at exactly the budget`);
      }
    }
  }
  assert.ok(runs >= 30 * 6 * 10);
  assert.ok(boundaryHits >= 30, `boundary cases exercised: ${boundaryHits}`);
});

test('ReachEngine reused across many queries gives what a fresh engine gives (state is reset)', () => {
  const rand = mulberry32(7);
  for (let g = 0; g < 5; g++) {
    const nodeCount = 200 + Math.floor(rand() * 800);
    const arcs = randomGraph(rand, nodeCount);
    const mode = modeGraphOf(nodeCount, arcs);
    const reused = new ReachEngine(mode);
    for (let q = 0; q < 40; q++) {
      const k = 1 + Math.floor(rand() * 3);
      const nodes = Array.from({ length: k }, () => Math.floor(rand() * nodeCount));
      const times = Array.from({ length: k }, () => Math.fround(rand() * 50));
      const budgetS = q % 5 === 0 ? Infinity : Math.fround(rand() * 600);
      const cutoff: Cutoff = q % 2 === 0 ? 'inclusive' : 'exclusive';
      const fresh = new ReachEngine(mode);
      const a = reused.run(nodes, times, budgetS, cutoff);
      const b = fresh.run(nodes, times, budgetS, cutoff);
      assert.equal(a, b);
      assert.deepEqual(reused.timeS, fresh.timeS, `graph ${g} query ${q}: timeS`);
      assert.deepEqual(reused.source, fresh.source, `graph ${g} query ${q}: source`);
      assert.deepEqual(reused.reached.subarray(0, a), fresh.reached.subarray(0, b), `graph ${g} query ${q}: settle order`);
    }
    // reset() alone leaves the engine as new
    reused.reset();
    assert.ok(reused.timeS.every((t) => t === Infinity));
    assert.ok(reused.source.every((s) => s === -1));
    assert.equal(reused.reachedCount, 0);
  }
});

test('ReachEngine: hand-checked small cases (duplicate sources, late sources, zero arcs, budget checks)', () => {
  // 0 →(1) 1 →(1) 2, 1 →(0) 3, 3 →(2.5) 2
  const arcs: Arc[] = [
    { from: 0, to: 1, timeS: 1 },
    { from: 1, to: 2, timeS: 1 },
    { from: 1, to: 3, timeS: 0 },
    { from: 3, to: 2, timeS: 2.5 },
  ];
  const e = new ReachEngine(modeGraphOf(4, arcs));
  // the same node twice, the second earlier: one settle, time 3, attributed to source 1
  assert.equal(e.run([0, 0], [5, 3], Infinity), 4);
  assert.deepEqual([...e.reached.subarray(0, 4)].sort(), [0, 1, 2, 3]);
  assert.deepEqual([...e.timeS], [3, 4, 5, 4]);
  assert.deepEqual([...e.source], [1, 1, 1, 1]);
  // a source later than the field reaching it is ignored
  assert.equal(e.run([0, 2], [0, 7], Infinity), 4);
  assert.deepEqual([...e.timeS], [0, 1, 2, 1]);
  assert.equal(e.source[2], 0);
  // a source beyond the budget is not a source at all; budget 0 keeps only time-0 sources (inclusive)
  assert.equal(e.run([0, 2], [0, 7], 5), 4);
  assert.equal(e.run([2], [7], 5), 0);
  assert.ok(e.timeS.every((t) => t === Infinity));
  assert.equal(e.run([0], [0], 0, 'inclusive'), 1);
  assert.equal(e.run([0], [0], 0, 'exclusive'), 0);
  // zero-time arc: 1 and 3 tie at 1
  assert.equal(e.run([0], [0], 1, 'inclusive'), 3);
  assert.equal(e.run([0], [0], 1, 'exclusive'), 1);
  for (const bad of [-1, NaN]) {
    assert.throws(
      () => e.run([0], [0], bad),
      (err: unknown) => err instanceof LifecircleError && err.key === 'BUDGET_INVALID' && err.message.includes(String(bad)),
    );
  }
});

// ---------------------------------------------------------------------------------------------------------
// through buildGraph: collapsed chains vs the uncollapsed segment graph
// ---------------------------------------------------------------------------------------------------------

test('buildGraph + ReachEngine = textbook Dijkstra over the raw segments, at every junction (random raw networks)', () => {
  const rand = mulberry32(99);
  for (let g = 0; g < 6; g++) {
    // vertices jittered on a lattice around Shanghai; lines are random walks over lattice neighbours
    const side = 8 + Math.floor(rand() * 12);
    const vertexCount = side * side;
    const vertexLon = new Float64Array(vertexCount);
    const vertexLat = new Float64Array(vertexCount);
    for (let i = 0; i < vertexCount; i++) {
      vertexLon[i] = 121.4 + (i % side) * 0.001 + (rand() - 0.5) * 0.0004;
      vertexLat[i] = 31.2 + Math.floor(i / side) * 0.001 + (rand() - 0.5) * 0.0004;
    }
    const lineStart: number[] = [0];
    const lineVertices: number[] = [];
    const paceFwd: number[] = [];
    const paceBack: number[] = [];
    const lineCount = side * 2;
    for (let l = 0; l < lineCount; l++) {
      let v = Math.floor(rand() * vertexCount);
      lineVertices.push(v);
      const len = 2 + Math.floor(rand() * side);
      for (let k = 0; k < len; k++) {
        const dir = Math.floor(rand() * 4);
        const x = v % side;
        const y = Math.floor(v / side);
        const nx = Math.min(side - 1, Math.max(0, x + (dir === 0 ? 1 : dir === 1 ? -1 : 0)));
        const ny = Math.min(side - 1, Math.max(0, y + (dir === 2 ? 1 : dir === 3 ? -1 : 0)));
        v = ny * side + nx;
        lineVertices.push(v); // may repeat the previous vertex (a zero-length step): buildGraph skips it
      }
      lineStart.push(lineVertices.length);
      // pace: ordinary, steps-like, or a one-way line (walk never has those, so keep both directions)
      const pace = [0.8, 0.8, 0.8, 1.6, 1.0][Math.floor(rand() * 5)];
      paceFwd.push(pace);
      paceBack.push(pace);
    }
    const raw: RawNetwork = {
      source: `random-${g}`,
      sourceKind: 'osm',
      attribution: 'test',
      notes: [],
      modes: ['walk'],
      vertexLon,
      vertexLat,
      vertexOsmId: Float64Array.from({ length: vertexCount }, (_, i) => i + 1),
      vertexBlocked: new Uint8Array(vertexCount),
      lineStart: Uint32Array.from(lineStart),
      lineVertices: Uint32Array.from(lineVertices),
      lineWayId: Float64Array.from({ length: lineCount }, (_, l) => 1000 + l),
      lineSecPerMFwd: Float64Array.from(paceFwd),
      lineSecPerMBack: Float64Array.from(paceBack),
    };
    const graph = buildGraph(raw, { minComponentNodes: 1 });
    const walk = graph.mode('walk');

    // oracle graph over raw vertices: one arc each way per distinct consecutive pair, haversine × pace
    const out: Arc[][] = Array.from({ length: vertexCount }, () => []);
    for (let l = 0; l < lineCount; l++) {
      for (let k = lineStart[l] + 1; k < lineStart[l + 1]; k++) {
        const a = lineVertices[k - 1];
        const b = lineVertices[k];
        if (a === b) continue;
        const m = haversineM(vertexLon[a], vertexLat[a], vertexLon[b], vertexLat[b]);
        out[a].push({ from: a, to: b, timeS: m * paceFwd[l] });
        out[b].push({ from: b, to: a, timeS: m * paceBack[l] });
      }
    }
    const vertexOfNode = Array.from(graph.nodeOsmId, (id) => id - 1);
    const engine = new ReachEngine(walk);
    for (let q = 0; q < 5; q++) {
      const n = Math.floor(rand() * graph.nodeCount);
      const budgetS = q === 0 ? Infinity : 200 + rand() * 1500;
      engine.run([n], [0], budgetS);
      const dist = oracle(vertexCount, out, [[vertexOfNode[n], 0]]);
      for (let m = 0; m < graph.nodeCount; m++) {
        const d = dist[vertexOfNode[m]];
        const t = engine.timeS[m];
        // chains keep their full geometry: only the order of floating-point additions differs
        if (d === Infinity) assert.equal(t, Infinity, `raw net ${g}: node ${m} unreachable in the raw graph, reached at ${t}`);
        else if (d <= budgetS - 1e-3) assert.ok(Math.abs(t - d) <= 1e-6 * Math.max(1, d), `raw net ${g}, from node ${n} to ${m}: engine ${t}, oracle ${d}`);
        else if (d > budgetS + 1e-3) assert.equal(t, Infinity, `raw net ${g}: node ${m} beyond the budget (${d} > ${budgetS}) reached at ${t}`);
      }
    }
    // every raw vertex used by a line is either a graph node or lies inside a chain's geometry exactly once
    let interior = 0;
    for (let c = 0; c < graph.chainCount; c++) interior += graph.chainGeomStart[c + 1] - graph.chainGeomStart[c] - 2;
    const used = new Set<number>();
    for (let l = 0; l < lineCount; l++) {
      for (let k = lineStart[l] + 1; k < lineStart[l + 1]; k++) {
        if (lineVertices[k] !== lineVertices[k - 1]) used.add(lineVertices[k]).add(lineVertices[k - 1]);
      }
    }
    assert.equal(graph.nodeCount + interior, used.size, `raw net ${g}: nodes + interior geometry points`);
  }
});

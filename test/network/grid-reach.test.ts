/**
 * Reach on ASCII-drawn grids (after Valhalla's gurka tests): every expected time below is derived by hand
 * from blocks × seconds per block, never read back from the code under test.
 *
 *   node --import tsx --test test/network/grid-reach.test.ts
 *
 * Grid step 100 m (see test/helpers/ascii-network.ts). Paces: walk 1.25 m/s → 0.8 s/m → 80 s per block;
 * elderly 1.0 m/s → 100 s per block; bike 12 km/h → 0.3 s/m → 30 s per block; steps: walk at half speed
 * (160 s per block). The first drawing row lies on the reference parallel and `|` lines are meridians, so
 * blocks there are 100 m to ~4e-12 relative and times match blocks × seconds to < 1e-6 s; rows further south
 * are longer by ~9.5e-6 per 100 m of southing, and tests using them compare against haversine lengths of
 * the written coordinates (net.pathM) instead of exact multiples.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReachEngine } from '../../src/analysis/dijkstra.ts';
import { arrivalTimeS, directTimeS, reachFrom } from '../../src/analysis/reach.ts';
import { EARTH_RADIUS_M, haversineM } from '../../src/geo.ts';
import { isSnap, snapPoint, type Graph, type ModeName, type Snap } from '../../src/network/index.ts';
import { writeAsciiOsm, type AsciiNetwork, type Tags } from '../helpers/ascii-network.ts';
import { buildFromOsm, mustNode, nodeOfOsmId } from '../helpers/graph.ts';

const RES: Tags = { highway: 'residential' };

/**
 * |got - expected| < 1e-6 s. Arc times are haversine lengths × pace in float64: a 100 m block drawn on the
 * reference parallel measures 100 − 4e-10 m (a great circle is a hair shorter than the parallel), so times
 * match the blocks × seconds derivation to ~1e-9 s, not bit for bit.
 */
function near(got: number | undefined, expected: number, what = ''): void {
  assert.ok(got !== undefined && Math.abs(got - expected) < 1e-6, `${what}: got ${got}, expected ${expected}`);
}

/** Shortest times from graph node `from` with the engine, as OSM id → seconds (reached nodes only). */
function timesFrom(graph: Graph, mode: ModeName, fromOsmId: number, budgetS = Infinity, cutoff: 'inclusive' | 'exclusive' = 'inclusive'): Map<number, number> {
  const engine = new ReachEngine(graph.mode(mode));
  engine.run([mustNode(graph, fromOsmId)], [0], budgetS, cutoff);
  const out = new Map<number, number>();
  for (let i = 0; i < engine.reachedCount; i++) {
    const n = engine.reached[i];
    out.set(graph.nodeOsmId[n], engine.timeS[n]);
  }
  return out;
}

function snapAt(graph: Graph, mode: ModeName, net: AsciiNetwork, letter: string): Snap {
  const n = net.node(letter);
  const s = snapPoint(graph, graph.mode(mode), n.lon, n.lat);
  assert.ok(isSnap(s), `${letter} should snap for ${mode}: ${JSON.stringify(s)}`);
  return s;
}

/** Door-to-door time between two drawn letters through snapping (works for collapsed letters too). */
function pointToPoint(graph: Graph, mode: ModeName, net: AsciiNetwork, from: string, to: string): number {
  const m = graph.mode(mode);
  const engine = new ReachEngine(m);
  const o = snapAt(graph, mode, net, from);
  const d = snapAt(graph, mode, net, to);
  reachFrom(graph, engine, o, Infinity);
  return Math.min(arrivalTimeS(graph, m, engine, d.chain, d.offsetM, d.legM), directTimeS(graph, m, o, d));
}

// ---------------------------------------------------------------------------------------------------------
// the helper itself
// ---------------------------------------------------------------------------------------------------------

test('ascii helper: letters land 100 m apart per grid step (haversine of the written coordinates)', () => {
  const net = writeAsciiOsm(
    `
    A-B---C
    |
    D
    |
    |
    |
    E
    `,
    { ABC: RES, ADE: RES },
  );
  // along the reference parallel and along a meridian: exact to ~1e-12 relative
  // (a great circle between two points of one parallel is shorter than the parallel by ~1.5e-11 here)
  assert.ok(Math.abs(net.pathM('AB') - 100) < 1e-7, `AB = ${net.pathM('AB')}`);
  assert.ok(Math.abs(net.pathM('BC') - 200) < 1e-7, `BC = ${net.pathM('BC')}`);
  assert.ok(Math.abs(net.pathM('AD') - 100) < 1e-7, `AD = ${net.pathM('AD')}`);
  assert.ok(Math.abs(net.pathM('DE') - 200) < 1e-7, `DE = ${net.pathM('DE')}`);
  // conversion constants: 1 m north = 1 / (R·π/180) degrees, on src/geo.ts's sphere
  assert.ok(Math.abs(net.node('A').lat - net.node('D').lat - 100 / ((EARTH_RADIUS_M * Math.PI) / 180)) < 1e-15);
  assert.equal(net.node('A').lon, 121.4);
  assert.equal(net.node('A').lat, 31.2);
  assert.deepEqual(
    ['A', 'B', 'C', 'D', 'E'].map((l) => net.id(l)),
    [1, 2, 3, 4, 5],
  );
  assert.throws(() => writeAsciiOsm('A-B C', { ABC: RES }), /BC is not drawn/);
  assert.throws(() => writeAsciiOsm('A-B', { AX: RES }), /uses "X"/);
});

test('ascii helper: rows south of the reference parallel are longer by cos(lat)/cos(lat0) (why tests use pathM there)', () => {
  const net = writeAsciiOsm(
    `
    A-B
    | |
    | |
    | |
    | |
    | |
    | |
    | |
    C-D
    `,
    { AB: RES, CD: RES, AC: RES, BD: RES },
  );
  const rel = net.pathM('CD') / 100 - 1;
  const predicted = Math.tan((31.2 * Math.PI) / 180) * (400 / EARTH_RADIUS_M);
  assert.ok(Math.abs(rel - predicted) < 1e-8, `relative excess ${rel}, predicted ${predicted}`);
  assert.ok(rel > 1e-6 && rel < 1e-4);
});

// ---------------------------------------------------------------------------------------------------------
// 5 × 5 residential grid
// ---------------------------------------------------------------------------------------------------------

// A is the north-west corner; the entrance path Z-A makes it a junction (a corner on its own is a degree-2
// vertex and collapses into the chain B-A-F). Letter (col, row) → Manhattan distance col + row blocks.
const GRID = `
  Z-A-B-C-D-E
    | | | | |
    F-G-H-I-J
    | | | | |
    K-L-M-N-O
    | | | | |
    P-Q-R-S-T
    | | | | |
    U-V-W-X-Y
`;
const GRID_ROWS = ['ABCDE', 'FGHIJ', 'KLMNO', 'PQRST', 'UVWXY'];
const GRID_WAYS: Record<string, Tags> = { ZA: { highway: 'footway' } };
for (const r of GRID_ROWS) GRID_WAYS[r] = RES;
for (let c = 0; c < 5; c++) GRID_WAYS[GRID_ROWS.map((r) => r[c]).join('')] = RES;
const manhattan = (letter: string): number => {
  const row = GRID_ROWS.findIndex((r) => r.includes(letter));
  return row + GRID_ROWS[row].indexOf(letter);
};
const GRID_LETTERS = GRID_ROWS.join('');

test('5×5 grid: topology (junctions are nodes, corners collapse)', async () => {
  const net = writeAsciiOsm(GRID, GRID_WAYS);
  const { graph } = await buildFromOsm(net.path, ['walk', 'elderly', 'bike']);
  // Z (dead end), A (3 ways), 12 border non-corners (degree 3), 9 interior (degree 4); corners E, U, Y collapse.
  assert.equal(graph.nodeCount, 1 + 1 + 12 + 9);
  for (const l of 'EUY') assert.equal(nodeOfOsmId(graph, net.id(l)), -1, `${l} is a degree-2 corner`);
  // segments: 5 rows × 4 + 5 columns × 4 + ZA = 41; each collapsed corner merges two into one chain.
  assert.equal(graph.chainCount, 41 - 3);
  for (const mode of ['walk', 'elderly'] as const) {
    assert.equal(graph.mode(mode).arcTarget.length, 2 * graph.chainCount, `${mode}: every chain usable both ways`);
  }
  assert.equal(graph.mode('bike').arcTarget.length, 2 * (graph.chainCount - 1), 'bike: all but the footway Z-A, both ways');
});

test('5×5 grid: walk from corner A reaches the node k blocks away at exactly k × 80 s', async () => {
  const net = writeAsciiOsm(GRID, GRID_WAYS);
  const { graph } = await buildFromOsm(net.path, ['walk', 'elderly', 'bike']);
  const t = timesFrom(graph, 'walk', net.id('A'));
  let checked = 0;
  for (const l of GRID_LETTERS) {
    if (nodeOfOsmId(graph, net.id(l)) < 0) continue;
    // shortest path: east along the first row (on the reference parallel) then south along a meridian
    near(t.get(net.id(l)), manhattan(l) * 80, `walk time to ${l}`);
    checked++;
  }
  assert.equal(checked, 22);
  near(t.get(net.id('Z')), 80);
});

test('5×5 grid: elderly k × 100 s, bike k × 30 s', async () => {
  const net = writeAsciiOsm(GRID, GRID_WAYS);
  const { graph } = await buildFromOsm(net.path, ['walk', 'elderly', 'bike']);
  const elderly = timesFrom(graph, 'elderly', net.id('A'));
  const bike = timesFrom(graph, 'bike', net.id('A'));
  for (const l of GRID_LETTERS) {
    if (nodeOfOsmId(graph, net.id(l)) < 0) continue;
    near(elderly.get(net.id(l)), manhattan(l) * 100, `elderly time to ${l}`);
    near(bike.get(net.id(l)), manhattan(l) * 30, `bike time to ${l}`);
  }
  // Z-A is a footway: no bikes (so Z is not in the bike network at all)
  near(elderly.get(net.id('Z')), 100);
  assert.equal(bike.has(net.id('Z')), false);
});

test('5×5 grid: budget exactly 240 s includes the 3-block nodes (inclusive), excludes them (exclusive)', async () => {
  const net = writeAsciiOsm(GRID, GRID_WAYS);
  const { graph } = await buildFromOsm(net.path, ['walk']);
  const threeBlocks = [...GRID_LETTERS].filter((l) => manhattan(l) === 3);
  assert.deepEqual(threeBlocks, ['D', 'H', 'L', 'P']);
  const full = timesFrom(graph, 'walk', net.id('A'));
  for (const l of threeBlocks) {
    // 300 m at 1.25 m/s = 240 s; the geometry makes it 240 s to ~1e-9 (see near()), so the exact boundary
    // is each node's own time: a budget equal to it keeps the node (<=) and an exclusive one drops it (<).
    const t = full.get(net.id(l))!;
    near(t, 240, `${l}`);
    const inc = timesFrom(graph, 'walk', net.id('A'), t, 'inclusive');
    const exc = timesFrom(graph, 'walk', net.id('A'), t, 'exclusive');
    assert.equal(inc.get(net.id(l)), t, `${l} inclusive at budget ${t}`);
    assert.equal(exc.has(net.id(l)), false, `${l} exclusive at budget ${t}`);
  }
  // with the literal 240 s budget: every graph node within 3 blocks (and Z at 80 s), none at 4
  const inc = timesFrom(graph, 'walk', net.id('A'), 240 + 1e-6, 'inclusive');
  const exc = timesFrom(graph, 'walk', net.id('A'), 240 - 1e-6, 'exclusive');
  const within = (k: number) => [...GRID_LETTERS].filter((l) => manhattan(l) <= k && nodeOfOsmId(graph, net.id(l)) >= 0).map((l) => net.id(l));
  assert.deepEqual([...inc.keys()].sort((a, b) => a - b), [...within(3), net.id('Z')].sort((a, b) => a - b));
  assert.deepEqual([...exc.keys()].sort((a, b) => a - b), [...within(2), net.id('Z')].sort((a, b) => a - b));
});

test('5×5 grid: door-to-door from a point on the corner (snapped) matches the blocks × 80 s for every letter', async () => {
  const net = writeAsciiOsm(GRID, GRID_WAYS);
  const { graph } = await buildFromOsm(net.path, ['walk']);
  for (const l of GRID_LETTERS) {
    const got = pointToPoint(graph, 'walk', net, 'A', l);
    assert.ok(Math.abs(got - manhattan(l) * 80) < 1e-6, `A → ${l}: got ${got}, expected ${manhattan(l) * 80}`);
  }
  // the far corner through snapping: U and Y are collapsed corners (not nodes)
  assert.ok(Math.abs(pointToPoint(graph, 'walk', net, 'U', 'Y') - net.pathM('UVWXY') * 0.8) < 1e-6);
});

test('5×5 grid: a person standing exactly on corner A with a 240 s budget reaches the 3-block nodes (inclusive)', async () => {
  // Same question as the node-based test above, asked through the public path (snap → reachFrom). The
  // true time to D, H, L and P is 300 m / 1.25 m/s = 240 s. Regression guard: with seconds-per-metre stored
  // as Float32 (0.8 → 0.800000011920929) the first block cost 80.0000012 s and these nodes fell out of an
  // inclusive 240 s budget (fixed in 6751a76, pace in Float64).
  const ways = { ...GRID_WAYS };
  delete ways.ZA;
  const net = writeAsciiOsm(GRID.replace('Z-', '  '), ways); // the same grid without the entrance path: A collapses
  const { graph } = await buildFromOsm(net.path, ['walk']);
  const engine = new ReachEngine(graph.mode('walk'));
  const origin = snapAt(graph, 'walk', net, 'A');
  assert.equal(origin.legM, 0);
  reachFrom(graph, engine, origin, Infinity);
  const unbounded = new Map([...'DHLP'].map((l) => [l, engine.timeS[mustNode(graph, net.id(l))]]));
  reachFrom(graph, engine, origin, 240, 'inclusive');
  const reached = new Set<number>();
  for (let i = 0; i < engine.reachedCount; i++) reached.add(graph.nodeOsmId[engine.reached[i]]);
  for (const l of 'DHLP') {
    assert.ok(reached.has(net.id(l)), `${l} (300 m = 240 s) should be reached within an inclusive 240 s budget; unbounded run gives ${unbounded.get(l)} s`);
  }
});

// ---------------------------------------------------------------------------------------------------------
// tag rules, each on a square with a 200 m shortcut A-B and a 600 m detour A-C-D-B
// ---------------------------------------------------------------------------------------------------------

const SQUARE = `
  Z-A---B-Y
    |   |
    |   |
    |   |
    C---D
`;

/** Times A → B for each mode, with the shortcut A-B tagged `shortcut` (Infinity when B is unreachable). */
async function squareTimes(shortcut: Tags, nodeTags?: Record<string, Tags>, drawing = SQUARE, shortcutKey = 'AB') {
  const net = writeAsciiOsm(drawing, { ZA: RES, [shortcutKey]: shortcut, ACDB: RES, BY: RES }, { nodeTags });
  const { graph, result } = await buildFromOsm(net.path, ['walk', 'elderly', 'bike']);
  const out: Record<ModeName, number> = { walk: NaN, elderly: NaN, bike: NaN };
  // through snapping: A and B are not graph nodes when the shortcut is dropped for every mode (Z-A-C-D-B-Y
  // then is one chain), so both ends are attached as points at the letters' exact coordinates (leg 0)
  for (const mode of ['walk', 'elderly', 'bike'] as const) out[mode] = pointToPoint(graph, mode, net, 'A', 'B');
  return { net, graph, result, out };
}

const SHORTCUT_M = 200;
const PACE = { walk: 0.8, elderly: 1.0, bike: 0.3 } as const;

// shortcut tags → which modes may use it (and the walk pace on it when not 0.8 s/m)
const RULES: Array<{ tags: Tags; walk: boolean; elderly: boolean; bike: boolean; pace?: Partial<Record<ModeName, number>> }> = [
  { tags: { highway: 'residential' }, walk: true, elderly: true, bike: true },
  { tags: { highway: 'residential', foot: 'no' }, walk: false, elderly: false, bike: true },
  { tags: { highway: 'primary', motorroad: 'yes' }, walk: false, elderly: false, bike: false },
  { tags: { highway: 'motorway' }, walk: false, elderly: false, bike: false },
  { tags: { highway: 'residential', access: 'private' }, walk: false, elderly: false, bike: false },
  { tags: { highway: 'residential', access: 'private', foot: 'yes' }, walk: true, elderly: true, bike: false },
  { tags: { highway: 'footway' }, walk: true, elderly: true, bike: false },
  // bike on a footway with bicycle=yes: 0.75 × 12 km/h = 2.5 m/s → 0.4 s/m
  { tags: { highway: 'footway', bicycle: 'yes' }, walk: true, elderly: true, bike: true, pace: { bike: 0.4 } },
  // steps at half speed: walk 0.625 m/s → 1.6 s/m; elderly (only with a ramp) 0.5 m/s → 2 s/m
  { tags: { highway: 'steps' }, walk: true, elderly: false, bike: false, pace: { walk: 1.6 } },
  { tags: { highway: 'steps', ramp: 'yes' }, walk: true, elderly: true, bike: false, pace: { walk: 1.6, elderly: 2 } },
  { tags: { highway: 'trunk' }, walk: false, elderly: false, bike: false },
  { tags: { highway: 'trunk', sidewalk: 'both' }, walk: true, elderly: true, bike: false },
  { tags: { highway: 'cycleway' }, walk: false, elderly: false, bike: true },
  { tags: { highway: 'residential', route: 'ferry' }, walk: false, elderly: false, bike: false },
];

for (const rule of RULES) {
  const label = Object.entries(rule.tags).map(([k, v]) => `${k}=${v}`).join(' + ');
  test(`tag rules: shortcut ${label} → walk ${rule.walk}, elderly ${rule.elderly}, bike ${rule.bike}`, async () => {
    const { net, out } = await squareTimes(rule.tags);
    const detourM = net.pathM('ACDB'); // 600 m (the C-D row is 200 m south: ~2e-5 longer)
    assert.ok(Math.abs(detourM - 600) < 0.05);
    for (const mode of ['walk', 'elderly', 'bike'] as const) {
      const pace = rule.pace?.[mode] ?? PACE[mode];
      const expected = rule[mode] ? SHORTCUT_M * pace : detourM * PACE[mode];
      assert.ok(Math.abs(out[mode] - expected) < 1e-6, `${mode}: got ${out[mode]}, expected ${expected}`);
    }
  });
}

test('steps: double time for walk, absent for elderly (no elderly arc, no elderly snap onto them)', async () => {
  const net = writeAsciiOsm(
    `
    A-B-C
    `,
    { AB: RES, BC: { highway: 'steps' } },
  );
  const { graph } = await buildFromOsm(net.path, ['walk', 'elderly']);
  const walk = timesFrom(graph, 'walk', net.id('A'));
  near(walk.get(net.id('B')), 80);
  near(walk.get(net.id('C')), 80 + 160);
  const elderly = timesFrom(graph, 'elderly', net.id('A'));
  near(elderly.get(net.id('B')), 100);
  assert.equal(elderly.has(net.id('C')), false);
  assert.equal(nodeOfOsmId(graph, net.id('C')) >= 0, true, 'C is a graph node (walk uses it)');
  assert.equal(graph.mode('elderly').nodeComponent[mustNode(graph, net.id('C'))], -1);
  // a point at C snaps for walk onto the steps, for elderly onto the street (100 m away, at B)
  const [lon, lat] = net.lonLat(200, 0);
  const w = snapPoint(graph, graph.mode('walk'), lon, lat);
  const e = snapPoint(graph, graph.mode('elderly'), lon, lat);
  assert.ok(isSnap(w) && isSnap(e));
  assert.equal(w.legM, 0);
  assert.ok(Math.abs(e.legM - 100) < 1e-6, `elderly leg ${e.legM}`);
});

test('oneway=yes: bike cannot ride against it (goes round), walk can', async () => {
  const net = writeAsciiOsm(
    `
    A-B
    | |
    C-D
    `,
    { AB: { highway: 'residential', oneway: 'yes' }, ACDB: RES },
  );
  const { graph } = await buildFromOsm(net.path, ['walk', 'bike']);
  // A and B are junctions (the pace changes there for bike); C and D collapse into the chain A-C-D-B.
  assert.equal(graph.nodeCount, 2);
  assert.equal(graph.chainCount, 2);
  const aroundM = net.pathM('ACDB'); // 300 m
  const bikeFromA = timesFrom(graph, 'bike', net.id('A'));
  const bikeFromB = timesFrom(graph, 'bike', net.id('B'));
  near(bikeFromA.get(net.id('B')), 30, 'with the oneway: 100 m × 0.3 s/m');
  assert.ok(Math.abs(bikeFromB.get(net.id('A'))! - aroundM * 0.3) < 1e-5, 'against it: round the block');
  const walkFromB = timesFrom(graph, 'walk', net.id('B'));
  near(walkFromB.get(net.id('A')), 80, 'oneway does not bind pedestrians');
});

test('oneway variants for bike: oneway=-1, oneway:bicycle=no, cycleway=opposite_lane', async () => {
  const cases: Array<[Tags, number, number]> = [
    // tags, expected bike A→B, expected bike B→A (Infinity = round the block)
    [{ highway: 'residential', oneway: '-1' }, Infinity, 30],
    [{ highway: 'residential', oneway: 'yes', 'oneway:bicycle': 'no' }, 30, 30],
    [{ highway: 'residential', oneway: 'yes', cycleway: 'opposite_lane' }, 30, 30],
    [{ highway: 'residential', junction: 'roundabout' }, 30, Infinity],
  ];
  for (const [tags, ab, ba] of cases) {
    const net = writeAsciiOsm(
      `
      A-B
      | |
      C-D
      `,
      { AB: tags, ACDB: RES },
    );
    const { graph } = await buildFromOsm(net.path, ['bike']);
    const round = net.pathM('ACDB') * 0.3;
    const gotAB = pointToPoint(graph, 'bike', net, 'A', 'B');
    const gotBA = pointToPoint(graph, 'bike', net, 'B', 'A');
    assert.ok(Math.abs(gotAB - (ab === Infinity ? round : ab)) < 1e-5, `${JSON.stringify(tags)} A→B: ${gotAB}`);
    assert.ok(Math.abs(gotBA - (ba === Infinity ? round : ba)) < 1e-5, `${JSON.stringify(tags)} B→A: ${gotBA}`);
  }
});

// ---------------------------------------------------------------------------------------------------------
// barriers
// ---------------------------------------------------------------------------------------------------------

const GATED = `
  Z-A-G-B-Y
    |   |
    |   |
    |   |
    C---D
`;

test('barrier=gate + access=private on the shortcut: walkers and cyclists go round; reach stops at the gate', async () => {
  const { net, graph, out } = await squareTimes(RES, { G: { barrier: 'gate', access: 'private' } }, GATED, 'AGB');
  const detourM = net.pathM('ACDB');
  assert.ok(Math.abs(out.walk - detourM * 0.8) < 1e-6, `walk ${out.walk}`);
  assert.ok(Math.abs(out.bike - detourM * 0.3) < 1e-6, `bike ${out.bike}`);
  const walk = timesFrom(graph, 'walk', net.id('A'));
  near(walk.get(net.id('G')), 80, 'the gate itself is reached (100 m)');
  // the gate is a node even though it has degree 2, and nothing leaves it
  const g = mustNode(graph, net.id('G'));
  const m = graph.mode('walk');
  assert.equal(m.arcOffsets[g + 1] - m.arcOffsets[g], 0);
  assert.equal(graph.info.modes.find((i) => i.mode === 'walk')!.blockedNodes, 1);
});

test('barrier=gate + access=private + foot=yes: walkers pass, cyclists go round; a plain gate blocks no one', async () => {
  const a = await squareTimes(RES, { G: { barrier: 'gate', access: 'private', foot: 'yes' } }, GATED, 'AGB');
  near(a.out.walk, 160, 'walk through the gate');
  near(a.out.elderly, 200, 'elderly through the gate');
  near(a.out.bike, a.net.pathM('ACDB') * 0.3, 'bike round the block');
  const b = await squareTimes(RES, { G: { barrier: 'gate' } }, GATED, 'AGB');
  near(b.out.walk, 160, 'walk, plain gate');
  near(b.out.elderly, 200, 'elderly, plain gate');
  near(b.out.bike, 60, 'bike, plain gate');
  // an unlocked gate on a degree-2 vertex does not split the chain A-G-B
  assert.equal(nodeOfOsmId(b.graph, b.net.id('G')), -1);
});

test('barrier on a dead-end street: reach stops at the gate, the far side stays unreached', async () => {
  const net = writeAsciiOsm('A-G-B-C', { AGBC: RES }, { nodeTags: { G: { barrier: 'gate', access: 'private' } } });
  const { graph } = await buildFromOsm(net.path, ['walk'], 1);
  const t = timesFrom(graph, 'walk', net.id('A'));
  assert.deepEqual([...t.keys()].sort((p, q) => p - q), [net.id('A'), net.id('G')]);
  near(t.get(net.id('G')), 80, 'G');
  // C (the dead end beyond the gate) is a graph node in the kept component, just not reachable through G
  assert.ok(graph.mode('walk').nodeComponent[mustNode(graph, net.id('C'))] >= 0);
  // from the far side, the gate is reached but not crossed either
  const back = timesFrom(graph, 'walk', net.id('C'));
  near(back.get(net.id('G')), 160);
  assert.equal(back.has(net.id('A')), false);
});

test('a point on the street just past a locked gate walks away from the gate', async () => {
  // A-G-B-C, gate G at x = 100 m; the point P stands on the street at x = 150 m, 50 m past the gate. Walking
  // east from P to C (x = 300 m) never passes G: 150 m → 120 s; to B (x = 200 m): 50 m → 40 s.
  // Regression (src/network/build.ts keepArc + src/analysis/reach.ts appendSources): a chain's direction
  // bit used to be cleared when its start node was blocked, and appendSources read that as "the mode may
  // not travel this way along the chain", so a point on the chain G→C reached nothing.
  const net = writeAsciiOsm('A-G-B-C', { AGBC: RES }, { nodeTags: { G: { barrier: 'gate', access: 'private' } } });
  const { graph } = await buildFromOsm(net.path, ['walk'], 1);
  const walk = graph.mode('walk');
  const [lon, lat] = net.lonLat(150, 0);
  const p = snapPoint(graph, walk, lon, lat);
  assert.ok(isSnap(p));
  assert.ok(p.legM < 1e-6);
  const engine = new ReachEngine(walk);
  reachFrom(graph, engine, p, Infinity);
  const tC = engine.timeS[mustNode(graph, net.id('C'))];
  assert.ok(Math.abs(tC - 120) < 1e-6, `P → C: got ${tC} s, expected 120 s (150 m east, away from the gate)`);
  const [bLon, bLat] = [net.node('B').lon, net.node('B').lat];
  const b = snapPoint(graph, walk, bLon, bLat);
  assert.ok(isSnap(b));
  const tB = Math.min(arrivalTimeS(graph, walk, engine, b.chain, b.offsetM, b.legM), directTimeS(graph, walk, p, b));
  assert.ok(Math.abs(tB - 40) < 1e-6, `P → B: got ${tB} s, expected 40 s`);
});

// ---------------------------------------------------------------------------------------------------------
// degree-2 collapse
// ---------------------------------------------------------------------------------------------------------

test('degree-2 collapse: a straight street with 5 intermediate letters is one chain; times unchanged', async () => {
  const drawing = 'A-B-C-D-E-F-G';
  const variants: Array<Record<string, Tags>> = [{ ABCDEFG: RES }, { AB: RES, BC: RES, CD: RES, DE: RES, EF: RES, FG: RES }];
  for (const ways of variants) {
    const net = writeAsciiOsm(drawing, ways);
    const { graph } = await buildFromOsm(net.path, ['walk', 'elderly', 'bike']);
    assert.equal(graph.nodeCount, 2, `${Object.keys(ways).join(',')}: only the two ends are nodes`);
    assert.equal(graph.chainCount, 1);
    assert.equal(graph.info.geometryPointCount, 7, 'the geometry keeps all 7 points');
    assert.ok(Math.abs(graph.chainLengthM[0] - 600) < 1e-6, `chain length ${graph.chainLengthM[0]}`);
    near(timesFrom(graph, 'walk', net.id('A')).get(net.id('G')), 480);
    near(timesFrom(graph, 'elderly', net.id('G')).get(net.id('A')), 600);
    near(timesFrom(graph, 'bike', net.id('A')).get(net.id('G')), 180);
    // and every intermediate letter is still reachable as a snapped point: k blocks × 80 s
    'BCDEF'.split('').forEach((l, i) => {
      const got = pointToPoint(graph, 'walk', net, 'A', l);
      assert.ok(Math.abs(got - (i + 1) * 80) < 1e-6, `A → ${l}: ${got}`);
    });
  }
});

test('degree-2 collapse only where every mode has the same pace: a footway piece splits the chain for bike', async () => {
  const ways = { ABC: RES, CD: { highway: 'footway' }, DEFG: RES };
  const net = writeAsciiOsm('A-B-C-D-E-F-G', ways);
  const walkOnly = await buildFromOsm(net.path, ['walk']);
  assert.equal(walkOnly.graph.chainCount, 1, 'walk: footway and residential have the same pace');
  const withBike = await buildFromOsm(net.path, ['walk', 'bike']);
  assert.equal(withBike.graph.chainCount, 3, 'bike may not use the footway: C and D become nodes');
  assert.equal(withBike.graph.nodeCount, 4);
  near(timesFrom(withBike.graph, 'walk', net.id('A')).get(net.id('G')), 480);
  // bike: A-B-C and D-E-F-G are two separate components; with minComponentNodes 1 both are kept
  assert.equal(timesFrom(withBike.graph, 'bike', net.id('A')).has(net.id('G')), false);
});

test('a ring of pass-through vertices becomes one closed chain', async () => {
  const net = writeAsciiOsm(
    `
    A-B
    | |
    D-C
    `,
    { ABCDA: { highway: 'footway' } },
  );
  const { graph } = await buildFromOsm(net.path, ['walk']);
  assert.equal(graph.nodeCount, 1);
  assert.equal(graph.chainCount, 1);
  assert.ok(Math.abs(graph.chainLengthM[0] - net.pathM('ABCDA')) < 1e-9);
  assert.ok(Math.abs(pointToPoint(graph, 'walk', net, 'A', 'C') - 160) < 1e-6);
});

// ---------------------------------------------------------------------------------------------------------
// islands
// ---------------------------------------------------------------------------------------------------------

test('islands: a separate 2-node street is dropped with minComponentNodes 3 and reported with its way id', async () => {
  const net = writeAsciiOsm(
    `
    A-B-C   X-Y
      |
      D
    `,
    { ABC: RES, BD: RES, XY: { highway: 'footway' } },
  );
  const { graph } = await buildFromOsm(net.path, ['walk'], 3);
  const info = graph.info.modes[0];
  assert.equal(info.islandCount, 1);
  assert.equal(info.islandNodes, 2);
  assert.equal(info.islands[0].nodes, 2);
  assert.equal(info.islands[0].wayId, net.wayIds.XY);
  assert.ok(Math.abs(info.islands[0].lengthM - 100) < 0.05);
  assert.equal(info.kept.length, 1);
  assert.equal(info.kept[0].nodes, 4);
  assert.equal(graph.mode('walk').nodeComponent[mustNode(graph, net.id('X'))], -1);
  // a point on the island snaps to the main network instead (XY is not usable): nearest is C, 200 m west
  const [lon, lat] = net.lonLat(400, 0);
  const s = snapPoint(graph, graph.mode('walk'), lon, lat);
  assert.ok(isSnap(s));
  assert.ok(Math.abs(s.legM - 200) < 1e-6, `leg ${s.legM}`);
});

// ---------------------------------------------------------------------------------------------------------
// pedestrian areas
// ---------------------------------------------------------------------------------------------------------

test('pedestrian area: walkers cross the square diagonally between the two streets entering it', async () => {
  const net = writeAsciiOsm(
    `
    W-P---Q
      |   |
      |   |
      |   |
      S---R-E
    `,
    { WP: RES, PQRSP: { highway: 'pedestrian', area: 'yes' }, RE: RES },
  );
  const { graph, result } = await buildFromOsm(net.path, ['walk', 'bike']);
  assert.equal(result.areaLinks, 1, 'one link: P-R (Q and S have no other way)');
  const diagonalM = haversineM(net.node('P').lon, net.node('P').lat, net.node('R').lon, net.node('R').lat);
  assert.ok(Math.abs(diagonalM - 200 * Math.SQRT2) < 0.01, `diagonal ${diagonalM}`);
  const expected = (net.pathM('WP') + diagonalM + net.pathM('RE')) / 1.25;
  const got = timesFrom(graph, 'walk', net.id('W')).get(net.id('E'))!;
  assert.ok(Math.abs(got - expected) < 1e-6, `walk W → E: got ${got}, expected ${expected} (perimeter route would be ${(600 / 1.25).toFixed(1)})`);
  // bikes may not use a pedestrian area without bicycle=yes: no crossing at all
  assert.equal(timesFrom(graph, 'bike', net.id('W')).has(net.id('E')), false);
});

test('pedestrian area without area=yes is a closed street: the walk goes round the outline', async () => {
  const net = writeAsciiOsm(
    `
    W-P---Q
      |   |
      |   |
      |   |
      S---R-E
    `,
    { WP: RES, PQRSP: { highway: 'pedestrian' }, RE: RES },
  );
  const { graph, result } = await buildFromOsm(net.path, ['walk']);
  assert.equal(result.areaLinks, 0);
  const expected = (net.pathM('WP') + Math.min(net.pathM('PQR'), net.pathM('PSR')) + net.pathM('RE')) / 1.25;
  const got = timesFrom(graph, 'walk', net.id('W')).get(net.id('E'))!;
  assert.ok(Math.abs(got - expected) < 1e-6, `got ${got}, expected ${expected}`);
});

/**
 * The river-crossing fixture for snapping, checked by hand. Nearest-node snapping grants false access: a
 * home on the far bank whose nearest node is a bridge-head on the near bank would "reach" across. Snapping
 * onto the nearest usable edge, at the foot of the perpendicular, keeps it on its own bank.
 *
 *   node --import tsx --test test/network/snap-river.test.ts
 *
 * Grid 50 m per step (one character = 25 m east, one line = 25 m south); x east, y north, metres:
 *
 *   A (0,0) ─────────── M (400,0) ───────────────── B (1000,0) ── E (1100,0)       north bank street
 *                       │                           │
 *                       H (400,-50)  river steps    │              M-H: footway down to the water
 *                       ┊ footbridge under          │              H-K: highway=construction (nobody)
 *                       ┊ construction              │ bridge       B-D: the only crossing, 1 km east
 *   C (0,-200) ── S (300,-200) ─ K (400,-200) ───── D (1000,-200) ── F (1100,-200)  south bank street
 *                 │
 *                 T (300,-300)                                     side street
 *
 * P = (400, -150), on the south bank 50 m north of its street: its nearest graph NODE is H (100 m; S is
 * 111.8 m), its nearest usable EDGE is the south street (50 m, foot at (400, -200) = K).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReachEngine } from '../../src/analysis/dijkstra.ts';
import { arrivalTimeS, directTimeS, pieceCoordinates, reachedPieces, reachFrom } from '../../src/analysis/reach.ts';
import { haversineM } from '../../src/geo.ts';
import { DEFAULT_MAX_SNAP_M, isSnap, snapPoint, type Snap } from '../../src/network/index.ts';
import { writeAsciiOsm } from '../helpers/ascii-network.ts';
import { buildFromOsm, mustNode } from '../helpers/graph.ts';

const RIVER = `
  A---------------M-----------------------B---E
                  |                       |
                  H                       |
                  |                       |
                  |                       |
                  |                       |
                  |                       |
                  |                       |
  C-----------S---K-----------------------D---F
              |
              |
              |
              T
`;
const net = writeAsciiOsm(
  RIVER,
  {
    AMBE: { highway: 'residential', name: 'North Bank Road' },
    MH: { highway: 'footway', name: 'river steps' },
    HK: { highway: 'construction', construction: 'footway', bridge: 'yes' },
    BD: { highway: 'residential', bridge: 'yes', name: 'Far Bridge' },
    CSKDF: { highway: 'residential', name: 'South Bank Road' },
    ST: { highway: 'residential' },
  },
  { gridM: 50 },
);
const { graph } = await buildFromOsm(net.path, ['walk']);
const walk = graph.mode('walk');
const WALK = 0.8; // s per metre at 1.25 m/s

const at = (x: number, y: number) => net.lonLat(x, y);
const P = at(400, -150);

function snapOk(lonLat: [number, number]): Snap {
  const s = snapPoint(graph, walk, lonLat[0], lonLat[1]);
  assert.ok(isSnap(s), `expected a snap at ${lonLat}: ${JSON.stringify(s)}`);
  return s;
}

/** Offset of a point x metres east along the south street, measured from the chain's `from` node. */
function offsetOnChain(chain: number, xFrom: number, xTo: number, x: number): number {
  const fromIsWest = graph.nodeLon[graph.chainFrom[chain]] < graph.nodeLon[graph.chainTo[chain]];
  return fromIsWest ? x - xFrom : xTo - x;
}

test('fixture sanity: the drawn geometry is what the comment says', () => {
  assert.ok(Math.abs(net.pathM('AMB') - 1000) < 1e-6);
  assert.ok(Math.abs(net.pathM('BD') - 200) < 1e-6);
  assert.ok(Math.abs(net.pathM('CSKD') - 1000) < 0.05); // 200 m south of the reference parallel: ~1.9e-5 longer
  assert.ok(Math.abs(net.pathM('MH') - 50) < 1e-6);
  // nodes: A, M, B, E, H (dead end), C, S, D, F, T; K is a pass-through (the construction way is not kept)
  assert.equal(graph.nodeCount, 10);
  assert.equal(graph.chainCount, 9); // AM, MB, BE, MH, BD, CS, SD, DF, ST: nothing across at H-K
  for (const l of 'AMBEHCSDFT') mustNode(graph, net.id(l));
  assert.equal(graph.nodeOsmId.indexOf(net.id('K')), -1);
  // the nearest graph node to P is the bridge-head H on the other bank
  let best = -1;
  let bestM = Infinity;
  for (let n = 0; n < graph.nodeCount; n++) {
    const m = haversineM(P[0], P[1], graph.nodeLon[n], graph.nodeLat[n]);
    if (m < bestM) (bestM = m), (best = n);
  }
  assert.equal(graph.nodeOsmId[best], net.id('H'));
  assert.ok(Math.abs(bestM - 100) < 0.01);
});

test('far-bank point snaps onto its own street at the perpendicular foot, not to the bridge-head', () => {
  const s = snapOk(P);
  const ends = [graph.nodeOsmId[graph.chainFrom[s.chain]], graph.nodeOsmId[graph.chainTo[s.chain]]].sort((a, b) => a - b);
  assert.deepEqual(ends, [net.id('S'), net.id('D')].sort((a, b) => a - b), 'chain S–D of the south bank street');
  // S at x = 300, D at x = 1000; the foot is at x = 400
  const expectedOffset = offsetOnChain(s.chain, 300, 1000, 400);
  assert.ok(Math.abs(s.offsetM - expectedOffset) < 0.5, `offset ${s.offsetM}, expected ${expectedOffset}`);
  assert.ok(Math.abs(s.legM - 50) < 0.5, `leg ${s.legM}, expected 50`);
  const foot = at(400, -200);
  assert.ok(haversineM(s.footLon, s.footLat, foot[0], foot[1]) < 0.5, 'foot point at (400, -200)');
});

test('far-bank point: the 5-minute walk stays on its own bank', () => {
  const s = snapOk(P);
  const engine = new ReachEngine(walk);
  const result = reachFrom(graph, engine, s, 300);
  // by hand: leg 50 m (40 s) + 100 m west to S (80 s) = 120 s; T 100 m further = 200 s; C 300 m beyond S
  // = 360 s and D 600 m east = 520 s are out; the north bank is 1,100+ m away through the bridge.
  const reached = new Map<number, number>();
  for (let i = 0; i < engine.reachedCount; i++) reached.set(graph.nodeOsmId[engine.reached[i]], engine.timeS[engine.reached[i]]);
  assert.deepEqual([...reached.keys()].sort((a, b) => a - b), [net.id('S'), net.id('T')].sort((a, b) => a - b));
  assert.ok(Math.abs(reached.get(net.id('S'))! - 120) < 0.01);
  assert.ok(Math.abs(reached.get(net.id('T'))! - 200) < 0.01);
  for (const l of 'AMBH') assert.equal(engine.timeS[mustNode(graph, net.id(l))], Infinity, `${l} (near bank) must not be reached`);
  // the reached street pieces all lie on the south bank (y <= -200 m, i.e. south of the river)
  const southOfRiver = at(0, -100)[1];
  const pieces = reachedPieces(graph, result);
  assert.ok(pieces.length > 0);
  for (const p of pieces) {
    for (const [lon, lat] of pieceCoordinates(graph, p.chain, p.startM, p.endM)) {
      assert.ok(lat < southOfRiver, `piece on chain ${p.chain} reaches ${lon},${lat}, north of the river`);
    }
  }
  // reached length by hand: east of the foot 260 m − 40 s of leg → (300 − 40) s × 1.25 = 325 m east;
  // west: 100 m to S, then from S (120 s) 180 s left = 225 m on each of S–C (225 of 300) and S–T (100, all)
  const totalM = pieces.reduce((m, p) => m + p.endM - p.startM, 0);
  const expectedM = 325 + 100 + 225 + 100;
  assert.ok(Math.abs(totalM - expectedM) < 0.5, `reached street length ${totalM}, expected ${expectedM}`);
});

test('arrival times at snapped destinations = hand-computed legs + along-street times', () => {
  const o = snapOk(P);
  const engine = new ReachEngine(walk);
  reachFrom(graph, engine, o, Infinity);
  const cases: Array<{ name: string; at: [number, number]; expectedM: number }> = [
    // north bank at x = 700, 25 m north of the street: 600 east to D, 200 over the bridge, 300 west; legs 50 + 25
    { name: 'north bank, x=700', at: at(700, 25), expectedM: 50 + 600 + 200 + 300 + 25 },
    // the bridge-head itself: ... to B (800 m), 600 m west to M, 50 m down the steps; legs 50 + 0
    { name: 'bridge-head H', at: [net.node('H').lon, net.node('H').lat], expectedM: 50 + 600 + 200 + 600 + 50 },
    // the side street's end T: 100 west + 100 south; legs 50 + 0
    { name: 'T', at: [net.node('T').lon, net.node('T').lat], expectedM: 50 + 100 + 100 },
    // west end C, 10 m south of the street: 400 m west; legs 50 + 10
    { name: 'C, 10 m off', at: at(0, -210), expectedM: 50 + 400 + 10 },
  ];
  for (const c of cases) {
    const d = snapOk(c.at);
    const t = Math.min(arrivalTimeS(graph, walk, engine, d.chain, d.offsetM, d.legM), directTimeS(graph, walk, o, d));
    assert.ok(Math.abs(t - c.expectedM * WALK) < 0.05, `${c.name}: got ${t} s, expected ${c.expectedM * WALK} s`);
  }
  // a destination on the origin's own chain: the direct run along it (50 m east; legs 50 + 15)
  const r = snapOk(at(450, -215));
  assert.equal(r.chain, o.chain);
  const direct = directTimeS(graph, walk, o, r);
  assert.ok(Math.abs(direct - (50 + 50 + 15) * WALK) < 0.05, `direct ${direct}`);
  // through the nodes it is much longer: via S (120 s) then 150 m east, + 15 m leg
  const viaNodes = arrivalTimeS(graph, walk, engine, r.chain, r.offsetM, r.legM);
  assert.ok(Math.abs(viaNodes - (120 + (150 + 15) * WALK)) < 0.05, `via nodes ${viaNodes}`);
});

test('a point 5.5 km from any road fails with outside-network-extent, naming the extent', () => {
  const far = at(500, -300 - 5500);
  const s = snapPoint(graph, walk, far[0], far[1]);
  assert.ok(!isSnap(s));
  assert.equal(s.reason, 'outside-network-extent');
  const [minLon, minLat, maxLon, maxLat] = graph.info.bbox;
  for (const v of [minLon, minLat, maxLon, maxLat]) assert.ok(s.message.includes(v.toFixed(4)), `message names the extent: ${s.message}`);
  assert.ok(s.message.includes(String(far[0])) && s.message.includes(String(far[1])), `message names the point: ${s.message}`);
});

test('a point 5 km (and 1 km) from any road fails; the message names the distance to the nearest way', () => {
  for (const distM of [1000, 4900]) {
    const p = at(500, -300 - distM); // straight south of T's street end... nearest is the end of S–T at (300, -300)
    const expected = Math.hypot(200, distM);
    const s = snapPoint(graph, walk, p[0], p[1]);
    assert.ok(!isSnap(s));
    assert.ok(s.reason === 'no-usable-edge-within-max' || s.reason === 'outside-network-extent', s.reason);
    assert.ok(s.message.includes(`${DEFAULT_MAX_SNAP_M} m`), `message names the max snap distance: ${s.message}`);
    assert.ok(s.nearestAnyM !== undefined && Math.abs(s.nearestAnyM - expected) < 1, `nearestAnyM ${s.nearestAnyM}, expected ${expected}`);
    assert.ok(s.message.includes(`${expected.toFixed(0)} m away`), `message names ${expected.toFixed(0)} m: ${s.message}`);
  }
});

test('maxSnapM is honoured: P with a 40 m limit fails, naming the 50 m to its street', () => {
  const s = snapPoint(graph, walk, P[0], P[1], 40);
  assert.ok(!isSnap(s));
  assert.equal(s.reason, 'no-usable-edge-within-max');
  assert.ok(s.message.includes('40 m'));
  assert.ok(s.nearestAnyM !== undefined && Math.abs(s.nearestAnyM - 50) < 0.5);
});

test('invalid coordinates fail with invalid-coordinates, naming them', () => {
  for (const [lon, lat] of [
    [NaN, 31.2],
    [200, 31.2],
    [121.4, 95],
    [Infinity, 0],
    [-180.0001, 0],
  ]) {
    const s = snapPoint(graph, walk, lon, lat);
    assert.ok(!isSnap(s));
    assert.equal(s.reason, 'invalid-coordinates');
    assert.ok(s.message.includes(`${lon},${lat}`), s.message);
  }
});

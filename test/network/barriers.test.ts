/**
 * Locked gates (barrier=* with access/foot=no/private): reached, never passed; what lies behind them is its
 * own component, kept and listed or reported as an island, never silently part of the street network.
 * Times by construction: 100 m grid, walking at 1.25 m/s = 80 s per block.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeAsciiOsm } from '../helpers/ascii-network.ts';
import { buildFromOsm, mustNode } from '../helpers/graph.ts';
import { snapPoint, isSnap } from '../../src/network/index.ts';
import { BARRIER_NODE } from '../../src/network/graph.ts';
import { ReachEngine, reachFrom, arrivalTimeS, nearestFacilityField, pointTimesFromField } from '../../src/analysis/index.ts';
import { snapPoints } from '../../src/network/snap.ts';

const RES = { highway: 'residential' };
const LOCKED = { barrier: 'gate', access: 'private' };

test('a point behind a locked gate is not reached through it (street A-G-B-C, gate G)', async () => {
  // From A (x = 0) the gate G (x = 100 m) is reached at 80 s; a point at x = 150 m lies beyond the gate.
  const net = writeAsciiOsm('A-G-B-C', { AGBC: RES }, { nodeTags: { G: LOCKED } });
  const { graph } = await buildFromOsm(net.path, ['walk'], 1);
  const walk = graph.mode('walk');
  assert.equal(walk.nodeComponent[mustNode(graph, net.id('G'))], BARRIER_NODE);
  const origin = snapPoint(graph, walk, net.node('A').lon, net.node('A').lat);
  assert.ok(isSnap(origin));
  const engine = new ReachEngine(walk);
  reachFrom(graph, engine, origin, Infinity);
  assert.ok(Math.abs(engine.timeS[mustNode(graph, net.id('G'))] - 80) < 1e-6, 'the gate itself is reached');
  const [lon, lat] = net.lonLat(150, 0);
  const beyond = snapPoint(graph, walk, lon, lat);
  assert.ok(isSnap(beyond));
  assert.equal(arrivalTimeS(graph, walk, engine, beyond.chain, beyond.offsetM, beyond.legM), Infinity);
  // and the nearest-facility field agrees: a facility at A does not serve a home beyond the gate
  const field = nearestFacilityField(graph, walk, [net.node('A').lon], [net.node('A').lat], Infinity);
  const homes = snapPoints(graph, walk, [lon, net.lonLat(50, 0)[0]], [lat, net.lonLat(50, 0)[1]]);
  const { timeS } = pointTimesFromField(graph, field, homes);
  assert.equal(timeS[0], Infinity);
  assert.ok(Math.abs(timeS[1] - 40) < 1e-6, `home at 50 m: ${timeS[1]}`);
});

test('a gated compound is its own component: listed when large enough, an island when small', async () => {
  // Street A-B-C; compound D-E-F-H-I behind gate G on a 5-node loop. A 2×4 street grid keeps the street
  // network the largest component.
  const drawing = `
    A-B-C-J-K
    | | | | |
    L-M-N-O-P
        |
        G
        |
    D-E-F-H-I
  `;
  const ways = { ABCJK: RES, LMNOP: RES, AL: RES, BM: RES, CN: RES, JO: RES, KP: RES, NGF: { highway: 'service' }, DEFHI: { highway: 'service' } };
  const small = await buildFromOsm(writeAsciiOsm(drawing, ways, { nodeTags: { G: LOCKED } }).path, ['walk'], 6);
  const info = small.graph.info.modes[0];
  // compound nodes: D, F, I (E and H collapse into chains) = 3 < 6 → an island
  assert.equal(info.kept.length, 1);
  assert.equal(info.islandCount, 1);
  assert.equal(info.islands[0].nodes, 3);
  const listed = await buildFromOsm(writeAsciiOsm(drawing, ways, { nodeTags: { G: LOCKED } }).path, ['walk'], 3);
  assert.equal(listed.graph.info.modes[0].kept.length, 2, 'with a threshold of 3 nodes the compound is kept and listed');
  // without the gate everything is one component
  const open = await buildFromOsm(writeAsciiOsm(drawing, ways).path, ['walk'], 1);
  assert.equal(open.graph.info.modes[0].components, 1);
});

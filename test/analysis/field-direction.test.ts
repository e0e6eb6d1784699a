/**
 * The nearest-facility field runs to the facility by default (a resident's trip), or from it on request,
 * and the two differ on one-way streets. Worked by hand on a 100 m grid, bike at 12 km/h (30 s per block),
 * walk at 1.25 m/s (80 s per block):
 *
 *     E-A-B-F        AB one-way A→B; the loop B→D→C→A one-way; EA and BF two-way.
 *       | |
 *       C-D
 *
 * Facility at F, home at E. Bike to F: E→A→B→F = 300 m = 90 s. From F: F→B→D→C→A→E = 500 m = 150 s.
 * Walking ignores oneway: 300 m = 240 s either way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeAsciiOsm } from '../helpers/ascii-network.ts';
import { buildFromOsm } from '../helpers/graph.ts';
import { snapPoints } from '../../src/network/snap.ts';
import { nearestFacilityField, pointTimesFromField, type FieldDirection } from '../../src/analysis/index.ts';

const RES = { highway: 'residential' };
const ONEWAY = { highway: 'residential', oneway: 'yes' };
const drawing = `
  E-A-B-F
    | |
    C-D
`;

test('field direction: to the facility vs from it, bike on one-way streets, walk unaffected', async () => {
  const net = writeAsciiOsm(drawing, { EA: RES, AB: ONEWAY, BDCA: ONEWAY, BF: RES });
  const { graph } = await buildFromOsm(net.path, ['walk', 'bike'], 1);
  const f = net.node('F');
  const e = net.node('E');
  const timeFor = (mode: 'walk' | 'bike', direction: FieldDirection) => {
    const m = graph.mode(mode);
    const field = nearestFacilityField(graph, m, [f.lon], [f.lat], Infinity, { direction });
    const { timeS, facility } = pointTimesFromField(graph, field, snapPoints(graph, m, [e.lon], [e.lat]));
    assert.equal(facility[0], 0);
    return timeS[0];
  };
  const near = (got: number, want: number, what: string) => assert.ok(Math.abs(got - want) < 1e-3, `${what}: got ${got} s, expected ${want} s`);
  near(timeFor('bike', 'to-facility'), 90, 'bike, home → facility');
  near(timeFor('bike', 'from-facility'), 150, 'bike, facility → home');
  near(timeFor('walk', 'to-facility'), 240, 'walk, home → facility');
  near(timeFor('walk', 'from-facility'), 240, 'walk, facility → home');
});

test('field direction on a shared chain: a home 50 m up a one-way street from the facility', async () => {
  // One-way street W→Y (200 m) closed into a loop by two-way streets Y-V (100 m), V-Z (200 m), Z-W (100 m);
  // the facility at 50 m along W→Y, the home at 100 m. Bike home → facility runs against the oneway (not along the chain):
  // forward to Y (100 m), round the loop back to W, then 50 m to the facility.
  const net = writeAsciiOsm(
    `
    W---Y
    |   |
    Z---V
  `,
    { WY: ONEWAY, YV: RES, VZ: RES, ZW: RES },
  );
  const { graph } = await buildFromOsm(net.path, ['bike'], 1);
  const bike = graph.mode('bike');
  const [fLon, fLat] = net.lonLat(50, 0);
  const [hLon, hLat] = net.lonLat(100, 0);
  const field = (direction: FieldDirection) => pointTimesFromField(graph, nearestFacilityField(graph, bike, [fLon], [fLat], Infinity, { direction }), snapPoints(graph, bike, [hLon], [hLat])).timeS[0];
  // from the facility: 50 m along the oneway = 15 s
  assert.ok(Math.abs(field('from-facility') - 15) < 1e-3, `from: ${field('from-facility')}`);
  // to the facility: home → Y 100 m, Y → V 100 m, V → Z 200 m, Z → W 100 m, W → facility 50 m: 550 m = 165 s
  assert.ok(Math.abs(field('to-facility') - 165) < 1e-3, `to: ${field('to-facility')}`);
});

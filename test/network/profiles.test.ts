/** The tag rules one tag set at a time (the README's table), each against the OSM access conventions. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wayAccess, nodeBlocks } from '../../src/network/profiles.ts';
import { splitCsvLine } from '../../src/import/points.ts';

const both = (speed: number) => ({ forward: true, backward: true, speedMps: speed });

test('walk: roads, footways, steps at half speed; never motorways, motorroads, foot=no, private', () => {
  assert.deepEqual(wayAccess({ highway: 'residential', oneway: 'yes' }, 'walk'), both(1.25)); // oneway binds no walker
  assert.deepEqual(wayAccess({ highway: 'footway', footway: 'crossing' }, 'walk'), both(1.25));
  assert.deepEqual(wayAccess({ highway: 'steps' }, 'walk'), both(0.625));
  assert.equal(wayAccess({ highway: 'motorway' }, 'walk'), null);
  assert.equal(wayAccess({ highway: 'primary', motorroad: 'yes' }, 'walk'), null);
  assert.equal(wayAccess({ highway: 'primary', foot: 'no' }, 'walk'), null);
  assert.equal(wayAccess({ highway: 'service', access: 'private' }, 'walk'), null);
  assert.deepEqual(wayAccess({ highway: 'service', access: 'private', foot: 'yes' }, 'walk'), both(1.25));
  assert.equal(wayAccess({ highway: 'trunk' }, 'walk'), null);
  assert.deepEqual(wayAccess({ highway: 'trunk', sidewalk: 'both' }, 'walk'), both(1.25));
  assert.equal(wayAccess({ highway: 'platform' }, 'walk'), null);
  assert.equal(wayAccess({ route: 'ferry', highway: 'footway' }, 'walk'), null);
});

test('walk on cycleways: only with a foot part (foot=yes, sidewalk, segregated=*, footway=* other than no)', () => {
  assert.equal(wayAccess({ highway: 'cycleway' }, 'walk'), null);
  assert.ok(wayAccess({ highway: 'cycleway', segregated: 'yes' }, 'walk'));
  assert.ok(wayAccess({ highway: 'cycleway', footway: 'crossing' }, 'walk'));
  assert.equal(wayAccess({ highway: 'cycleway', footway: 'no' }, 'walk'), null);
  assert.ok(wayAccess({ highway: 'cycleway', foot: 'designated' }, 'walk'));
});

test('elderly: no steps without a ramp, slower', () => {
  assert.equal(wayAccess({ highway: 'steps' }, 'elderly'), null);
  assert.deepEqual(wayAccess({ highway: 'steps', ramp: 'yes' }, 'elderly'), both(0.5));
  assert.deepEqual(wayAccess({ highway: 'residential' }, 'elderly'), both(1));
});

test('bike: oneway, contraflow, vehicle=no inherited, footways only when allowed, dismount', () => {
  const v = 12 / 3.6;
  assert.deepEqual(wayAccess({ highway: 'residential', oneway: 'yes' }, 'bike'), { forward: true, backward: false, speedMps: v });
  assert.deepEqual(wayAccess({ highway: 'residential', oneway: '-1' }, 'bike'), { forward: false, backward: true, speedMps: v });
  assert.deepEqual(wayAccess({ highway: 'residential', oneway: 'yes', 'oneway:bicycle': 'no' }, 'bike'), both(v));
  assert.deepEqual(wayAccess({ highway: 'residential', oneway: 'yes', cycleway: 'opposite_lane' }, 'bike'), both(v));
  assert.deepEqual(wayAccess({ highway: 'residential', junction: 'roundabout' }, 'bike'), { forward: true, backward: false, speedMps: v });
  assert.equal(wayAccess({ highway: 'residential', vehicle: 'no' }, 'bike'), null);
  assert.deepEqual(wayAccess({ highway: 'residential', vehicle: 'no', bicycle: 'yes' }, 'bike'), both(v));
  assert.ok(wayAccess({ highway: 'residential', vehicle: 'no' }, 'walk'), 'vehicle=no does not close a street to walkers');
  assert.equal(wayAccess({ highway: 'footway' }, 'bike'), null);
  assert.deepEqual(wayAccess({ highway: 'footway', bicycle: 'yes' }, 'bike'), both(v * 0.75));
  assert.deepEqual(wayAccess({ highway: 'pedestrian', bicycle: 'dismount' }, 'bike'), both(1.25));
  assert.equal(wayAccess({ highway: 'steps' }, 'bike'), null);
});

test('barrier nodes: locked gates, walls, stiles per mode; plain gates and bollards pass', () => {
  assert.equal(nodeBlocks({ barrier: 'gate' }, 'walk'), false);
  assert.equal(nodeBlocks({ barrier: 'bollard' }, 'bike'), false);
  assert.equal(nodeBlocks({ barrier: 'gate', access: 'private' }, 'walk'), true);
  assert.equal(nodeBlocks({ barrier: 'gate', access: 'private', foot: 'yes' }, 'walk'), false);
  assert.equal(nodeBlocks({ barrier: 'lift_gate', vehicle: 'no' }, 'bike'), true);
  assert.equal(nodeBlocks({ barrier: 'lift_gate', vehicle: 'no' }, 'walk'), false);
  assert.equal(nodeBlocks({ barrier: 'wall' }, 'walk'), true);
  assert.equal(nodeBlocks({ barrier: 'stile' }, 'walk'), false);
  assert.equal(nodeBlocks({ barrier: 'stile' }, 'elderly'), true);
  assert.equal(nodeBlocks({ barrier: 'stile' }, 'bike'), true);
});

test('CSV fields with quotes and commas', () => {
  assert.deepEqual(splitCsvLine('1,"Clinic, Huangpu",121.47,31.23'), ['1', 'Clinic, Huangpu', '121.47', '31.23']);
  assert.deepEqual(splitCsvLine('"say ""hi""",x'), ['say "hi"', 'x']);
  assert.deepEqual(splitCsvLine('a,,b'), ['a', '', 'b']);
});

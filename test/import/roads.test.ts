/**
 * Road centreline layers: noding at shared end points, the cost/reverse_cost fields, and comparability with
 * pgRouting on the same edges. The reference is pgRouting's own documentation sample network
 * (../shared/reference/pgrouting: 18 edges, 17 vertices, cost/reverse_cost with -1 = no such direction).
 * pgRouting gets the edge table's own source/target ids; lifecircle gets only the geometry and finds the
 * topology itself. Reach from every vertex with a budget of 3 cost units must agree at every vertex.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRoadLayer } from '../../src/import/roads.ts';
import { buildGraph, snapPoint, isSnap, type Graph, type Snap } from '../../src/network/index.ts';
import { ReachEngine, reachFrom, arrivalTimeS, directTimeS } from '../../src/analysis/index.ts';
import { LifecircleError } from '../../src/errors.ts';
import { haversineM } from '../../src/geo.ts';
import { sharedDataDir } from '../../src/util/data-dir.ts';
import { pgroutingAvailable, pgroutingReach } from '../../bench/peers/pgrouting.ts';

const CI = process.env.CI === 'true';
const work = mkdtempSync(join(tmpdir(), 'lifecircle-roads-'));
after(() => rmSync(work, { recursive: true, force: true }));
const ref = join(sharedDataDir(), '..', 'reference', 'pgrouting');

function csvRows(path: string): Record<string, string>[] {
  const [head, ...lines] = readFileSync(path, 'utf8').trim().split(/\r?\n/);
  const cols = head.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])));
}

const vertices = csvRows(join(ref, 'vertices.csv')).map((r) => ({ id: Number(r.id), x: Number(r.x), y: Number(r.y) }));
const edges = csvRows(join(ref, 'edges.csv')).map((r) => ({ id: Number(r.id), source: Number(r.source), target: Number(r.target), cost: Number(r.cost), reverse: Number(r.reverse_cost) }));

// The sample's planar coordinates (0..4) are read as degrees near (0°, 0°): harmless, since costs come
// from the cost fields, not from lengths.
const raw = await readRoadLayer(join(ref, 'edges.geojson'), { modes: ['walk'], costField: 'cost', reverseCostField: 'reverse_cost', idField: 'id' });
const graph: Graph = buildGraph(raw, { minComponentNodes: 1 });
const walk = graph.mode('walk');
const vertexSnap = new Map<number, Snap>();
for (const v of vertices) {
  const s = snapPoint(graph, walk, v.x, v.y, 1);
  if (isSnap(s)) vertexSnap.set(v.id, s);
}

/** Our reach from vertex o, read at every vertex: times <= budget. */
function ourReach(o: number, budget: number): Map<number, number> {
  const engine = new ReachEngine(walk);
  const origin = vertexSnap.get(o)!;
  reachFrom(graph, engine, origin, budget);
  const out = new Map<number, number>();
  for (const [id, s] of vertexSnap) {
    const t = Math.min(arrivalTimeS(graph, walk, engine, s.chain, s.offsetM, s.legM), directTimeS(graph, walk, origin, s));
    if (t <= budget + 1e-12) out.set(id, t);
  }
  return out;
}

test('pgRouting sample: every vertex attaches to the network exactly (leg 0)', () => {
  // vertices of edges with no usable direction at all would not attach; the sample has none
  assert.equal(vertexSnap.size, vertices.length);
  for (const s of vertexSnap.values()) assert.ok(s.legM < 1e-6, `leg ${s.legM}`);
});

test('pgRouting sample: noding keeps every edge once (total chain length = total edge length)', () => {
  // Computed independently from the GeoJSON: sum of haversine lengths of every edge's geometry.
  const fc = JSON.parse(readFileSync(join(ref, 'edges.geojson'), 'utf8')) as { features: Array<{ geometry: { coordinates: number[][] } }> };
  let want = 0;
  for (const f of fc.features) {
    const c = f.geometry.coordinates;
    for (let k = 1; k < c.length; k++) want += haversineM(c[k - 1][0], c[k - 1][1], c[k][0], c[k][1]);
  }
  let got = 0;
  for (let c = 0; c < graph.chainCount; c++) got += graph.chainLengthM[c];
  assert.ok(Math.abs(got - want) < 1e-6 * want, `chains ${got} m vs edges ${want} m`);
  assert.equal(fc.features.length, edges.length);
});

test('pgRouting sample: reach from every vertex within 3 cost units equals pgr_drivingDistance on the same edges', async (t) => {
  const avail = await pgroutingAvailable();
  if (!avail.ok) {
    if (CI) assert.fail(`pgRouting required under CI=true: ${avail.why}`);
    t.skip(avail.why);
    return;
  }
  // pgRouting's semantics for the table, written as directed arcs of the exchange format
  const arcs = ['source,target,time_s'];
  for (const e of edges) {
    if (e.cost >= 0) arcs.push(`${e.source},${e.target},${e.cost}`);
    if (e.reverse >= 0) arcs.push(`${e.target},${e.source},${e.reverse}`);
  }
  const file = join(work, 'pgr-sample.csv');
  writeFileSync(file, arcs.join('\n') + '\n');
  const origins = vertices.map((v) => v.id);
  const pg = await pgroutingReach(file, origins, 3, { mode: 'check' });
  let compared = 0;
  for (const r of pg.results!) {
    const ours = ourReach(r.origin, 3);
    assert.deepEqual([...ours.keys()].sort((a, b) => a - b), [...r.reached.keys()].sort((a, b) => a - b), `origin ${r.origin}: reached vertex sets`);
    for (const [v, time] of r.reached) assert.ok(Math.abs(ours.get(v)! - time) < 1e-9, `origin ${r.origin} vertex ${v}: ${ours.get(v)} vs pgRouting ${time}`);
    compared += r.reached.size;
  }
  assert.ok(compared > 40, `compared ${compared} vertex times`);
});

test('pgRouting sample by hand: from vertex 6 within 1 unit', () => {
  // Edges at 6: 1 (5-6, 1/1), 2 (6-10, -1/1: only 10→6), 4 (6-7, 1/1). So 5 and 7 at 1, 6 at 0; not 10.
  const r = ourReach(6, 1);
  assert.deepEqual([...r.keys()].sort((a, b) => a - b), [5, 6, 7]);
  assert.equal(r.get(5), 1);
  assert.equal(r.get(7), 1);
});

test('centreline: lines node only at shared end points; crossing lines without a shared vertex stay apart', async () => {
  const f = join(work, 'cross.geojson');
  // A horizontal and a vertical street cross at (121.5, 31.2) without a vertex there: a flyover.
  writeFileSync(
    f,
    JSON.stringify({
      type: 'FeatureCollection',
      features: [
        { type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: [[121.49, 31.2], [121.51, 31.2]] } },
        { type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: [[121.5, 31.19], [121.5, 31.21]] } },
        { type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: [[121.51, 31.2], [121.52, 31.2]] } },
      ],
    }),
  );
  const g = buildGraph(await readRoadLayer(f, { modes: ['walk'] }), { minComponentNodes: 1 });
  assert.equal(g.info.modes[0].components, 2);
  // the first and third lines share (121.51, 31.2) with the same pace: collapsed into one chain
  assert.equal(g.chainCount, 2);
});

test('centreline: GBK Shapefile read through ogr2ogr output, with length and oneway fields', async (t) => {
  const src = join(work, 'gbk.geojson');
  writeFileSync(
    src,
    JSON.stringify({
      type: 'FeatureCollection',
      features: [
        { type: 'Feature', properties: { name: '南京东路', len: 500, ow: 'no' }, geometry: { type: 'LineString', coordinates: [[121.48, 31.235], [121.485, 31.235]] } },
        { type: 'Feature', properties: { name: '河南中路', len: 300, ow: 'yes' }, geometry: { type: 'LineString', coordinates: [[121.485, 31.235], [121.485, 31.238]] } },
      ],
    }),
  );
  const shp = join(work, 'roads.shp');
  try {
    execFileSync('ogr2ogr', ['-f', 'ESRI Shapefile', '-lco', 'ENCODING=GBK', shp, src], { stdio: 'pipe' });
  } catch (e) {
    if (CI) throw e;
    t.skip(`ogr2ogr (gdal-bin) not available: ${(e as Error).message.split('\n')[0]}`);
    return;
  }
  const g = buildGraph(await readRoadLayer(shp, { modes: ['walk', 'bike'], lengthField: 'len', onewayField: 'ow' }), { minComponentNodes: 1 });
  const walk = g.mode('walk');
  const bike = g.mode('bike');
  // walking: 500 m + 300 m at 1.25 m/s both ways; lengths come from the field, not the geometry
  const arcTimes = Array.from(walk.arcTimeS).sort((a, b) => a - b);
  assert.equal(arcTimes.length, 4);
  assert.ok(Math.abs(arcTimes[0] - 240) < 1e-3 && Math.abs(arcTimes[3] - 400) < 1e-3, `walk arc times ${arcTimes}`);
  // bike: the second street is oneway along its digitised direction, a one-way spur one could ride into but
  // never out of; it is not strongly connected to the rest, so its arc is dropped (its end node forms a component of its own).
  assert.equal(bike.arcTimeS.length, 2);
  assert.equal(g.info.modes[1].components, 2);
});

test('centreline bad input: not a FeatureCollection, a non-numeric cost, projected coordinates, empty file', async () => {
  const cases: Array<[string, string, string, Record<string, string>]> = [
    ['notfc.geojson', JSON.stringify({ type: 'Feature' }), 'LAYER_INVALID', {}],
    [
      'badcost.geojson',
      JSON.stringify({ type: 'FeatureCollection', features: [{ type: 'Feature', properties: { cost: 'n/a' }, geometry: { type: 'LineString', coordinates: [[121.4, 31.2], [121.41, 31.2]] } }] }),
      'LAYER_FIELD_INVALID',
      { costField: 'cost' },
    ],
    [
      'projected.geojson',
      JSON.stringify({ type: 'FeatureCollection', features: [{ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: [[352000, 3456000], [352100, 3456000]] } }] }),
      'LAYER_INVALID',
      {},
    ],
    ['empty.geojson', '', 'FILE_EMPTY', {}],
  ];
  for (const [name, body, key, fields] of cases) {
    const f = join(work, name);
    writeFileSync(f, body);
    await assert.rejects(readRoadLayer(f, { modes: ['walk'], ...fields }), (e: unknown) => {
      assert.ok(e instanceof LifecircleError, `${name}: ${e}`);
      assert.equal(e.key, key, `${name}: ${e.message}`);
      assert.ok(e.message.includes(f), `${name}: message names the file: ${e.message}`);
      return true;
    });
  }
  const f = join(work, 'badcost.geojson');
  await assert.rejects(readRoadLayer(f, { modes: ['walk'], costField: 'cost' }), /feature 1 field cost: expected a number, got "n\/a"/);
});

test('centreline: a MultiLineString feature shares its cost over its parts; a speed field caps each mode', async () => {
  // Two parts of 0.001° lon each at lat 31.2 (≈ 95.2 m each), cost 100 s for the feature: 50 s per part
  // in proportion to length (here equal), not 100 s each.
  const f = join(work, 'multi.geojson');
  const parts = [
    [[121.4, 31.2], [121.401, 31.2]],
    [[121.401, 31.2], [121.402, 31.2]],
  ];
  writeFileSync(f, JSON.stringify({ type: 'FeatureCollection', features: [{ type: 'Feature', properties: { cost: 100, kmh: 60 }, geometry: { type: 'MultiLineString', coordinates: parts } }] }));
  const g = buildGraph(await readRoadLayer(f, { modes: ['walk'], costField: 'cost' }), { minComponentNodes: 1 });
  const total = Array.from(g.mode('walk').arcTimeS).filter((_, i) => g.mode('walk').arcChain[i] % 2 === 0).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(total - 100) < 1e-9, `end to end ${total} s, expected 100 s`);
  // speed 60 km/h: walking stays at 1.25 m/s; a 3 km/h field slows bikes to 3 km/h
  const s60 = buildGraph(await readRoadLayer(f, { modes: ['walk', 'bike'], speedField: 'kmh' }), { minComponentNodes: 1 });
  const lengthM = haversineM(121.4, 31.2, 121.402, 31.2);
  const fwd = (g2: Graph, mode: 'walk' | 'bike') => Array.from(g2.mode(mode).arcTimeS).filter((_, i) => g2.mode(mode).arcChain[i] % 2 === 0).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(fwd(s60, 'walk') - lengthM / 1.25) < 1e-6, `walk ${fwd(s60, 'walk')}`);
  assert.ok(Math.abs(fwd(s60, 'bike') - lengthM / (12 / 3.6)) < 1e-6, `bike ${fwd(s60, 'bike')}`);
  writeFileSync(f, JSON.stringify({ type: 'FeatureCollection', features: [{ type: 'Feature', properties: { kmh: 3 }, geometry: { type: 'MultiLineString', coordinates: parts } }] }));
  const s3 = buildGraph(await readRoadLayer(f, { modes: ['walk', 'bike'], speedField: 'kmh' }), { minComponentNodes: 1 });
  assert.ok(Math.abs(fwd(s3, 'bike') - lengthM / (3 / 3.6)) < 1e-6, `bike at 3 km/h ${fwd(s3, 'bike')}`);
});

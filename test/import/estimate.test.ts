/**
 * Population per residential building from unit totals and an OSM extract, on a hand-made fixture whose
 * numbers are worked out below.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importFile, type ImportOptions } from '../../src/import/importer.ts';
import { estimatePopulationFromBuildings } from '../../src/import/estimate.ts';
import { loadFacilityCatalogue } from '../../src/model/catalogue.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';

const work = mkdtempSync(join(tmpdir(), 'lifecircle-estimate-'));
after(() => rmSync(work, { recursive: true, force: true }));
const catalogue = loadFacilityCatalogue();
const opts = (kind: ImportOptions['kind'], file: string, extra: Partial<ImportOptions> = {}): ImportOptions => ({ kind, file, catalogue, ...extra });
const write = (name: string, text: string) => {
  const p = join(work, name);
  writeFileSync(p, text);
  return p;
};

// Sub-district A = lon 121.40–121.41, B = 121.41–121.42, both lat 31.20–31.21. Every building is the same
// 0.0002° square at lat 31.205, so footprints are equal (call it a) and only levels set the weights:
//   A: way 1 levels 6, way 2 levels 2, way 3 no levels → A's median of (6, 2) = 4   → weights 6a : 2a : 4a
//   B: way 4, way 5 no levels, and no building in B has levels → 1 each             → weights a : a
//   way 6 lies east of both (outside), way 7 is an office (not residential).
// A's 1,200 residents: 1200 × 6/12 = 600, × 2/12 = 200, × 4/12 = 400.
// B's 501: 250.5 each → floors 250 + 250, the one left over to the earlier building (way 4) → 251, 250.
// Held back: the 1,701 residents predicted from the weights (A 12a, B 2a): A 1458 (APE 258/1200 = 21.5 %),
// B 243 (APE 258/501 = 51.497 %); mean 36.498 %.
function buildingsXml(): string {
  let id = 1;
  const nodes: string[] = [];
  const ways: string[] = [];
  const square = (wayId: number, lon: number, tags: Record<string, string>) => {
    const ids: number[] = [];
    for (const [x, y] of [[lon, 31.205], [lon + 0.0002, 31.205], [lon + 0.0002, 31.2052], [lon, 31.2052]]) {
      nodes.push(`<node id="${id}" lat="${y.toFixed(7)}" lon="${x.toFixed(7)}"/>`);
      ids.push(id++);
    }
    ids.push(ids[0]);
    ways.push(`<way id="${wayId}">${ids.map((n) => `<nd ref="${n}"/>`).join('')}${Object.entries(tags).map(([k, v]) => `<tag k="${k}" v="${v}"/>`).join('')}</way>`);
  };
  square(1, 121.401, { building: 'apartments', 'building:levels': '6' });
  square(2, 121.403, { building: 'residential', 'building:levels': '2' });
  square(3, 121.405, { building: 'apartments' });
  square(4, 121.411, { building: 'house' });
  square(5, 121.413, { building: 'house' });
  square(6, 121.431, { building: 'house' });
  square(7, 121.407, { building: 'office', 'building:levels': '20' });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="test">\n${nodes.join('\n')}\n${ways.join('\n')}\n</osm>\n`;
}

async function fixtureProject(name: string): Promise<SqliteStore> {
  const store = new SqliteStore(join(work, `${name}.sqlite`), { create: true });
  await store.init({ name });
  const box = (x0: number) => [[[x0, 31.2], [x0 + 0.01, 31.2], [x0 + 0.01, 31.21], [x0, 31.21], [x0, 31.2]]];
  await importFile(store, opts('units', write(`${name}-d.csv`, 'code,name\n310101,黄浦区\n')));
  const subs = { type: 'FeatureCollection', features: [['310101001', 'A', 121.4], ['310101002', 'B', 121.41]].map(([code, n, x]) => ({ type: 'Feature', properties: { code, name: n }, geometry: { type: 'Polygon', coordinates: box(x as number) } })) };
  assert.equal((await importFile(store, opts('units', write(`${name}-s.geojson`, JSON.stringify(subs))))).ok, true);
  assert.equal((await importFile(store, opts('population', write(`${name}-p.csv`, 'unit_code,count\n310101001,1200\n310101002,501\n'), { year: 2020, source: 'census' }))).ok, true);
  return store;
}

test('census totals per sub-district spread over OSM residential buildings by floor area: exact by hand', async () => {
  const store = await fixtureProject('spread');
  const r = await estimatePopulationFromBuildings(store, { buildingsFile: write('b.osm', buildingsXml()) });
  assert.equal(r.level, 'subdistrict');
  assert.equal(r.year, 2020);
  assert.equal(r.buildings, 6, 'the office is not residential');
  assert.equal(r.buildingsWithLevels, 2);
  assert.equal(r.buildingsOutside, 1);
  assert.equal(r.residents, 1701);
  assert.equal(r.residentsPlaced, 1701, 'totals exact');
  const counts = new Map<string, number>();
  for await (const p of store.records('population')) if (p.zoneKind === 'building') {
    assert.equal(p.estimated, true);
    assert.match(p.method!, /floor area/);
    counts.set(p.zoneId, p.count);
  }
  assert.deepEqual(Object.fromEntries(counts), { 'way/1': 600, 'way/2': 200, 'way/3': 400, 'way/4': 251, 'way/5': 250 });
  assert.ok(r.heldBack);
  assert.ok(Math.abs(r.heldBack.mape - (21.5 + (258 / 501) * 100) / 2) < 1e-9, `mape ${r.heldBack.mape}`);
  // a second run replaces the estimate (same source, same ids): no duplicates
  const again = await estimatePopulationFromBuildings(store, { buildingsFile: join(work, 'b.osm') });
  assert.equal(again.records, 5);
  assert.equal((await store.status()).batches.at(-1)!.inserted, 0);
  await store.close();
});

test('with the city age structure, "all ages" totals are split first; every band stays exact per unit', async () => {
  const store = await fixtureProject('bands');
  const structure = [{ ageGroup: '0-14', share: 0.1 }, { ageGroup: '15-59', share: 0.6 }, { ageGroup: '60+', share: 0.3 }];
  const r = await estimatePopulationFromBuildings(store, { buildingsFile: write('b2.osm', buildingsXml()), ageStructure: structure, dryRun: true });
  assert.equal(r.residentsPlaced, 1701);
  assert.equal(r.batchId, null, 'dry run writes nothing');
  // A: 120 / 720 / 360, each spread 6:2:4 → way 1 gets 60 / 360 / 180
  const real = await estimatePopulationFromBuildings(store, { buildingsFile: join(work, 'b2.osm'), ageStructure: structure });
  const way1: Record<string, number> = {};
  for await (const p of store.records('population')) if (p.zoneId === 'way/1') way1[p.ageGroup] = p.count;
  assert.deepEqual(way1, { '0-14': 60, '15-59': 360, '60+': 180 });
  assert.equal(real.records, 15);
  await store.close();
});

test('no unit totals: a clear error saying what to import', async () => {
  const store = new SqliteStore(join(work, 'empty.sqlite'), { create: true });
  await store.init({ name: 'empty' });
  await assert.rejects(estimatePopulationFromBuildings(store, { buildingsFile: write('b3.osm', buildingsXml()) }), /no unit totals to spread.*import census counts per unit/);
  await store.close();
});

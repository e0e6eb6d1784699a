/**
 * The importer on small files: encodings, delimiters, field mapping, CRS, and every kind of bad input the
 * issue lists. Each bad file must yield a clear problem (file, row, id, field, value, expected) in English
 * and Chinese, and write nothing; earlier data stays intact.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importFile, type ImportOptions } from '../../src/import/importer.ts';
import { loadFacilityCatalogue } from '../../src/model/catalogue.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { LifecircleError } from '../../src/errors.ts';
import { gcj02ToWgs84 } from '../../src/import/crs.ts';

const work = mkdtempSync(join(tmpdir(), 'lifecircle-import-'));
after(() => rmSync(work, { recursive: true, force: true }));
const fixtures = new URL('../fixtures/import/', import.meta.url).pathname;
const catalogue = loadFacilityCatalogue();

async function project(name: string, options: { backgroundWriteBytes?: number } = {}): Promise<SqliteStore> {
  const store = new SqliteStore(join(work, `${name}.sqlite`), { create: true, ...options });
  await store.init({ name });
  return store;
}
function file(name: string, text: string): string {
  const p = join(work, name);
  writeFileSync(p, text);
  return p;
}
const opts = (kind: ImportOptions['kind'], f: string, extra: Partial<ImportOptions> = {}): ImportOptions => ({ kind, file: f, catalogue, ...extra });

const GOOD = 'id,name,category,lon,lat,capacity\nA1,Clinic One,community_health_station,121.4737,31.2304,\nA2,"Kindergarten, Two",kindergarten,121.48,31.24,200\n';

test('GBK, BOM and ;-delimited files with Chinese column names import the same two facilities', async () => {
  const store = await project('encodings');
  const results = [];
  for (const [f, crs] of [['gbk-facilities.csv', 'gcj02'], ['bom-facilities.csv', 'gcj02'], ['semicolon-facilities.csv', 'gcj02']]) {
    const r = await importFile(store, opts('facilities', join(fixtures, f), { crs, source: f }));
    assert.equal(r.ok, true, `${f}: ${r.problems.map((p) => p.en).join('; ')}`);
    results.push(r);
  }
  assert.equal(results[0].encoding, 'gbk');
  assert.equal(results[1].encoding, 'utf-8');
  assert.equal(results[2].delimiter, ';');
  assert.deepEqual(results[0].mapping, { id: 'id', category: '类别', name: '名称', lon: '经度', lat: '纬度', capacity: '床位' });
  const rows = [];
  for await (const r of store.records('facilities')) rows.push(r);
  assert.equal(rows.length, 6);
  // GCJ-02 → WGS84 by the independent module; names decoded from GBK
  const [lon, lat] = gcj02ToWgs84(121.396851, 31.23345);
  for (const r of rows.filter((x) => x.sourceId === 'F1')) {
    assert.equal(r.name, '长风敬老院');
    assert.ok(Math.abs(r.lon - lon) < 1e-12 && Math.abs(r.lat - lat) < 1e-12);
    assert.equal(r.capacity, 120);
    assert.equal(r.capacityUnit, 'beds');
    assert.equal(r.originalCrs, 'GCJ-02');
    assert.equal(r.originalX, 121.396851);
  }
  await store.close();
});

test('re-importing the same source updates by id; a bad batch writes nothing and earlier data stays', async () => {
  const store = await project('reimport');
  const f = file('good.csv', GOOD);
  const first = await importFile(store, opts('facilities', f, { source: 'bureau' }));
  assert.deepEqual([first.batch?.inserted, first.batch?.updated], [2, 0]);
  const second = await importFile(store, opts('facilities', file('good2.csv', GOOD.replace('200', '220')), { source: 'bureau' }));
  assert.deepEqual([second.batch?.inserted, second.batch?.updated], [0, 2]);
  assert.equal(await store.count('facilities'), 2);
  const bad = await importFile(store, opts('facilities', file('bad.csv', GOOD + 'A3,Bad,kindergarten,121.49,abc,10\n'), { source: 'bureau' }));
  assert.equal(bad.ok, false);
  assert.equal(bad.batch, null);
  assert.equal(await store.count('facilities'), 2);
  const caps = [];
  for await (const r of store.records('facilities')) caps.push(r.capacity);
  assert.deepEqual(caps, [null, 220]);
  assert.equal((await store.status()).batches.length, 2, 'the refused batch left no batch record');
  await store.close();
});

/** Imports `text` and returns the report, asserting nothing was written. */
async function refused(name: string, text: string, extra: Partial<ImportOptions> = {}, kind: ImportOptions['kind'] = 'facilities') {
  const store = await project(`bad-${name}`);
  const before = await store.count(kind);
  const r = await importFile(store, opts(kind, file(`${name}.csv`, text), extra));
  assert.equal(r.ok, false, `${name}: expected problems`);
  assert.equal(await store.count(kind), before, `${name}: nothing written`);
  await store.close();
  return r;
}

test('bad values: non-numeric capacity, swapped coordinates, outside Shanghai, unknown category, duplicate ids, unknown status', async () => {
  const capacity = await refused('capacity', 'id,name,category,lon,lat,capacity\nX1,A,kindergarten,121.47,31.23,n/a\n');
  const p = capacity.problems[0];
  assert.equal(p.code, 'not-a-number');
  assert.equal(p.record, 'row 1');
  assert.equal(p.recordId, 'X1');
  assert.equal(p.field, 'capacity (column capacity)');
  assert.equal(p.value, 'n/a');
  assert.match(p.en, /capacity\.csv row 1 \(id X1\) field capacity \(column capacity\): expected a number >= 0, got "n\/a"/);
  assert.match(p.zh, /第1行（编号 X1） 字段 capacity \(column capacity\)：不是数字，实际为 "n\/a"（应为 不小于 0 的数字）$/);

  const swapped = await refused('swapped', 'id,category,lon,lat\nS1,kindergarten,31.23,121.47\n');
  assert.equal(swapped.problems[0].code, 'coordinates-swapped');
  assert.match(swapped.problems[0].en, /look like lat,lon/);

  const outside = await refused('outside', 'id,category,lon,lat\nO1,kindergarten,116.40,39.90\n');
  assert.equal(outside.problems[0].code, 'outside-area');
  assert.match(outside.problems[0].en, /inside Shanghai/);

  const category = await refused('category', 'id,category,lon,lat\nC1,swimming_pool_xl,121.47,31.23\n');
  assert.equal(category.problems[0].code, 'unknown-category');
  assert.equal(category.problems[0].value, 'swimming_pool_xl');

  const dup = await refused('dup', 'id,category,lon,lat\nD1,kindergarten,121.47,31.23\nD1,kindergarten,121.48,31.23\n');
  assert.equal(dup.problems[0].code, 'duplicate-id');
  assert.equal(dup.problems[0].record, 'row 2');

  const status = await refused('status', 'id,category,lon,lat,status\nT1,kindergarten,121.47,31.23,demolished\n');
  assert.equal(status.problems[0].code, 'unknown-status');
});

test('problems are capped per kind but counted exactly', async () => {
  let text = 'id,category,lon,lat\n';
  for (let i = 0; i < 100; i++) text += `N${i},kindergarten,121.47,abc\n`;
  const r = await refused('many', text);
  assert.equal(r.problemCounts['not-a-number'], 100);
  assert.equal(r.problems.filter((p) => p.code === 'not-a-number').length, 20);
});

test('wrong delimiter, missing columns, a file that is not what its extension says: clear errors, nothing written', async () => {
  const store = await project('structure');
  const expectError = async (f: string, extra: Partial<ImportOptions>, key: string, pattern: RegExp) => {
    await assert.rejects(importFile(store, opts('facilities', f, extra)), (e: unknown) => {
      assert.ok(e instanceof LifecircleError, String(e));
      assert.equal(e.key, key);
      assert.match(e.message, pattern);
      assert.ok(e.message.includes(f), 'names the file');
      return true;
    });
  };
  await expectError(join(fixtures, 'semicolon-facilities.csv'), { delimiter: ',' }, 'LAYER_INVALID', /looks ";"-delimited \(give --delimiter ";"\)/);
  await expectError(file('nocoords.csv', 'id,name,category\n1,a,kindergarten\n'), {}, 'LAYER_FIELD_INVALID', /no coordinates/);
  await expectError(file('nocat.csv', 'id,name,lon,lat\n1,a,121.4,31.2\n'), {}, 'LAYER_FIELD_INVALID', /required field category/);
  await expectError(file('badmap.csv', GOOD), { map: { capacity: 'beds' } }, 'LAYER_FIELD_INVALID', /--map capacity=beds: no column "beds"/);
  const zip = join(work, 'excel.csv');
  writeFileSync(zip, Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0]));
  await expectError(zip, {}, 'LAYER_INVALID', /zip archive \(an Excel \.xlsx\?/);
  await expectError(file('json.csv', '{"type":"FeatureCollection","features":[]}'), {}, 'LAYER_INVALID', /expected CSV .* JSON\/GeoJSON/);
  await expectError(file('csv.geojson', GOOD), {}, 'LAYER_INVALID', /expected GeoJSON .* CSV text/);
  await expectError(file('empty.csv', ''), {}, 'FILE_EMPTY', /empty/);
  assert.equal(await store.count('facilities'), 0);
  await store.close();
});

test('units: codes, parents from the code prefix, polygons checked for self-intersection', async () => {
  const store = await project('units');
  const r = await importFile(store, opts('units', file('d.csv', 'code,name\n310101,黄浦区\n310101002,南京东路街道\n310101002001,云南中路居委会\n')));
  assert.equal(r.ok, true, JSON.stringify(r.problems));
  const units = [];
  for await (const u of store.records('units')) units.push([u.code, u.level, u.parentCode]);
  assert.deepEqual(units, [['310101', 'district', null], ['310101002', 'subdistrict', '310101'], ['310101002001', 'committee', '310101002']]);
  // a committee whose sub-district is unknown
  const orphan = await importFile(store, opts('units', file('o.csv', 'code,name\n310101999001,孤儿居委\n')));
  assert.equal(orphan.problems[0].code, 'unknown-parent-code');
  // a bow-tie boundary
  const bowtie = {
    type: 'FeatureCollection',
    features: [{ type: 'Feature', properties: { code: '310101013', name: '外滩街道' }, geometry: { type: 'Polygon', coordinates: [[[121.48, 31.23], [121.49, 31.24], [121.49, 31.23], [121.48, 31.24], [121.48, 31.23]]] } }],
  };
  const bt = await importFile(store, opts('units', file('bowtie.geojson', JSON.stringify(bowtie))));
  assert.equal(bt.problems[0].code, 'invalid-geometry');
  assert.match(bt.problems[0].en, /Self-intersection at 121\.48\d* 31\.23\d*/);
  assert.equal(bt.problems[0].record, 'feature 1');
  // facilities naming a unit that does not exist
  const f = await importFile(store, opts('facilities', file('fu.csv', 'id,category,lon,lat,unit_code\n1,kindergarten,121.47,31.23,310101002\n2,kindergarten,121.47,31.23,310109000\n')));
  assert.equal(f.problems.length, 1);
  assert.equal(f.problems[0].code, 'unknown-unit-code');
  assert.equal(f.problems[0].value, '310109000');
  await store.close();
});

test('population: long and wide tables, age bands kept as given, estimates labelled', async () => {
  const store = await project('population');
  await importFile(store, opts('units', file('u.csv', 'code,name\n310101,黄浦区\n')));
  const wide = await importFile(store, opts('population', file('w.csv', 'unit_code,year,p0_14,p15_64,p65\n310101,2020,40000,450000,172030\n'), { map: { 'count:0-14': 'p0_14', 'count:15-64': 'p15_64', 'count:65+': 'p65' } }));
  assert.equal(wide.ok, true, JSON.stringify(wide.problems));
  assert.equal(wide.records, 3);
  const rows = [];
  for await (const p of store.records('population')) rows.push([p.zoneKind, p.ageGroup, p.count, p.estimated]);
  assert.deepEqual(rows, [['unit', '0-14', 40000, false], ['unit', '15-64', 450000, false], ['unit', '65+', 172030, false]]);
  const bad = await importFile(store, opts('population', file('l.csv', 'zone_id,year,age_group,count\nz1,2020,60-,10\nz2,2020,60-79,-5\n'), { estimateMethod: 'test' }));
  assert.deepEqual(bad.problems.map((p) => p.code), ['invalid-age-group', 'out-of-range']);
  await store.close();
});

test('--skip-invalid writes the valid rows in one batch and reports the skipped ones', async () => {
  const store = await project('skip');
  const r = await importFile(store, opts('facilities', file('skip.csv', GOOD + 'A3,Bad,kindergarten,121.49,,10\n'), { skipInvalid: true }));
  assert.equal(r.skipped, 1);
  assert.equal(r.batch?.inserted, 2);
  assert.equal(await store.count('facilities'), 2);
  await store.close();
});

test('dry run validates without a store and writes nothing', async () => {
  const r = await importFile(null, opts('facilities', file('dry.csv', GOOD), { dryRun: true }));
  assert.equal(r.ok, true);
  assert.equal(r.records, 2);
  assert.equal(r.batch, null);
});

test('a copy of a real file: the elderly-care list (GCJ-02) imports with a category map', async () => {
  const store = await project('real');
  const src = join(new URL('../../', import.meta.url).pathname, '..', 'shared', 'data', 'sh-elderly-care-facilities', 'sh_elderly_care_facilities.csv');
  const local = join(work, 'elderly.csv');
  copyFileSync(process.env.LIFECIRCLE_DATA ? join(process.env.LIFECIRCLE_DATA, 'sh-elderly-care-facilities', 'sh_elderly_care_facilities.csv') : src, local);
  const categoryMap = { 助餐服务点: 'elderly_canteen', 养老机构: 'elderly_care_institution', 老年日间照护机构: 'elderly_day_care_centre', 社区综合为老服务中心: 'comprehensive_elderly_service_centre', 社区养老服务组织: 'community_elderly_service_org', 护理站: 'nursing_station', 长者照护之家: 'community_elderly_care_home', 护理院: 'nursing_hospital' };
  const r = await importFile(store, opts('facilities', local, { crs: 'gcj02', map: { lon: 'lng_gcj02', lat: 'lat_gcj02', id: 'row', category: 'type_zh' }, categoryMap, skipInvalid: true }));
  // PROVENANCE.md: 3,821 rows, 44 without coordinates
  assert.equal(r.rows, 3821);
  assert.equal(r.batch?.inserted, 3777);
  assert.equal(r.skipped, 88, 'lon and lat missing on each of the 44 rows');
  await store.close();
});

for (const [writer, backgroundWriteBytes] of [['inline', Infinity], ['worker-thread', 0]] as const) {
test(`duplicate ids inside one 64-row write chunk and across chunks are all found (${writer} writer)`, async () => {
  const store = await project(`dups-chunked-${writer}`, { backgroundWriteBytes });
  let text = 'id,category,lon,lat\n';
  const ids = Array.from({ length: 200 }, (_, i) => `R${i}`);
  ids[20] = 'R10'; // same chunk as its first occurrence
  ids[150] = 'R5'; // a later chunk
  for (const id of ids) text += `${id},kindergarten,121.47,31.23\n`;
  const r = await importFile(store, opts('facilities', file(`dups-chunked-${writer}.csv`, text)));
  assert.deepEqual(
    r.problems.map((p) => [p.code, p.record, p.recordId]),
    [
      ['duplicate-id', 'row 21', 'R10'],
      ['duplicate-id', 'row 151', 'R5'],
    ],
  );
  assert.equal(await store.count('facilities'), 0, 'refused: nothing written');
  await store.close();
});
}

test('Shapefile (GCJ-02, real district boundaries) and GeoPackage imports', async () => {
  const data = process.env.LIFECIRCLE_DATA ?? join(new URL('../../', import.meta.url).pathname, '..', 'shared', 'data');
  const store = await project('shp-gpkg');
  const shp = await importFile(store, opts('units', join(data, 'sh-districts', 'sh_district_gcj02.shp'), { crs: 'gcj02', source: 'amap-districts' }));
  assert.equal(shp.ok, true, JSON.stringify(shp.problems.slice(0, 2)));
  assert.equal(shp.format, 'shapefile');
  assert.equal(shp.records, 16);
  // sh_districts_wgs84.geojson is the same AMap set converted to WGS84 independently (PROVENANCE.md):
  // our GCJ-02 → WGS84 conversion of the Shapefile must land within a few metres of it, vertex for vertex
  const reference = JSON.parse((await import('node:fs')).readFileSync(join(data, 'sh-districts', 'sh_districts_wgs84.geojson'), 'utf8')) as { features: Array<{ properties: { adcode: string }; geometry: { coordinates: number[][][][] } }> };
  const { haversineM } = await import('../../src/geo.ts');
  let worst = 0;
  let compared = 0;
  for await (const u of store.records('units')) {
    const ref = reference.features.find((f) => f.properties.adcode === u.code);
    assert.ok(ref && u.boundary, `district ${u.code}`);
    // nearest reference vertex to every 10th of ours (the two files need not list vertices alike)
    const pts = (c: unknown): number[][] => (typeof (c as number[])[0] === 'number' ? [c as number[]] : (c as unknown[]).flatMap(pts));
    const theirs = pts(ref!.geometry.coordinates);
    for (const ring of u.boundary!.coordinates.flat(1)) {
      for (let i = 0; i < ring.length; i += 10) {
        let best = Infinity;
        for (const q of theirs) best = Math.min(best, haversineM(ring[i][0], ring[i][1], q[0], q[1]));
        worst = Math.max(worst, best);
        compared++;
      }
    }
  }
  assert.ok(compared > 100, `${compared} vertices compared`);
  assert.ok(worst < 3, `worst vertex ${worst.toFixed(2)} m from the independent WGS84 conversion`);
  // GeoPackage: export the districts, import them into another project: the same boundaries
  const { exportLayer } = await import('../../src/io/export.ts');
  const gpkg = join(work, 'districts.gpkg');
  await exportLayer(store, 'units', gpkg);
  const other = await project('from-gpkg');
  const back = await importFile(other, opts('units', gpkg, { source: 'roundtrip' }));
  assert.equal(back.ok, true, JSON.stringify(back.problems.slice(0, 2)));
  assert.equal(back.format, 'geopackage');
  assert.equal(back.crs, 'EPSG:4326');
  const a = [];
  for await (const u of store.records('units')) a.push([u.code, u.name, u.boundary]);
  const b = [];
  for await (const u of other.records('units')) b.push([u.code, u.name, u.boundary]);
  assert.deepEqual(b, a);
  await store.close();
  await other.close();
});

test('units: --match-names files a boundary whose code is another unit\'s under the unit of its name; --repair-geometry fixes a self-touching ring', async () => {
  const store = await project('match-names');
  const codes = 'code,name,parent_code\n310107,普陀区,\n310107021,万里街道,310107\n310107022,真如镇街道,310107\n';
  assert.equal((await importFile(store, opts('units', file('mn-codes.csv', codes)))).ok, true);
  // a 100 m-ish square per unit; the file swaps the two codes (as the OSM control crosswalk does)
  const square = (x: number, y: number) => [[[x, y], [x + 0.01, y], [x + 0.01, y + 0.01], [x, y + 0.01], [x, y]]];
  // a ring that passes through its start point half-way (valid area, invalid ring: touches itself)
  const selfTouching = [[[121.40, 31.24], [121.41, 31.24], [121.41, 31.25], [121.40, 31.24], [121.40, 31.25], [121.39, 31.25], [121.40, 31.24]]];
  const features = [
    { type: 'Feature', properties: { code: '310107021', name: '真如镇街道' }, geometry: { type: 'Polygon', coordinates: square(121.38, 31.23) } },
    { type: 'Feature', properties: { code: '310107022', name: '万里' }, geometry: { type: 'Polygon', coordinates: selfTouching } },
  ];
  const gj = file('mn-boundaries.geojson', JSON.stringify({ type: 'FeatureCollection', features }));
  const refused = await importFile(store, opts('units', gj, { matchNames: true, source: 'b' }));
  assert.equal(refused.ok, false, 'the self-touching ring is refused without --repair-geometry');
  assert.match(refused.problems[0].en, /--repair-geometry/);
  const r = await importFile(store, opts('units', gj, { matchNames: true, repairGeometry: true, source: 'b' }));
  assert.equal(r.ok, true, r.problems.map((p) => p.en).join('; '));
  assert.deepEqual(r.recoded.map((x) => [x.givenCode, x.code]), [['310107021', '310107022'], ['310107022', '310107021']]);
  assert.equal(r.repaired.length, 1);
  assert.match(r.repaired[0].problem, /Self-intersection/);
  // the self-touching ring encloses two triangles of 0.5 × 0.01² deg² each: the repair keeps that area
  assert.ok(r.repaired[0].areaChange < 1e-9, `area change ${r.repaired[0].areaChange}`);
  const units = new Map<string, { name: string; boundary: unknown }>();
  for await (const u of store.records('units')) units.set(u.code, u);
  assert.equal(units.get('310107022')!.name, '真如镇街道', 'official names kept');
  assert.deepEqual((units.get('310107022')!.boundary as { coordinates: unknown }).coordinates, [square(121.38, 31.23)], '真如镇街道 got its own polygon');
  assert.equal((units.get('310107021')!.boundary as { coordinates: unknown[] }).coordinates.length, 2, '万里街道: the repaired ring as two polygons');
  // a figure-eight whose lobes cancel out is not repairable: refused, nothing written
  const bowtie = file('mn-bowtie.geojson', JSON.stringify({ type: 'FeatureCollection', features: [{ type: 'Feature', properties: { code: '310107021', name: '万里街道' }, geometry: { type: 'Polygon', coordinates: [[[121.4, 31.2], [121.41, 31.21], [121.41, 31.2], [121.4, 31.21], [121.4, 31.2]]] } }] }));
  const bad = await importFile(store, opts('units', bowtie, { repairGeometry: true, source: 'c' }));
  assert.equal(bad.ok, false);
  assert.match(bad.problems[0].en, /could not repair/);
  await store.close();
});

test('facilities straight from an OSM extract (real PBF): categories by the tag table, ids node/… and way/…, park areas from the polygons', async (t) => {
  const data = process.env.LIFECIRCLE_DATA ?? join(new URL('../../', import.meta.url).pathname, '..', 'shared', 'data');
  const pbf = join(data, 'osm-fixtures-real', 'liechtenstein_2013-08-03.osm.pbf');
  const { existsSync } = await import('node:fs');
  if (!existsSync(pbf)) return t.skip(`no ${pbf}`);
  const store = await project('osm-facilities');
  const liechtenstein = { name: 'Liechtenstein', bbox: [9.4, 47.0, 9.7, 47.3] as [number, number, number, number] };
  const r = await importFile(store, opts('facilities', pbf, { area: liechtenstein, source: 'osm-li' }));
  assert.equal(r.ok, true, r.problems.slice(0, 3).map((p) => p.en).join('; '));
  assert.equal(r.format, 'osm');
  const unmapped = Object.values(r.unmapped).reduce((a, b) => a + b, 0);
  assert.equal(r.records + unmapped, r.rows, 'every candidate row is a facility or counted as unmapped');
  assert.equal(r.batch!.inserted, r.records);
  const rows = [];
  for await (const f of store.records('facilities')) rows.push(f);
  assert.ok(rows.every((f) => /^(node|way)\/\d+$/.test(f.sourceId)));
  const ways = rows.filter((f) => f.sourceId.startsWith('way/'));
  assert.ok(ways.length > 0 && ways.every((f) => f.landAreaM2 !== null && f.landAreaM2 > 0), 'areas carry their land area');
  const parks = rows.filter((f) => /park$/.test(f.category));
  for (const p of parks) if (p.sourceId.startsWith('way/')) assert.ok(p.landAreaM2! > 0);
  assert.equal((await store.status()).batches[0].attribution, '© OpenStreetMap contributors, ODbL 1.0');
  // the same file again updates in place
  const again = await importFile(store, opts('facilities', pbf, { area: liechtenstein, source: 'osm-li' }));
  assert.equal(again.batch!.inserted, 0);
  assert.equal(again.batch!.updated, r.records);
  await store.close();
});

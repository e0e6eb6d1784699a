/**
 * openOsmFeatures: facilities and residential buildings read straight from OSM files.
 *
 *   node --import tsx --test test/import/osm-features.test.ts
 *
 * - A hand-made XML fixture (test/fixtures/osm-features/hand.osm) whose areas are known by construction
 *   (rectangles sized with the WGS84 metres-per-degree series; see the comment in the file), with a way that
 *   references a missing node, open ways, unreadable levels and unsorted node ids.
 * - The two real PBFs of ../shared/data/osm-fixtures-real: the set of rows (not just the count) is compared
 *   with what osmium-tool selects by the same rules (`osmium tags-filter`, evaluated by osmium on its own
 *   decoding), keeping closed ways whose nodes are all in the file (`osmium cat` lists the nodes); and every
 *   area is compared with SpatiaLite's ellipsoidal ST_Area (through GDAL's ogr2ogr) of the polygon osmium
 *   exports for the same way.
 * Tests needing osmium-tool or GDAL are skipped with the reason when they are absent, except with CI=true,
 * where they fail.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  NON_RESIDENTIAL_USE_KEYS,
  RESIDENTIAL_BUILDING_VALUES,
  isResidentialBuilding,
  openOsmFeatures,
  parseLevels,
  ringAreaM2,
  type OsmFeatureKind,
  type OsmFeatureSource,
} from '../../src/import/osm-features.ts';
import { LifecircleError, type ErrorKey } from '../../src/errors.ts';
import { loadFacilityCatalogue } from '../../src/model/catalogue.ts';
import { DEFAULT_OSM_TAGS, loadOsmTagTable } from '../../src/model/osm-tags.ts';
import { resolveMapping } from '../../src/import/fields.ts';
import { interiorPoint, polygonProblem } from '../../src/import/geometry.ts';
import type { RawRow } from '../../src/import/rows.ts';
import type { Polygon } from 'geojson';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DATA = process.env.LIFECIRCLE_DATA ?? path.resolve(HERE, '../../../shared/data');
const REAL = [
  path.join(DATA, 'osm-fixtures-real', 'helsinki_centre_2019-04.osm.pbf'),
  path.join(DATA, 'osm-fixtures-real', 'liechtenstein_2013-08-03.osm.pbf'),
];
const HAND = path.join(HERE, '..', 'fixtures', 'osm-features', 'hand.osm');
const CI = process.env.CI === 'true';
const HAVE_OSMIUM = !spawnSync('osmium', ['--version']).error;
const HAVE_OGR = !spawnSync('ogr2ogr', ['--version']).error;
const NO_OSMIUM = 'osmium-tool not installed (apt-get install osmium-tool): cross-check with an independent OSM decoder skipped';
const NO_OGR = 'GDAL ogr2ogr not installed (apt-get install gdal-bin): ellipsoidal area cross-check skipped';
const skipUnless = (have: boolean, why: string) => (have || CI ? false : why);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lifecircle-osm-features-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function collect(file: string, kind: OsmFeatureKind): Promise<{ rows: RawRow[]; src: OsmFeatureSource }> {
  const src = openOsmFeatures(file, { kind });
  const rows: RawRow[] = [];
  for await (const r of src.rows) rows.push(r);
  return { rows, src };
}
const byId = (rows: RawRow[]) => new Map(rows.map((r) => [String(r.props.id), r]));
const near = (got: number, want: number, rel: number, what: string) =>
  assert.ok(Math.abs(got - want) <= rel * Math.abs(want), `${what}: got ${got}, expected ${want} ± ${(rel * 100).toFixed(3)} %`);

// --- the hand-made fixture ------------------------------------------------------------------------------

test('buildings: residential rule, footprint and floor area known by construction, skipped ways reported', async () => {
  const { rows, src } = await collect(HAND, 'buildings');
  assert.equal(src.format, 'osm');
  assert.equal(src.osmFormat, 'xml');
  assert.deepEqual(rows.map((r) => r.props.id), ['way/1001', 'way/1002', 'way/1008', 'way/1009']);
  assert.deepEqual(rows.map((r) => r.row), [1, 2, 3, 4]);
  const m = byId(rows);

  // 100 m × 50 m at 31.23 N, building=apartments, building:levels=6 (series: 5000.35 m², rounding of corners)
  const a = m.get('way/1001')!;
  near(a.props.area_m2 as number, 5000, 0.005, 'way 1001 area (brief: ±0.5 %)');
  near(a.props.area_m2 as number, 5000.35, 0.0005, 'way 1001 area against the series');
  assert.equal(a.props.levels, 6);
  near(a.props.floor_area_m2 as number, 30000, 0.005, 'way 1001 floor area');
  assert.equal(a.props.osm_type, 'way');
  assert.equal(a.props.osm_id, 1001);
  assert.equal(a.props.building, 'apartments', 'tags are kept');
  assert.equal(a.featureId, 'way/1001');

  // 100 m × 50 m at 60.17 N, drawn clockwise: ellipsoid 5000.37 m² (a sphere of the mean radius gives 4972)
  const b = m.get('way/1002')!;
  near(b.props.area_m2 as number, 5000.37, 0.0005, 'way 1002 area at 60 N');
  assert.equal(b.props.levels, 4);
  near(b.props.floor_area_m2 as number, 20001.5, 0.0005, 'way 1002 floor area');
  const ring = (b.geometry as Polygon).coordinates[0];
  assert.ok(ringAreaM2(ring) > 0, 'ring turned counter-clockwise (RFC 7946)');
  assert.deepEqual(ring[0], ring[ring.length - 1]);

  // building=yes + building:use=residential, no levels; dormitory with levels "3;4"
  assert.equal(m.get('way/1008')!.props.levels, null);
  assert.equal(m.get('way/1008')!.props.floor_area_m2, null);
  assert.equal(m.get('way/1009')!.props.levels, null);
  assert.equal(m.get('way/1009')!.props.floor_area_m2, null);

  assert.deepEqual(
    { ...src.stats },
    { nodes: 42, ways: 10, pointRows: 0, areaRows: 4, waysMissingNodes: 1, waysNotArea: 1, levelsUnreadable: 1 },
  );
  assert.deepEqual(src.warnings.countsByKind(), { 'not-an-area': 1, 'missing-node': 1, 'levels-unreadable': 1 });
  const missing = src.warnings.list().find((w) => w.kind === 'missing-node')!;
  assert.match(missing.message, /way 1007 .*node 999/);
  assert.equal(missing.record, 'way 1007');
  assert.match(src.warnings.list().find((w) => w.kind === 'not-an-area')!.message, /way 1006 \(building=house\) is not closed/);
  assert.match(src.warnings.list().find((w) => w.kind === 'levels-unreadable')!.message, /way 1009: building:levels="3;4"/);
  assert.equal(src.read?.format, 'xml');
});

test('facilities: rule anchors of the tag table select nodes and closed ways; the table then maps them', async () => {
  const { rows, src } = await collect(HAND, 'facilities');
  assert.deepEqual(rows.map((r) => r.props.id), ['node/100', 'node/102', 'node/104', 'way/1003', 'way/1004']);
  const m = byId(rows);
  assert.deepEqual(m.get('node/100')!.geometry, { type: 'Point', coordinates: [121.4741, 31.2312] });
  assert.equal(m.get('node/100')!.props.osm_type, 'node');
  assert.equal(m.get('node/100')!.props.osm_id, 100);
  assert.equal(m.get('node/100')!.props.area_m2, undefined, 'points have no area');
  // 200 m × 100 m park with a node repeated in a row: 19999.76 m² by the series
  const park = m.get('way/1003')!;
  near(park.props.area_m2 as number, 19999.76, 0.0005, 'park area');
  assert.equal((park.geometry as Polygon).coordinates[0].length, 5, 'the repeated node is dropped');
  assert.deepEqual({ ...src.stats }, { nodes: 42, ways: 10, pointRows: 3, areaRows: 2, waysMissingNodes: 0, waysNotArea: 1, levelsUnreadable: 0 });
  assert.match(src.warnings.list()[0].message, /way 1010 \(amenity=marketplace\) is not closed/);

  // what the importer does with these rows under --osm-tags: categories, id column, a point inside polygons
  const table = loadOsmTagTable(loadFacilityCatalogue());
  assert.deepEqual(
    rows.map((r) => table.categoryOf(r.props)),
    ['kindergarten', 'bus_stop', null /* a rail platform: the importer reports it unmapped */, 'community_park', 'primary_school'],
  );
  const mapping = resolveMapping('facilities', src.columns, {});
  assert.equal(mapping.id, 'id', 'the importer picks "node/…"/"way/…" ids, not the overlapping osm_id');
  assert.equal(mapping.name, 'name');
  for (const r of rows.filter((x) => x.geometry?.type === 'Polygon')) {
    assert.equal(polygonProblem(r.geometry!), null);
    const [lon, lat] = interiorPoint(r.geometry!);
    assert.ok(Number.isFinite(lon) && Number.isFinite(lat));
  }
});

test('isResidentialBuilding and parseLevels', () => {
  assert.ok(isResidentialBuilding({ building: 'house' }));
  assert.ok(isResidentialBuilding({ building: 'apartments', shop: 'supermarket' }), 'an explicit residential value wins');
  assert.ok(isResidentialBuilding({ building: 'yes', 'building:levels': '5' }));
  assert.ok(isResidentialBuilding({ building: 'yes', 'building:use': 'apartments' }));
  assert.ok(isResidentialBuilding({ building: 'yes', residential: 'urban' }));
  assert.ok(!isResidentialBuilding({ building: 'yes' }));
  assert.ok(!isResidentialBuilding({ building: 'yes', 'building:levels': '5', amenity: 'school' }));
  assert.ok(!isResidentialBuilding({ building: 'yes', 'building:levels': '5', 'building:use': 'commercial' }));
  assert.ok(!isResidentialBuilding({ building: 'office', 'building:levels': '5' }));
  assert.ok(!isResidentialBuilding({ amenity: 'school' }));
  assert.equal(parseLevels('6'), 6);
  assert.equal(parseLevels(' 2.5 '), 2.5);
  assert.equal(parseLevels('2,5'), 2.5);
  assert.equal(parseLevels('0'), 0);
  assert.equal(parseLevels('3;4'), null);
  assert.equal(parseLevels('-1'), null);
  assert.equal(parseLevels(undefined), null);
});

test('bad input: errors at open name the file; a truncated PBF fails the iteration', async () => {
  const expectThrow = (f: () => unknown, key: ErrorKey, file: string) =>
    assert.throws(f, (e: unknown) => e instanceof LifecircleError && e.key === key && e.message.includes(file));
  const missingFile = path.join(tmp, 'nope.osm.pbf');
  expectThrow(() => openOsmFeatures(missingFile, { kind: 'buildings' }), 'FILE_NOT_FOUND', missingFile);
  const json = path.join(tmp, 'x.osm');
  fs.writeFileSync(json, '{"type":"FeatureCollection","features":[]}');
  expectThrow(() => openOsmFeatures(json, { kind: 'facilities' }), 'FILE_NOT_OSM', json);
  assert.throws(() => openOsmFeatures(HAND, { kind: 'parks' as OsmFeatureKind }), (e: unknown) => e instanceof LifecircleError && e.key === 'ARGUMENT_INVALID');

  if (!fs.existsSync(REAL[0])) return;
  const cut = path.join(tmp, 'cut.osm.pbf');
  fs.writeFileSync(cut, fs.readFileSync(REAL[0]).subarray(0, 300_000));
  const src = openOsmFeatures(cut, { kind: 'buildings' });
  await assert.rejects(
    (async () => {
      for await (const _ of src.rows);
    })(),
    (e: unknown) => e instanceof LifecircleError && e.key === 'FILE_TRUNCATED' && e.message.includes(cut),
  );
});

test('stopping the iteration early stops the read', async () => {
  for (const file of [HAND, REAL[0]]) {
    if (!fs.existsSync(file)) continue;
    const src = openOsmFeatures(file, { kind: 'facilities' });
    let n = 0;
    for await (const _ of src.rows) if (++n === 2) break;
    assert.equal(n, 2);
    // a small XML file is parsed in one chunk before the first row is taken; a PBF is read blob by blob
    if (file.endsWith('.pbf')) assert.equal(src.read, null, 'the reader did not run to the end');
    const again = [];
    for await (const r of src.rows) again.push(r);
    assert.equal(again.length, 0, 'a finished source yields nothing more');
  }
});

test('the same data as XML and as PBF give the same rows; an XML read stops early too', { skip: !fs.existsSync(REAL[0]) ? `${REAL[0]} not found` : skipUnless(HAVE_OSMIUM, NO_OSMIUM) }, async () => {
  const xml = path.join(tmp, 'helsinki.osm');
  execFileSync('osmium', ['cat', REAL[0], '-O', '-o', xml]);
  assert.ok(fs.statSync(xml).size > 4 << 20, 'several 1 MiB XML chunks');
  for (const kind of ['facilities', 'buildings'] as const) {
    const fromXml = await collect(xml, kind);
    const fromPbf = await cached(REAL[0], kind);
    assert.equal(fromXml.src.osmFormat, 'xml');
    assert.deepEqual(fromXml.rows, fromPbf.rows, kind);
    assert.deepEqual(fromXml.src.stats, fromPbf.src.stats, kind);
  }
  const src = openOsmFeatures(xml, { kind: 'facilities' });
  let n = 0;
  for await (const _ of src.rows) if (++n === 2) break;
  assert.equal(src.read, null, 'the XML reader stopped before the end');
});

// --- real PBFs against osmium-tool and GDAL/SpatiaLite -----------------------------------------------------

interface OplWay {
  id: number;
  refs: number[];
  tags: Record<string, string>;
}

const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28 });

/** OPL decoding of the fields used here: `w<id> … T<k=v,…> N<n1,n2,…>`, %hex% escapes. */
const unescapeOpl = (s: string) => s.replace(/%([0-9a-fA-F]+)%/g, (_, h: string) => String.fromCodePoint(parseInt(h, 16)));
function parseOpl(text: string): { nodes: number[]; ways: OplWay[] } {
  const nodes: number[] = [];
  const ways: OplWay[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('n')) nodes.push(Number(line.slice(1, line.indexOf(' '))));
    else if (line.startsWith('w')) {
      const fields = line.split(' ');
      const t = fields.find((f) => f.startsWith('T'))?.slice(1) ?? '';
      const n = fields.find((f) => f.startsWith('N'))?.slice(1) ?? '';
      const tags: Record<string, string> = {};
      for (const kv of t.split(',').filter(Boolean)) {
        const [k, v] = kv.split('=');
        tags[unescapeOpl(k)] = unescapeOpl(v ?? '');
      }
      ways.push({ id: Number(fields[0].slice(1)), refs: n.split(',').filter(Boolean).map((r) => Number(r.slice(1))), tags });
    }
  }
  return { nodes, ways };
}
/** osmium tags-filter, matched objects only (-R), as OPL. */
const tagsFilter = (input: string, exprs: string[], extra: string[] = []) => run('osmium', ['tags-filter', input, ...exprs, '-R', ...extra, '-f', 'opl', '-o', '-']);
const tagsFilterToFile = (input: string, exprs: string[], out: string, extra: string[] = []) => {
  run('osmium', ['tags-filter', input, ...exprs, '-R', ...extra, '-O', '-o', out]);
  return out;
};

/** The expected rows by osmium: selected nodes, and selected ways split into area / not area / missing nodes. */
function expectedByOsmium(file: string, nodeOpl: string, wayOpl: string) {
  const all = new Set(parseOpl(run('osmium', ['cat', file, '-t', 'node', '-f', 'opl', '-o', '-'])).nodes);
  const ids = new Set<string>();
  let notArea = 0;
  let missing = 0;
  for (const id of parseOpl(nodeOpl).nodes) ids.add(`node/${id}`);
  const seen = new Set<number>();
  for (const w of parseOpl(wayOpl).ways) {
    if (seen.has(w.id)) continue;
    seen.add(w.id);
    const distinct = w.refs.filter((r, i) => i === 0 || r !== w.refs[i - 1]);
    const closed = w.refs.length >= 4 && w.refs[0] === w.refs[w.refs.length - 1];
    if (!closed || w.tags.area === 'no') notArea++;
    else if (!w.refs.every((r) => all.has(r))) missing++;
    else if (distinct.length < 4) notArea++;
    else ids.add(`way/${w.id}`);
  }
  return { ids, notArea, missing };
}

/** osmium expressions for the tag table's rule anchors (the first condition not on a computed value). */
function anchorExpressions(): string[] {
  const table = JSON.parse(fs.readFileSync(DEFAULT_OSM_TAGS, 'utf8')) as { rules: Array<{ when: Record<string, string | string[]> }> };
  const exprs = new Set<string>();
  for (const r of table.rules) {
    const [k, v] = Object.entries(r.when).find(([key, val]) => key !== 'area_m2' && !/^[<>]/.test(String(val)))!;
    exprs.add(`${k}${v === '*' ? '' : `=${[v].flat().join(',')}`}`);
  }
  return [...exprs];
}

const results = new Map<string, { rows: RawRow[]; src: OsmFeatureSource }>();
async function cached(file: string, kind: OsmFeatureKind) {
  const key = `${file}|${kind}`;
  if (!results.has(key)) results.set(key, await collect(file, kind));
  return results.get(key)!;
}

for (const file of REAL) {
  const name = path.basename(file);
  const present = fs.existsSync(file);

  test(`${name}: facilities are exactly osmium's selection by the table's anchors`, { skip: !present ? `${file} not found` : skipUnless(HAVE_OSMIUM, NO_OSMIUM) }, async () => {
    const exprs = anchorExpressions();
    const expected = expectedByOsmium(file, tagsFilter(file, exprs.map((e) => `n/${e}`)), tagsFilter(file, exprs.map((e) => `w/${e}`)));
    const { rows, src } = await cached(file, 'facilities');
    const got = new Set(rows.map((r) => String(r.props.id)));
    assert.equal(got.size, rows.length, 'ids are unique');
    assert.deepEqual([...got].filter((id) => !expected.ids.has(id)), [], 'rows osmium does not select');
    assert.deepEqual([...expected.ids].filter((id) => !got.has(id)), [], 'rows osmium selects that are missing');
    assert.equal(src.stats.waysNotArea, expected.notArea);
    assert.equal(src.stats.waysMissingNodes, expected.missing);
    assert.equal(src.stats.pointRows + src.stats.areaRows, rows.length);
    console.log(`# ${name} facilities: ${src.stats.pointRows} points + ${src.stats.areaRows} areas (osmium: ${expected.ids.size}); ${expected.notArea} ways not areas, ${expected.missing} with missing nodes`);
  });

  test(`${name}: residential buildings are exactly osmium's selection by the documented rule`, { skip: !present ? `${file} not found` : skipUnless(HAVE_OSMIUM, NO_OSMIUM) }, async () => {
    // rule 1: a residential building value
    const explicit = tagsFilter(file, [`w/building=${RESIDENTIAL_BUILDING_VALUES.join(',')}`]);
    // rules 2 and 3 start from building=yes
    const yes = tagsFilterToFile(file, ['w/building=yes'], path.join(tmp, `${name}-yes.opl`));
    const hinted = tagsFilter(yes, [`w/building:use=${RESIDENTIAL_BUILDING_VALUES.join(',')}`, 'w/residential']);
    const levelled = tagsFilterToFile(yes, ['w/building:levels'], path.join(tmp, `${name}-levels.opl`));
    const plain = tagsFilter(levelled, NON_RESIDENTIAL_USE_KEYS.map((k) => `w/${k}`), ['-i']);
    const expected = expectedByOsmium(file, '', [explicit, hinted, plain].join('\n'));
    const { rows, src } = await cached(file, 'buildings');
    const got = new Set(rows.map((r) => String(r.props.id)));
    assert.deepEqual([...got].filter((id) => !expected.ids.has(id)), [], 'rows osmium does not select');
    assert.deepEqual([...expected.ids].filter((id) => !got.has(id)), [], 'rows osmium selects that are missing');
    assert.equal(src.stats.waysNotArea, expected.notArea);
    assert.equal(src.stats.waysMissingNodes, expected.missing);
    // levels and floor area agree with the tag osmium read
    const levelsById = new Map(parseOpl([explicit, hinted, plain].join('\n')).ways.map((w) => [`way/${w.id}`, w.tags['building:levels']]));
    let withLevels = 0;
    for (const r of rows) {
      const tag = levelsById.get(String(r.props.id));
      const want = tag !== undefined && /^\d+(\.\d+)?$/.test(tag) ? Number(tag) : null;
      assert.equal(r.props.levels, want, `${r.props.id} levels (tag ${tag})`);
      if (want !== null) {
        withLevels++;
        // area_m2 and floor_area_m2 are each rounded to 0.01 m² from the unrounded footprint
        const floor = r.props.floor_area_m2 as number;
        assert.ok(Math.abs(floor - (r.props.area_m2 as number) * want) <= 0.005 * want + 0.005, `${r.props.id} floor area ${floor} vs ${r.props.area_m2} × ${want}`);
      } else assert.equal(r.props.floor_area_m2, null);
    }
    console.log(`# ${name} buildings: ${rows.length} residential (osmium: ${expected.ids.size}), ${withLevels} with levels; ${expected.missing} with missing nodes, ${expected.notArea} not areas`);
  });

  test(`${name}: areas agree with SpatiaLite's ellipsoidal ST_Area of osmium's polygons`, { skip: !present ? `${file} not found` : skipUnless(HAVE_OSMIUM && HAVE_OGR, HAVE_OSMIUM ? NO_OGR : NO_OSMIUM) }, async () => {
    const seq = path.join(tmp, `${name}.geojsonseq`);
    run('osmium', ['export', file, '--geometry-types=polygon', '-u', 'type_id', '-f', 'geojsonseq', '-O', '-o', seq]);
    const layer = path.basename(seq, '.geojsonseq');
    const csv = run('ogr2ogr', ['-f', 'CSV', '/vsistdout/', seq, '-dialect', 'SQLite', '-sql', `SELECT id, ST_Area(geometry, 1) AS a FROM "${layer}"`]);
    const reference = new Map<string, number>();
    for (const line of csv.split('\n').slice(1)) {
      const [id, a] = line.split(',');
      if (id?.startsWith('a') && Number(id.slice(1)) % 2 === 0) reference.set(`way/${Number(id.slice(1)) / 2}`, Number(a)); // area id = 2 × way id
    }
    let compared = 0;
    let worst = 0;
    let total = 0;
    for (const kind of ['facilities', 'buildings'] as const) {
      const { rows } = await cached(file, kind);
      for (const r of rows) {
        if (r.geometry?.type !== 'Polygon') continue;
        total++;
        const want = reference.get(String(r.props.id));
        if (want === undefined) continue; // osmium refuses invalid rings (self-intersections); the importer reports them
        compared++;
        const rel = Math.abs((r.props.area_m2 as number) - want) / want;
        worst = Math.max(worst, want > 10 ? rel : 0);
        assert.ok(Math.abs((r.props.area_m2 as number) - want) <= Math.max(0.01, 1e-3 * want), `${r.props.id}: area ${r.props.area_m2} m², SpatiaLite ${want} m²`);
      }
    }
    assert.ok(compared >= 0.9 * total, `${compared} of ${total} polygons found in osmium's export`);
    console.log(`# ${name}: ${compared}/${total} areas compared with SpatiaLite ST_Area(g, 1); worst relative difference ${(worst * 100).toExponential(2)} %`);
  });
}

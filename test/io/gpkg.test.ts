/**
 * GeoPackage writer/reader (src/io/gpkg.ts) against GDAL, the reference implementation:
 *  1. files we write are opened by GDAL (ogrinfo) with the right layers, geometry types, counts, extents, SRS,
 *     attribute values and a working spatial index, pass SQLite's and GDAL's checks (validate_gpkg.py when
 *     python3-gdal is installed) and stay valid when GDAL appends to them;
 *  2. our own files read back identical;
 *  3. files written by ogr2ogr (2D, XYZ, XYM, XYZM) read back as the GeoJSON they came from, Z/M dropped;
 *     both byte orders and envelope indicators 0-4 decode;
 *  4. bad input fails with a GeoPackageError that names the file (and layer/feature).
 *
 *   node --import tsx --test test/io/gpkg.test.ts
 *
 * Tests needing GDAL (ogrinfo, ogr2ogr from gdal-bin) are skipped with the reason when it is absent, except
 * with CI=true, where they fail.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Feature, Geometry, Position } from 'geojson';
import {
  decodeGeoPackageGeometry,
  encodeGeoPackageGeometry,
  GeoPackageError,
  listGeoPackageLayers,
  readGeoPackageLayer,
  writeGeoPackage,
  type GpkgLayer,
} from '../../src/io/gpkg.ts';
import type { ErrorKey } from '../../src/errors.ts';

const CI = process.env.CI === 'true';
const HAVE_GDAL = !spawnSync('ogrinfo', ['--version']).error && !spawnSync('ogr2ogr', ['--version']).error;
const NO_GDAL = 'GDAL not installed (apt-get install gdal-bin); cross-checks with ogrinfo/ogr2ogr skipped';
const gdal = { skip: !HAVE_GDAL && !CI ? NO_GDAL : false };
/** A python3 that has GDAL's GeoPackage validator (python3-gdal), if any. */
const VALIDATOR_PYTHON = ['python3', '/usr/bin/python3'].find(
  (py) => spawnSync(py, ['-c', 'import osgeo_utils.samples.validate_gpkg']).status === 0,
);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lifecircle-gpkg-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const at = (name: string) => path.join(tmp, name);

// ---------------------------------------------------------------------------------------------------------
// Helpers

/** Runs a GDAL tool; fails on a non-zero exit or any ERROR/Warning line on stderr. */
function run(tool: 'ogrinfo' | 'ogr2ogr', args: string[]): string {
  const r = spawnSync(tool, args, { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.error) assert.fail(`${tool} could not run (${r.error.message}); ${CI ? 'CI=true requires GDAL (gdal-bin)' : NO_GDAL}`);
  assert.equal(r.status, 0, `${tool} ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  const bad = r.stderr.split('\n').filter((l) => /ERROR|Warning/i.test(l));
  assert.deepEqual(bad, [], `${tool} ${args.join(' ')} reported problems on stderr`);
  return r.stdout;
}

/** All x, y in the order WKT lists them. */
function flat(g: Geometry): number[] {
  const out: number[] = [];
  const walk = (c: unknown): void => {
    if (typeof c === 'number') out.push(c);
    else if (Array.isArray(c)) {
      if (c.length > 0 && typeof c[0] === 'number') out.push(c[0] as number, c[1] as number);
      else c.forEach(walk);
    }
  };
  if (g.type === 'GeometryCollection') g.geometries.forEach((m) => out.push(...flat(m)));
  else walk(g.coordinates);
  return out;
}

function extentOf(features: Iterable<Feature>): [number, number, number, number] {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const f of features) {
    if (!f.geometry) continue;
    const c = flat(f.geometry);
    for (let i = 0; i < c.length; i += 2) {
      x0 = Math.min(x0, c[i]);
      x1 = Math.max(x1, c[i]);
      y0 = Math.min(y0, c[i + 1]);
      y1 = Math.max(y1, c[i + 1]);
    }
  }
  return [x0, y0, x1, y1];
}

const WKT_TYPE: Record<string, string> = {
  Point: 'POINT',
  LineString: 'LINESTRING',
  Polygon: 'POLYGON',
  MultiPoint: 'MULTIPOINT',
  MultiLineString: 'MULTILINESTRING',
  MultiPolygon: 'MULTIPOLYGON',
  GeometryCollection: 'GEOMETRYCOLLECTION',
};

function assertClose(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: got ${actual}, expected ${expected} (±${tol})`);
}

/** Compares a WKT from ogrinfo with a GeoJSON geometry: type keyword and every ordinate within 1e-9. */
function assertWkt(wkt: string, g: Geometry, what: string): void {
  assert.equal(wkt.split(/[ (]/)[0], WKT_TYPE[g.type], `${what}: WKT type of ${wkt.slice(0, 60)}`);
  const nums = (wkt.match(/-?\d+(?:\.\d+)?(?:e[-+]?\d+)?/gi) ?? []).map(Number);
  const want = flat(g);
  assert.equal(nums.length, want.length, `${what}: number of ordinates in ${wkt.slice(0, 80)}`);
  nums.forEach((v, i) => assertClose(v, want[i], 1e-9, `${what} ordinate ${i}`));
}

interface OgrLayerSummary {
  geometry: string;
  count: number;
  extent: number[] | null;
  text: string;
  fields: Record<string, string>;
}

/** Parses `ogrinfo -ro -so -al` output into per-layer summaries. */
function parseSummary(out: string): Map<string, OgrLayerSummary> {
  const layers = new Map<string, OgrLayerSummary>();
  for (const block of out.split(/^Layer name: /m).slice(1)) {
    const name = block.split('\n')[0].trim();
    const ext = block.match(/^Extent: \(([^,]+), ([^)]+)\) - \(([^,]+), ([^)]+)\)$/m);
    const fields: Record<string, string> = {};
    for (const m of block.matchAll(/^(\w+): (\w+) \(\d+\.\d+\)$/gm)) fields[m[1]] = m[2];
    layers.set(name, {
      geometry: block.match(/^Geometry: (.+)$/m)?.[1] ?? '',
      count: Number(block.match(/^Feature Count: (\d+)$/m)?.[1]),
      extent: ext ? ext.slice(1).map(Number) : null,
      text: block,
      fields,
    });
  }
  return layers;
}

interface OgrFeature {
  attrs: Record<string, { type: string; value: string }>;
  wkt: string | null;
}

/** Parses `ogrinfo -ro -al -q` output: layer → fid → attributes and geometry WKT. */
function parseFeatures(out: string): Map<string, Map<number, OgrFeature>> {
  const layers = new Map<string, Map<number, OgrFeature>>();
  let layer: Map<number, OgrFeature> | undefined;
  let feature: OgrFeature | undefined;
  for (const line of out.split('\n')) {
    let m: RegExpMatchArray | null;
    if ((m = line.match(/^Layer name: (.+)$/))) {
      layer = new Map();
      layers.set(m[1].trim(), layer);
    } else if ((m = line.match(/^OGRFeature\((.+)\):(\d+)$/))) {
      feature = { attrs: {}, wkt: null };
      layer!.set(Number(m[2]), feature);
    } else if (feature && (m = line.match(/^ {2}(\w+) \((\w+)\) = (.*)$/))) {
      feature.attrs[m[1]] = { type: m[2], value: m[3] };
    } else if (feature && (m = line.match(/^ {2}([A-Z]+ ?(?:\(|EMPTY).*)$/))) {
      feature.wkt = m[1];
    }
  }
  return layers;
}

function expectError(fn: () => unknown, key: ErrorKey, file: string, pattern?: RegExp): GeoPackageError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof GeoPackageError, `expected a GeoPackageError, got ${caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught)}`);
  assert.equal(caught.key, key, caught.message);
  assert.ok(caught.message.startsWith(file), `message should start with the file name: ${caught.message}`);
  if (pattern) assert.match(caught.message, pattern);
  return caught;
}

/** Deterministic pseudo-random numbers in [0, 1). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const pt = (x: number, y: number, properties: Record<string, unknown> | null = {}): Feature => ({ type: 'Feature', geometry: { type: 'Point', coordinates: [x, y] }, properties });
const feat = (geometry: Geometry | null, properties: Record<string, unknown> | null = {}): Feature => ({ type: 'Feature', geometry: geometry as Geometry, properties });

// ---------------------------------------------------------------------------------------------------------
// Fixture: one file with every layer kind

const FACILITIES: Feature[] = [
  pt(116.397428, 39.90923, { name: '社区卫生服务中心', beds: 12, area: 123.5 }),
  pt(116.4101, 39.9163, { name: '幼儿园 "阳光" & <Kindergarten>', beds: null, area: 0.1 + 0.2 }),
  pt(116.38, 39.92, { name: null, beds: 0, area: -1.25e-7 }),
  feat(null, { name: '无位置 (no location)', beds: 2 ** 40, area: null }),
  pt(116.44, 39.88, null),
];

const PARKS: Feature[] = [
  feat(
    {
      type: 'Polygon',
      coordinates: [
        [[116.3, 39.9], [116.32, 39.9], [116.32, 39.92], [116.3, 39.92], [116.3, 39.9]],
        [[116.305, 39.905], [116.305, 39.91], [116.31, 39.91], [116.31, 39.905], [116.305, 39.905]],
        [[116.312, 39.912], [116.312, 39.915], [116.315, 39.915], [116.312, 39.912]],
      ],
    },
    { name: '天坛公园' },
  ),
  feat({ type: 'Polygon', coordinates: [[[116.45, 39.95], [116.47, 39.95], [116.46, 39.97], [116.45, 39.95]]] }, { name: 'Triangle park' }),
];

const DISTRICTS: Feature[] = [
  feat(
    {
      type: 'MultiPolygon',
      coordinates: [
        [
          [[116.2, 39.8], [116.3, 39.8], [116.3, 39.9], [116.2, 39.9], [116.2, 39.8]],
          [[116.22, 39.82], [116.22, 39.84], [116.24, 39.84], [116.24, 39.82], [116.22, 39.82]],
        ],
        [[[116.35, 39.85], [116.4, 39.85], [116.4, 39.88], [116.35, 39.85]]],
      ],
    },
    { code: 110101, name: '东城区' },
  ),
  feat({ type: 'MultiPolygon', coordinates: [[[[116.5, 40.0], [116.6, 40.0], [116.6, 40.1], [116.5, 40.0]]]] }, { code: 110105, name: '朝阳区' }),
];

const ROADS: Feature[] = [
  feat({ type: 'LineString', coordinates: [[116.39, 39.9], [116.4, 39.905], [116.41, 39.9]] }, { name: '长安街', lanes: 10, speed: 60 }),
  feat({ type: 'LineString', coordinates: [[116.3, 39.95], [116.31, 39.96]] }, { name: 'Ring Rd', lanes: null, speed: 80.5 }),
  feat({ type: 'LineString', coordinates: [[-0.1276, 51.5072], [-0.12, 51.51]] }, { name: 'Strand', lanes: 2, speed: null }),
];

const MIXED: Feature[] = [
  feat({ type: 'Point', coordinates: [1.5, 2.5] }, { kind: 'point' }),
  feat({ type: 'MultiPoint', coordinates: [[1, 2], [3, 4]] }, { kind: 'multipoint' }),
  feat({ type: 'MultiLineString', coordinates: [[[0, 0], [1, 1]], [[2, 2], [3, 3], [4, 2]]] }, { kind: 'multilinestring' }),
  feat({ type: 'Polygon', coordinates: [[[10, 10], [11, 10], [11, 11], [10, 10]]] }, { kind: 'polygon' }),
  feat(
    { type: 'GeometryCollection', geometries: [{ type: 'Point', coordinates: [5, 6] }, { type: 'LineString', coordinates: [[5, 6], [7, 8]] }] },
    { kind: 'collection' },
  ),
];

const GRID: Feature[] = (() => {
  const r = lcg(42);
  const out: Feature[] = [];
  for (let i = 0; i < 5000; i++) out.push(pt(+(116.2 + 0.4 * r()).toFixed(6), +(39.7 + 0.4 * r()).toFixed(6), { idx: i }));
  return out;
})();

const ATTRIBUTION = '© OpenStreetMap contributors, ODbL';

const LAYERS: GpkgLayer[] = [
  {
    name: 'facilities',
    geometryType: 'POINT',
    description: ATTRIBUTION,
    columns: [
      { name: 'name', type: 'TEXT' },
      { name: 'beds', type: 'INTEGER' },
      { name: 'area', type: 'REAL' },
    ],
    features: FACILITIES,
  },
  { name: 'parks', geometryType: 'POLYGON', columns: [{ name: 'name', type: 'TEXT' }], features: PARKS },
  {
    name: 'districts',
    geometryType: 'MULTIPOLYGON',
    columns: [
      { name: 'code', type: 'INTEGER' },
      { name: 'name', type: 'TEXT' },
    ],
    features: DISTRICTS,
  },
  {
    name: 'roads',
    geometryType: 'LINESTRING',
    columns: [
      { name: 'name', type: 'TEXT' },
      { name: 'lanes', type: 'INTEGER' },
      { name: 'speed', type: 'REAL' },
    ],
    features: ROADS,
  },
  { name: 'mixed', geometryType: 'GEOMETRY', columns: [{ name: 'kind', type: 'TEXT' }], features: MIXED },
  // A generator, as streaming callers pass features.
  { name: 'grid', geometryType: 'POINT', columns: [{ name: 'idx', type: 'INTEGER' }], features: (function* () { yield* GRID; })() },
];
const FEATURES: Record<string, Feature[]> = { facilities: FACILITIES, parks: PARKS, districts: DISTRICTS, roads: ROADS, mixed: MIXED, grid: GRID };
const OGR_GEOMETRY: Record<string, string> = {
  facilities: 'Point',
  parks: 'Polygon',
  districts: 'Multi Polygon',
  roads: 'Line String',
  mixed: 'Unknown (any)',
  grid: 'Point',
};

const OURS = at('out.gpkg');
const COUNTS = writeGeoPackage(OURS, LAYERS);

// ---------------------------------------------------------------------------------------------------------
// Structure (no GDAL needed)

test('writes the required GeoPackage structure', () => {
  assert.deepEqual(COUNTS, { facilities: 5, parks: 2, districts: 2, roads: 3, mixed: 5, grid: 5000 });
  const db = new Database(OURS, { readonly: true });
  try {
    assert.equal(db.pragma('application_id', { simple: true }), 0x47504b47);
    assert.equal(db.pragma('user_version', { simple: true }), 10300);
    assert.equal(fs.readFileSync(OURS).subarray(68, 72).toString('latin1'), 'GPKG');
    const srs = db.prepare('SELECT srs_id, organization, organization_coordsys_id, definition FROM gpkg_spatial_ref_sys ORDER BY srs_id').all() as Array<Record<string, unknown>>;
    assert.deepEqual(srs.map((r) => [r.srs_id, r.organization, r.organization_coordsys_id]), [[-1, 'NONE', -1], [0, 'NONE', 0], [4326, 'EPSG', 4326]]);
    assert.equal(srs[0].definition, 'undefined');
    assert.match(String(srs[2].definition), /^GEOGCS\["WGS 84".*AUTHORITY\["EPSG","4326"\]\]$/);

    const contents = db.prepare('SELECT * FROM gpkg_contents ORDER BY rowid').all() as Array<Record<string, unknown>>;
    assert.deepEqual(contents.map((c) => c.table_name), LAYERS.map((l) => l.name));
    for (const c of contents) {
      assert.equal(c.data_type, 'features');
      assert.equal(c.identifier, c.table_name);
      assert.equal(c.srs_id, 4326);
      assert.match(String(c.last_change), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      const [x0, y0, x1, y1] = extentOf(FEATURES[c.table_name as string]);
      assert.deepEqual([c.min_x, c.min_y, c.max_x, c.max_y], [x0, y0, x1, y1], `extent of ${c.table_name}`);
    }
    assert.equal(contents[0].description, ATTRIBUTION);
    assert.equal(contents[1].description, '');

    const geomCols = db.prepare('SELECT table_name, column_name, geometry_type_name, srs_id, z, m FROM gpkg_geometry_columns').all();
    assert.deepEqual(
      geomCols,
      LAYERS.map((l) => ({ table_name: l.name, column_name: 'geom', geometry_type_name: l.geometryType, srs_id: 4326, z: 0, m: 0 })),
    );
    const ext = db.prepare("SELECT table_name, column_name, scope FROM gpkg_extensions WHERE extension_name = 'gpkg_rtree_index'").all();
    assert.deepEqual(ext, LAYERS.map((l) => ({ table_name: l.name, column_name: 'geom', scope: 'write-only' })));

    const sql = (db.prepare("SELECT sql FROM sqlite_master WHERE name = 'facilities'").get() as { sql: string }).sql;
    assert.match(sql, /"fid" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "geom" POINT, "name" TEXT, "beds" INTEGER, "area" REAL/);
    const triggers = db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'grid' ORDER BY name").all() as Array<{ name: string }>;
    assert.deepEqual(
      triggers.map((t) => t.name),
      ['delete', 'insert', 'update1', 'update2', 'update3', 'update4'].map((s) => `rtree_grid_geom_${s}`),
    );

    // The packed spatial index: SQLite's own checks, and queries agree with brute force.
    assert.deepEqual(db.pragma('integrity_check'), [{ integrity_check: 'ok' }]);
    for (const l of LAYERS) assert.equal((db.prepare('SELECT rtreecheck(?) AS c').get(`rtree_${l.name}_geom`) as { c: string }).c, 'ok', l.name);
    const [qx0, qy0, qx1, qy1] = [116.3, 39.8, 116.4, 39.9];
    const hits = db
      .prepare('SELECT id FROM rtree_grid_geom WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ? ORDER BY id')
      .all(qx0, qx1, qy0, qy1) as Array<{ id: number }>;
    const brute = GRID.map((f, i) => ({ c: (f.geometry as { coordinates: Position }).coordinates, id: i + 1 })).filter(
      ({ c }) => c[0] >= qx0 && c[0] <= qx1 && c[1] >= qy0 && c[1] <= qy1,
    );
    // float32 boxes are rounded outwards: never a miss, at most boundary extras.
    const hitIds = new Set(hits.map((h) => h.id));
    for (const b of brute) assert.ok(hitIds.has(b.id), `rtree misses fid ${b.id}`);
    assert.ok(hits.length - brute.length <= 2, `${hits.length} rtree hits for ${brute.length} points`);
    assert.ok(brute.length > 100);
    const depth = (db.prepare('SELECT data FROM rtree_grid_geom_node WHERE nodeno = 1').get() as { data: Buffer }).data.readUInt16BE(0);
    assert.equal(depth, 2, '5000 entries need a tree of depth 2 (51 cells per node)');
  } finally {
    db.close();
  }
});

// ---------------------------------------------------------------------------------------------------------
// 1. GDAL reads our file

test('GDAL opens our file: geometry types, counts, extents, SRS, fields, description', gdal, () => {
  const summary = parseSummary(run('ogrinfo', ['-ro', '-so', '-al', OURS]));
  assert.deepEqual([...summary.keys()], LAYERS.map((l) => l.name));
  for (const l of LAYERS) {
    const s = summary.get(l.name)!;
    const features = FEATURES[l.name];
    assert.equal(s.geometry, OGR_GEOMETRY[l.name], `${l.name} geometry type`);
    assert.equal(s.count, features.length, `${l.name} feature count`);
    const want = extentOf(features);
    assert.ok(s.extent, `${l.name} has an extent`);
    // ogrinfo -so prints the extent with %f: 6 decimals.
    s.extent!.forEach((v, i) => assertClose(v, [want[0], want[1], want[2], want[3]][i], 5e-7, `${l.name} extent[${i}]`));
    assert.match(s.text, /ID\["EPSG",4326\]\]/, `${l.name} SRS is EPSG:4326`);
    assert.match(s.text, /^FID Column = fid$/m);
    assert.match(s.text, /^Geometry Column = geom$/m);
    const ogrType = { TEXT: 'String', INTEGER: 'Integer64', REAL: 'Real' };
    assert.deepEqual(s.fields, Object.fromEntries(l.columns.map((c) => [c.name, ogrType[c.type]])), `${l.name} fields`);
  }
  assert.match(summary.get('facilities')!.text, /^ {2}DESCRIPTION=© OpenStreetMap contributors, ODbL$/m);

  // Extents to 1e-9: the stored gpkg_contents extent and GDAL's own envelope functions over the geometries.
  for (const l of LAYERS) {
    const want = extentOf(FEATURES[l.name]);
    const stored = parseFeatures(run('ogrinfo', ['-ro', '-q', OURS, '-sql', `SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = '${l.name}'`]));
    const row = [...stored.get('SELECT')!.values()][0].attrs;
    ['min_x', 'min_y', 'max_x', 'max_y'].forEach((k, i) => assertClose(Number(row[k].value), want[i], 1e-9, `${l.name} stored ${k}`));
    const computed = parseFeatures(
      run('ogrinfo', ['-ro', '-q', OURS, '-sql', `SELECT MIN(ST_MinX(geom)) AS x0, MIN(ST_MinY(geom)) AS y0, MAX(ST_MaxX(geom)) AS x1, MAX(ST_MaxY(geom)) AS y1 FROM "${l.name}"`]),
    );
    const env = [...computed.get('SELECT')!.values()][0].attrs;
    ['x0', 'y0', 'x1', 'y1'].forEach((k, i) => assertClose(Number(env[k].value), want[i], 1e-9, `${l.name} GDAL ST_${k}`));
  }
});

test('GDAL reads every feature: attribute values (Chinese text, NULLs) and geometries', gdal, () => {
  const layers = parseFeatures(run('ogrinfo', ['-ro', '-al', '-q', OURS]));
  for (const l of LAYERS) {
    const got = layers.get(l.name)!;
    const features = FEATURES[l.name];
    assert.equal(got.size, features.length, l.name);
    features.forEach((f, i) => {
      const g = got.get(i + 1)!;
      assert.ok(g, `${l.name} fid ${i + 1}`);
      if (f.geometry) assertWkt(g.wkt ?? '', f.geometry, `${l.name} fid ${i + 1}`);
      else assert.equal(g.wkt, null, `${l.name} fid ${i + 1} has no geometry`);
      for (const c of l.columns) {
        const want = f.properties?.[c.name] ?? null;
        const value = g.attrs[c.name]?.value;
        if (want === null) assert.equal(value, '(null)', `${l.name} fid ${i + 1} ${c.name}`);
        else if (c.type === 'TEXT') assert.equal(value, want, `${l.name} fid ${i + 1} ${c.name}`);
        else assertClose(Number(value), want as number, 1e-9 * Math.max(1, Math.abs(want as number)), `${l.name} fid ${i + 1} ${c.name}`);
      }
    });
  }
  const f1 = layers.get('facilities')!.get(1)!.attrs;
  assert.deepEqual(f1.name, { type: 'String', value: '社区卫生服务中心' });
  assert.deepEqual(f1.beds, { type: 'Integer64', value: '12' });
  assert.deepEqual(f1.area, { type: 'Real', value: '123.5' });
  assert.equal(layers.get('facilities')!.get(4)!.attrs.beds.value, '1099511627776');
  assert.equal(layers.get('parks')!.get(1)!.wkt, 'POLYGON ((116.3 39.9,116.32 39.9,116.32 39.92,116.3 39.92,116.3 39.9),(116.305 39.905,116.305 39.91,116.31 39.91,116.31 39.905,116.305 39.905),(116.312 39.912,116.312 39.915,116.315 39.915,116.312 39.912))');
});

test('GDAL uses our spatial index; SQLite integrity checks pass inside GDAL', gdal, () => {
  const [x0, y0, x1, y1] = [116.3, 39.8, 116.4, 39.9];
  const inBox = GRID.filter((f) => {
    const [x, y] = (f.geometry as { coordinates: Position }).coordinates;
    return x >= x0 && x <= x1 && y >= y0 && y <= y1;
  }).length;
  const filtered = parseSummary(run('ogrinfo', ['-ro', '-so', OURS, 'grid', '-spat', String(x0), String(y0), String(x1), String(y1)]));
  assert.equal(filtered.get('grid')!.count, inBox);
  const parks = parseSummary(run('ogrinfo', ['-ro', '-so', OURS, 'parks', '-spat', '116.44', '39.94', '116.5', '40']));
  assert.equal(parks.get('parks')!.count, 1);
  // (A statement returning no rows prints no layer.)
  const check = (sql: string) => [...(parseFeatures(run('ogrinfo', ['-ro', '-q', OURS, '-sql', sql])).get('SELECT')?.values() ?? [])].map((f) => Object.values(f.attrs)[0].value);
  assert.deepEqual(check('PRAGMA integrity_check'), ['ok']);
  assert.deepEqual(check('PRAGMA foreign_key_check'), []);
  assert.deepEqual(check("SELECT rtreecheck('rtree_grid_geom') AS c"), ['ok']);
  // GDAL's HasSpatialIndex() sees the extension row and the table.
  assert.deepEqual(check("SELECT HasSpatialIndex('grid', 'geom') AS c"), ['1']);
});

test('GDAL GeoPackage validator (validate_gpkg.py --extra) finds nothing', { skip: VALIDATOR_PYTHON ? false : 'python3-gdal (osgeo_utils validate_gpkg.py) not installed; GDAL validator skipped' }, () => {
  const r = spawnSync(VALIDATOR_PYTHON!, ['-m', 'osgeo_utils.samples.validate_gpkg', '--extra', '-k', OURS], { encoding: 'utf8' });
  assert.equal(`${r.stdout}${r.stderr}`.trim(), '', 'validator output');
  assert.equal(r.status, 0);
});

test('GDAL can append to our file: its rtree triggers keep the packed index valid', gdal, () => {
  const file = at('append.gpkg');
  fs.copyFileSync(OURS, file);
  const extra = at('extra.geojson');
  fs.writeFileSync(
    extra,
    JSON.stringify({
      type: 'FeatureCollection',
      features: Array.from({ length: 300 }, (_, i) => pt(116.35 + i * 1e-4, 39.85, { idx: 10000 + i })),
    }),
  );
  run('ogr2ogr', ['-update', '-append', file, extra, '-nln', 'grid']);
  const summary = parseSummary(run('ogrinfo', ['-ro', '-so', file, 'grid', '-spat', '116.349', '39.849', '116.351', '39.851']));
  const before = GRID.filter((f) => {
    const [x, y] = (f.geometry as { coordinates: Position }).coordinates;
    return x >= 116.349 && x <= 116.351 && y >= 39.849 && y <= 39.851;
  }).length;
  assert.equal(summary.get('grid')!.count, before + 11); // 116.3490 .. 116.3510 step 1e-4 → 116.35..116.351: 11 points
  const db = new Database(file, { readonly: true });
  try {
    assert.equal((db.prepare("SELECT rtreecheck('rtree_grid_geom') AS c").get() as { c: string }).c, 'ok');
    assert.equal((db.prepare('SELECT count(*) AS n FROM rtree_grid_geom').get() as { n: number }).n, 5300);
  } finally {
    db.close();
  }
  assert.equal(listGeoPackageLayers(file).find((l) => l.name === 'grid')!.count, 5300);
});

// ---------------------------------------------------------------------------------------------------------
// 2. Our own files read back

test('reads back its own file: identical geometries and properties; listGeoPackageLayers', () => {
  assert.deepEqual(
    listGeoPackageLayers(OURS),
    LAYERS.map((l) => ({
      name: l.name,
      geometryType: l.geometryType,
      srsId: 4326,
      count: FEATURES[l.name].length,
      columns: l.columns.map((c) => c.name),
      description: l.description ?? '',
    })),
  );
  for (const l of LAYERS) {
    const got = [...readGeoPackageLayer(OURS, l.name)];
    const want = FEATURES[l.name];
    assert.equal(got.length, want.length, l.name);
    got.forEach((f, i) => {
      assert.equal(f.type, 'Feature');
      assert.equal(f.id, i + 1);
      assert.deepEqual(f.geometry, want[i].geometry ?? null, `${l.name} feature ${i + 1} geometry`);
      assert.deepEqual(f.properties, Object.fromEntries(l.columns.map((c) => [c.name, want[i].properties?.[c.name] ?? null])), `${l.name} feature ${i + 1} properties`);
    });
  }
  // The layer name matches case-insensitively, as SQLite table names do; stopping early is fine.
  const it = readGeoPackageLayer(OURS, 'GRID');
  assert.deepEqual(it.next().value?.properties, { idx: 0 });
  it.return(undefined);
});

test('empty and null geometries round-trip, and GDAL reads them', (t) => {
  const file = at('empty.gpkg');
  const features: Feature[] = [
    feat({ type: 'Point', coordinates: [] }),
    feat({ type: 'LineString', coordinates: [] }),
    feat({ type: 'Polygon', coordinates: [] }),
    feat({ type: 'MultiPolygon', coordinates: [] }),
    feat({ type: 'GeometryCollection', geometries: [] }),
    feat(null),
    feat({ type: 'Point', coordinates: [3, 4] }),
  ];
  assert.deepEqual(writeGeoPackage(file, [{ name: 'e', geometryType: 'GEOMETRY', columns: [], features }]), { e: 7 });
  const got = [...readGeoPackageLayer(file, 'e')].map((f) => f.geometry);
  assert.deepEqual(got, features.map((f) => f.geometry ?? null));
  const blob = encodeGeoPackageGeometry({ type: 'LineString', coordinates: [] })!;
  assert.equal(blob[3], 0x11, 'little-endian, no envelope, empty flag');
  assert.equal(decodeGeoPackageGeometry(blob).empty, true);
  const db = new Database(file, { readonly: true });
  try {
    assert.equal((db.prepare('SELECT count(*) AS n FROM rtree_e_geom').get() as { n: number }).n, 1, 'only the non-empty geometry is indexed');
    assert.deepEqual(db.prepare('SELECT min_x, min_y, max_x, max_y FROM gpkg_contents').get(), { min_x: 3, min_y: 4, max_x: 3, max_y: 4 });
  } finally {
    db.close();
  }
  if (!HAVE_GDAL && !CI) return void t.diagnostic(NO_GDAL);
  const wkts = [...parseFeatures(run('ogrinfo', ['-ro', '-al', '-q', file])).get('e')!.values()].map((f) => f.wkt);
  assert.deepEqual(wkts, ['POINT EMPTY', 'LINESTRING EMPTY', 'POLYGON EMPTY', 'MULTIPOLYGON EMPTY', 'GEOMETRYCOLLECTION EMPTY', null, 'POINT (3 4)']);
});

test('batched inserts and the packed index at 20,011 features (not a multiple of any batch size)', () => {
  // Correctness only: write speed (1 M points) is measured ad hoc, never asserted in tests.
  const file = at('many.gpkg');
  const n = 20_011;
  const r = lcg(7);
  function* gen(): Generator<Feature> {
    for (let i = 0; i < n; i++) yield pt(-180 + 360 * r(), -90 + 180 * r(), { i, s: `p${i}`, v: i / 7 });
  }
  const counts = writeGeoPackage(file, [
    { name: 'p', geometryType: 'POINT', columns: [{ name: 'i', type: 'INTEGER' }, { name: 's', type: 'TEXT' }, { name: 'v', type: 'REAL' }], features: gen() },
  ]);
  assert.deepEqual(counts, { p: n });
  let k = 0;
  for (const f of readGeoPackageLayer(file, 'p')) {
    assert.equal(f.id, k + 1);
    assert.deepEqual(f.properties, { i: k, s: `p${k}`, v: k / 7 });
    k++;
  }
  assert.equal(k, n);
  const db = new Database(file, { readonly: true });
  try {
    assert.equal((db.prepare("SELECT rtreecheck('rtree_p_geom') AS c").get() as { c: string }).c, 'ok');
    assert.equal((db.prepare('SELECT count(*) AS n FROM rtree_p_geom_rowid').get() as { n: number }).n, n);
  } finally {
    db.close();
  }
});

// ---------------------------------------------------------------------------------------------------------
// 3. Files written by GDAL

function ogr2ogr(name: string, geojson: object, extra: string[] = []): string {
  const src = at(`${name}.geojson`);
  const dst = at(`${name}.gpkg`);
  fs.writeFileSync(src, JSON.stringify(geojson));
  run('ogr2ogr', ['-f', 'GPKG', dst, src, ...extra]);
  return dst;
}

test('reads ogr2ogr points: typed attributes (text, integer, real, boolean, null), null geometry', gdal, () => {
  const features: Feature[] = [
    pt(116.397, 39.909, { name: '社区食堂', kind: 3, score: 4.75, open: true }),
    pt(-0.1276, 51.5072, { name: 'Library', kind: -12, score: 0.1, open: false }),
    feat(null, { name: null, kind: null, score: null, open: null }),
    pt(179.999999, -89.5, { name: 'far', kind: 2147483647, score: -1e-12, open: true }),
  ];
  const file = ogr2ogr('gdal_points', { type: 'FeatureCollection', name: 'sites', features });
  assert.deepEqual(listGeoPackageLayers(file), [{ name: 'sites', geometryType: 'POINT', srsId: 4326, count: 4, columns: ['name', 'kind', 'score', 'open'], description: '' }]);
  const got = [...readGeoPackageLayer(file, 'sites')];
  assert.deepEqual(
    got,
    features.map((f, i) => ({ type: 'Feature', id: i + 1, geometry: f.geometry ?? null, properties: f.properties })),
  );
});

const MIXED_GDAL: Feature[] = [
  feat(PARKS[0].geometry, { n: 1 }),
  feat(DISTRICTS[0].geometry, { n: 2 }),
  feat(ROADS[0].geometry, { n: 3 }),
  ...MIXED.map((f, i) => feat(f.geometry, { n: 4 + i })),
];

test('reads ogr2ogr files with mixed geometry types (GEOMETRY layer)', gdal, () => {
  const file = ogr2ogr('gdal_mixed', { type: 'FeatureCollection', features: MIXED_GDAL }, ['-nln', 'things']);
  const [info] = listGeoPackageLayers(file);
  assert.deepEqual(info, { name: 'things', geometryType: 'GEOMETRY', srsId: 4326, count: MIXED_GDAL.length, columns: ['n'], description: '' });
  const got = [...readGeoPackageLayer(file, 'things')];
  assert.deepEqual(got.map((f) => f.geometry), MIXED_GDAL.map((f) => f.geometry));
  assert.deepEqual(got.map((f) => f.properties), MIXED_GDAL.map((f) => f.properties));
});

/** Adds a Z ordinate to every position. */
function with3d(g: Geometry): Geometry {
  const lift = (c: unknown, depth: number): unknown => (depth === 0 ? [...(c as number[]), 100 + (c as number[])[0]] : (c as unknown[]).map((x) => lift(x, depth - 1)));
  const depth: Record<string, number> = { Point: 0, LineString: 1, MultiPoint: 1, Polygon: 2, MultiLineString: 2, MultiPolygon: 3 };
  if (g.type === 'GeometryCollection') return { type: 'GeometryCollection', geometries: g.geometries.map(with3d) };
  return { type: g.type, coordinates: lift(g.coordinates, depth[g.type]) } as Geometry;
}

/** WKB geometry type code of every non-null geometry in a GDAL-written table. */
function wkbTypes(file: string, table: string): number[] {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare(`SELECT geom FROM "${table}" WHERE geom IS NOT NULL`).all() as Array<{ geom: Buffer }>).map(({ geom }) => {
      const env = (geom[3] >> 1) & 7;
      const off = 8 + [0, 32, 48, 48, 64][env];
      return geom[off] === 1 ? geom.readUInt32LE(off + 1) : geom.readUInt32BE(off + 1);
    });
  } finally {
    db.close();
  }
}

for (const [dim, lo, hi] of [['XYZ', 1000, 2000], ['XYM', 2000, 3000], ['XYZM', 3000, 4000]] as const) {
  test(`reads ogr2ogr -dim ${dim} files: ${dim.slice(2)} dropped`, gdal, () => {
    const features3d = MIXED_GDAL.map((f) => feat(with3d(f.geometry!), f.properties));
    const file = ogr2ogr(`gdal_${dim}`, { type: 'FeatureCollection', features: features3d }, ['-dim', dim, '-nln', 'things']);
    const types = wkbTypes(file, 'things');
    assert.equal(types.length, MIXED_GDAL.length);
    for (const t of types) assert.ok(t > lo && t < hi, `WKB type ${t} is an ISO ${dim} code`);
    const [info] = listGeoPackageLayers(file);
    assert.equal(info.geometryType, 'GEOMETRY');
    assert.equal(info.count, MIXED_GDAL.length);
    const got = [...readGeoPackageLayer(file, 'things')];
    assert.deepEqual(got.map((f) => f.geometry), MIXED_GDAL.map((f) => f.geometry));
  });
}

// ---------------------------------------------------------------------------------------------------------
// Geometry blobs: byte orders, envelope indicators 0-4, ISO and EWKB Z/M (independent encoder)

class Bytes {
  readonly a: number[] = [];
  u8(v: number) {
    this.a.push(v);
  }
  u32(v: number, le: boolean) {
    const b = Buffer.alloc(4);
    if (le) b.writeUInt32LE(v >>> 0);
    else b.writeUInt32BE(v >>> 0);
    this.a.push(...b);
  }
  i32(v: number, le: boolean) {
    const b = Buffer.alloc(4);
    if (le) b.writeInt32LE(v);
    else b.writeInt32BE(v);
    this.a.push(...b);
  }
  f64(v: number, le: boolean) {
    const b = Buffer.alloc(8);
    if (le) b.writeDoubleLE(v);
    else b.writeDoubleBE(v);
    this.a.push(...b);
  }
}

type Dim = 'XY' | 'XYZ' | 'XYM' | 'XYZM';

function wkb(out: Bytes, g: Geometry, le: boolean, dim: Dim, ewkb: boolean, srid?: number): void {
  const base = { Point: 1, LineString: 2, Polygon: 3, MultiPoint: 4, MultiLineString: 5, MultiPolygon: 6, GeometryCollection: 7 }[g.type];
  const hasZ = dim.includes('Z');
  const hasM = dim.includes('M');
  const type = ewkb ? base | (hasZ ? 0x80000000 : 0) | (hasM ? 0x40000000 : 0) | (srid !== undefined ? 0x20000000 : 0) : base + { XY: 0, XYZ: 1000, XYM: 2000, XYZM: 3000 }[dim];
  out.u8(le ? 1 : 0);
  out.u32(type, le);
  if (ewkb && srid !== undefined) out.i32(srid, le);
  const pos = (p: Position) => {
    out.f64(p[0], le);
    out.f64(p[1], le);
    if (hasZ) out.f64(1000 + p[0], le);
    if (hasM) out.f64(-7, le);
  };
  const list = (ps: Position[]) => {
    out.u32(ps.length, le);
    ps.forEach(pos);
  };
  // Members switch byte order, as WKB allows.
  const member = (m: Geometry) => wkb(out, m, !le, dim, ewkb);
  switch (g.type) {
    case 'Point':
      if (g.coordinates.length) pos(g.coordinates);
      else pos([NaN, NaN]);
      return;
    case 'LineString':
      return list(g.coordinates);
    case 'Polygon':
      out.u32(g.coordinates.length, le);
      return g.coordinates.forEach(list);
    case 'MultiPoint':
      out.u32(g.coordinates.length, le);
      return g.coordinates.forEach((c) => member({ type: 'Point', coordinates: c }));
    case 'MultiLineString':
      out.u32(g.coordinates.length, le);
      return g.coordinates.forEach((c) => member({ type: 'LineString', coordinates: c }));
    case 'MultiPolygon':
      out.u32(g.coordinates.length, le);
      return g.coordinates.forEach((c) => member({ type: 'Polygon', coordinates: c }));
    case 'GeometryCollection':
      out.u32(g.geometries.length, le);
      return g.geometries.forEach(member);
  }
}

function gpBlob(g: Geometry, o: { headerLE: boolean; wkbLE: boolean; envelope: number; dim: Dim; ewkb?: boolean; srsId?: number; srid?: number }): Buffer {
  const out = new Bytes();
  out.u8(0x47);
  out.u8(0x50);
  out.u8(0);
  out.u8((o.headerLE ? 1 : 0) | (o.envelope << 1));
  out.i32(o.srsId ?? 4326, o.headerLE);
  const doubles = [0, 4, 6, 6, 8][o.envelope];
  for (let i = 0; i < doubles; i++) out.f64(i, o.headerLE); // the reader skips the envelope
  wkb(out, g, o.wkbLE, o.dim, o.ewkb ?? false, o.srid);
  return Buffer.from(out.a);
}

const SAMPLES: Geometry[] = [...MIXED_GDAL.map((f) => f.geometry!), { type: 'Point', coordinates: [] }, { type: 'LineString', coordinates: [] }];

test('decodes both byte orders, envelope indicators 0-4, ISO and EWKB Z/M/SRID', () => {
  let n = 0;
  for (const g of SAMPLES) {
    for (const envelope of [0, 1, 2, 3, 4]) {
      for (const headerLE of [true, false]) {
        for (const wkbLE of [true, false]) {
          for (const dim of ['XY', 'XYZ', 'XYM', 'XYZM'] as const) {
            for (const ewkb of [false, true]) {
              const blob = gpBlob(g, { headerLE, wkbLE, envelope, dim, ewkb, srsId: -1 - envelope, srid: ewkb ? 4326 : undefined });
              const d = decodeGeoPackageGeometry(blob);
              assert.deepEqual(d.geometry, g, `${g.type} env ${envelope} header ${headerLE ? 'LE' : 'BE'} wkb ${wkbLE ? 'LE' : 'BE'} ${dim}${ewkb ? ' EWKB' : ''}`);
              assert.equal(d.srsId, -1 - envelope);
              n++;
            }
          }
        }
      }
    }
  }
  assert.equal(n, SAMPLES.length * 5 * 2 * 2 * 4 * 2);
  // Our encoder: little-endian, envelope only for non-points, round trip exact.
  for (const g of SAMPLES) {
    const blob = encodeGeoPackageGeometry(g)!;
    assert.equal(blob[3] & 1, 1);
    assert.deepEqual(decodeGeoPackageGeometry(blob).geometry, g);
  }
  assert.equal(encodeGeoPackageGeometry({ type: 'Point', coordinates: [1, 2] })!.length, 8 + 21);
  assert.equal(encodeGeoPackageGeometry(null), null);
});

test('a file whose geometries are big-endian with a 4D envelope reads (spatial index triggers run with ST_ functions)', () => {
  const file = at('bigendian.gpkg');
  writeGeoPackage(file, [{ name: 'roads', geometryType: 'LINESTRING', columns: [{ name: 'name', type: 'TEXT' }], features: ROADS }]);
  const db = new Database(file);
  try {
    // The spec's rtree triggers need ST_IsEmpty/ST_MinX/...; GDAL provides them, here we do.
    const env = (blob: Buffer) => flat(decodeGeoPackageGeometry(blob).geometry);
    const pick = (blob: Buffer, odd: boolean, max: boolean) => {
      const c = env(blob).filter((_, i) => i % 2 === (odd ? 1 : 0));
      return max ? Math.max(...c) : Math.min(...c);
    };
    db.function('ST_IsEmpty', (b: unknown) => (decodeGeoPackageGeometry(b as Buffer).empty ? 1 : 0));
    db.function('ST_MinX', (b: unknown) => pick(b as Buffer, false, false));
    db.function('ST_MaxX', (b: unknown) => pick(b as Buffer, false, true));
    db.function('ST_MinY', (b: unknown) => pick(b as Buffer, true, false));
    db.function('ST_MaxY', (b: unknown) => pick(b as Buffer, true, true));
    const moved: Geometry = { type: 'LineString', coordinates: [[10, 20], [11, 22]] };
    db.prepare('UPDATE roads SET geom = ? WHERE fid = 2').run(gpBlob(moved, { headerLE: false, wkbLE: false, envelope: 4, dim: 'XYZM' }));
    assert.deepEqual(db.prepare('SELECT id, minx, maxx, miny, maxy FROM rtree_roads_geom WHERE id = 2').get(), { id: 2, minx: 10, maxx: 11, miny: 20, maxy: 22 });
    assert.equal((db.prepare("SELECT rtreecheck('rtree_roads_geom') AS c").get() as { c: string }).c, 'ok');
  } finally {
    db.close();
  }
  const got = [...readGeoPackageLayer(file, 'roads')].map((f) => f.geometry);
  assert.deepEqual(got, [ROADS[0].geometry, { type: 'LineString', coordinates: [[10, 20], [11, 22]] }, ROADS[2].geometry]);
});

test('invalid geometry blobs fail with the file, layer and fid', () => {
  const bad = (blob: Buffer, pattern: RegExp) => assert.throws(() => decodeGeoPackageGeometry(blob), (e: unknown) => e instanceof GeoPackageError && pattern.test(e.message));
  const good = gpBlob(ROADS[0].geometry!, { headerLE: true, wkbLE: true, envelope: 1, dim: 'XY' });
  bad(Buffer.from('XP\0\x01\0\0\0\0'), /magic "GP"/);
  bad(Buffer.concat([good.subarray(0, 3), Buffer.from([0x01 | (5 << 1)]), good.subarray(4)]), /envelope contents indicator 5/);
  bad(Buffer.concat([good.subarray(0, 3), Buffer.from([0x21]), good.subarray(4)]), /ExtendedGeoPackageBinary/);
  bad(good.subarray(0, good.length - 3), /truncated/);
  bad(Buffer.from([0x47, 0x50, 0, 1, 0xe6, 0x10, 0, 0, 1, 8, 0, 0, 0, 0, 0, 0, 0]), /CircularString .* not supported/);

  const file = at('corrupt.gpkg');
  writeGeoPackage(file, [{ name: 'roads', geometryType: 'LINESTRING', columns: [], features: ROADS }]);
  const db = new Database(file);
  try {
    for (const t of ['update1', 'update2', 'update3', 'update4']) db.exec(`DROP TRIGGER rtree_roads_geom_${t}`);
    db.prepare('UPDATE roads SET geom = ? WHERE fid = 3').run(good.subarray(0, good.length - 3));
  } finally {
    db.close();
  }
  const it = readGeoPackageLayer(file, 'roads');
  it.next();
  it.next();
  expectError(() => it.next(), 'LAYER_INVALID', file, /layer roads feature fid 3: invalid geometry: WKB truncated/);
});

// ---------------------------------------------------------------------------------------------------------
// 4. Bad input

test('not a GeoPackage: a text file, an empty file, an SQLite file without gpkg tables, a missing file', () => {
  const text = at('notes.gpkg');
  fs.writeFileSync(text, 'this is not a database\n');
  expectError(() => listGeoPackageLayers(text), 'LAYER_INVALID', text, /not a GeoPackage \(not an SQLite database/);
  expectError(() => readGeoPackageLayer(text, 'x'), 'LAYER_INVALID', text, /not a GeoPackage/);

  const empty = at('empty-file.gpkg');
  fs.writeFileSync(empty, '');
  expectError(() => listGeoPackageLayers(empty), 'FILE_EMPTY', empty, /empty/);

  const plain = at('plain.sqlite');
  const db = new Database(plain);
  db.exec('CREATE TABLE foo (a INTEGER)');
  db.close();
  expectError(() => listGeoPackageLayers(plain), 'LAYER_INVALID', plain, /not a GeoPackage \(an SQLite database without a gpkg_contents table; application_id 0x00000000/);
  expectError(() => readGeoPackageLayer(plain, 'foo'), 'LAYER_INVALID', plain, /gpkg_contents/);

  const missing = at('missing.gpkg');
  expectError(() => listGeoPackageLayers(missing), 'FILE_NOT_FOUND', missing, /file not found/);
});

test('unknown layer name: fails at the call (not at the first next()), listing the layers', () => {
  expectError(() => readGeoPackageLayer(OURS, 'schools'), 'LAYER_INVALID', OURS, /no feature layer "schools"; feature layers: facilities, parks, districts, roads, mixed, grid$/);
});

test('mismatched geometry type on write: names file, layer and feature; no file is left behind', () => {
  const file = at('mismatch.gpkg');
  const layers: GpkgLayer[] = [
    { name: 'facilities', geometryType: 'POINT', columns: [], features: [pt(1, 2), ...PARKS] },
  ];
  const e = expectError(() => writeGeoPackage(file, layers), 'LAYER_INVALID', file);
  assert.equal(e.message, `${file} layer facilities feature 2: geometry type Polygon does not match layer type POINT`);
  assert.equal(e.record, 'layer facilities feature 2');
  assert.equal(fs.existsSync(file), false);
  assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.includes('.partial')), []);
  // MULTIPOLYGON layers take MultiPolygons only (no silent promotion of Polygons).
  expectError(
    () => writeGeoPackage(file, [{ name: 'd', geometryType: 'MULTIPOLYGON', columns: [], features: [DISTRICTS[0], PARKS[0]] }]),
    'LAYER_INVALID',
    file,
    /layer d feature 2: geometry type Polygon does not match layer type MULTIPOLYGON/,
  );
});

test('a failed write keeps the previous file intact; a good write overwrites it', () => {
  const file = at('keep.gpkg');
  writeGeoPackage(file, [{ name: 'old', geometryType: 'POINT', columns: [], features: [pt(1, 1)] }]);
  const before = fs.readFileSync(file);
  expectError(
    () => writeGeoPackage(file, [{ name: 'new', geometryType: 'POINT', columns: [], features: [pt(2, 2), pt(3000000, 4000000)] }]),
    'LAYER_INVALID',
    file,
    /layer new feature 2: coordinates \[3000000,4000000\] are not WGS84 lon\/lat/,
  );
  assert.ok(fs.readFileSync(file).equals(before), 'old file unchanged');
  assert.deepEqual(listGeoPackageLayers(file).map((l) => l.name), ['old']);
  writeGeoPackage(file, [{ name: 'new', geometryType: 'POINT', columns: [], features: [pt(2, 2)] }]);
  assert.deepEqual(listGeoPackageLayers(file).map((l) => [l.name, l.count]), [['new', 1]]);
  assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.includes('.partial')), []);
});

test('invalid table and column names, duplicate layers, bad attribute values and geometries: clear errors naming the file', () => {
  const file = at('bad.gpkg');
  const layer = (over: Partial<GpkgLayer>): GpkgLayer[] => [{ name: 'ok', geometryType: 'POINT', columns: [], features: [], ...over }];
  for (const name of ['bad-name', '1st', '', 'drop table x', 'gpkg_contents', 'rtree_ok_geom', 'sqlite_master']) {
    expectError(() => writeGeoPackage(file, layer({ name })), 'ARGUMENT_INVALID', file, /invalid layer \(table\) name/);
  }
  expectError(() => writeGeoPackage(file, [...layer({ name: 'a' }), ...layer({ name: 'A' })]), 'ARGUMENT_INVALID', file, /layer name "A" appears twice/);
  expectError(() => writeGeoPackage(file, layer({ columns: [{ name: 'my col', type: 'TEXT' }] })), 'LAYER_FIELD_INVALID', file, /layer ok: invalid column name "my col"/);
  expectError(() => writeGeoPackage(file, layer({ columns: [{ name: 'FID', type: 'INTEGER' }] })), 'LAYER_FIELD_INVALID', file, /clashes with the fid\/geom/);
  expectError(
    () => writeGeoPackage(file, layer({ columns: [{ name: 'x', type: 'BLOB' as 'TEXT' }] })),
    'LAYER_FIELD_INVALID',
    file,
    /column "x" has type "BLOB"; expected TEXT, INTEGER or REAL/,
  );
  expectError(() => writeGeoPackage(file, layer({ geometryType: 'CURVE' as 'POINT' })), 'ARGUMENT_INVALID', file, /geometry type "CURVE" is not one of/);
  const cols: GpkgLayer['columns'] = [{ name: 'beds', type: 'INTEGER' }, { name: 'area', type: 'REAL' }];
  const e = expectError(
    () => writeGeoPackage(file, layer({ columns: cols, features: [pt(1, 1, { beds: 3 }), pt(1, 1, { beds: 'three' })] })),
    'LAYER_FIELD_INVALID',
    file,
    /^.* layer ok feature 2: property "beds" is the string "three"; column is INTEGER$/,
  );
  assert.equal(e.field, 'beds');
  expectError(() => writeGeoPackage(file, layer({ columns: cols, features: [pt(1, 1, { beds: 1.5 })] })), 'LAYER_FIELD_INVALID', file, /feature 1: property "beds" is number 1.5/);
  expectError(() => writeGeoPackage(file, layer({ columns: cols, features: [pt(1, 1, { area: NaN })] })), 'LAYER_FIELD_INVALID', file, /property "area" is number NaN; column is REAL/);
  expectError(
    () => writeGeoPackage(file, layer({ name: 'p', geometryType: 'POLYGON', features: [feat({ type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 1]]] })] })),
    'LAYER_INVALID',
    file,
    /layer p feature 1: Polygon ring 1 is not closed/,
  );
  expectError(
    () => writeGeoPackage(file, layer({ name: 'l', geometryType: 'LINESTRING', features: [feat({ type: 'LineString', coordinates: [[0, 0]] })] })),
    'LAYER_INVALID',
    file,
    /layer l feature 1: LineString has 1 position/,
  );
  expectError(() => writeGeoPackage(file, layer({ features: [pt(NaN, 1)] })), 'LAYER_INVALID', file, /feature 1: coordinates \[null,1\] are not WGS84/);
  expectError(() => writeGeoPackage(at('no/such/folder/x.gpkg'), layer({})), 'FILE_NOT_FOUND', at('no/such/folder/x.gpkg'), /folder .* does not exist/);
  assert.equal(fs.existsSync(file), false);
});

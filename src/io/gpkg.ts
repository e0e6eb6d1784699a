/**
 * OGC GeoPackage 1.3 (https://www.geopackage.org/spec130/) vector writer and reader on better-sqlite3, without
 * GDAL: feature layers in EPSG:4326, GeoPackageBinary geometries (header + ISO WKB) and the RTree spatial index
 * extension, written the way GDAL's GPKG driver writes them so that ogrinfo, QGIS and validate_gpkg.py accept
 * the files.
 *
 * Writing: one new file per call, all layers in one transaction on a temporary file beside the target that is
 * renamed over it at the end (a failed export leaves no half-written file and keeps an older file intact).
 * Reading: any GeoPackage feature table, including files written by GDAL (either WKB byte order, envelope
 * indicators 0-4, ISO and EWKB Z/M variants; Z and M are dropped).
 *
 * The rtree triggers reference ST_IsEmpty/ST_MinX/... as the spec requires; those SQL functions exist in GDAL,
 * SpatiaLite and QGIS, not in plain SQLite, so a plain better-sqlite3 connection can read these files but not
 * insert into or update their feature tables (export files are written once by writeGeoPackage).
 */
import { closeSync, existsSync, openSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Feature, Geometry, Position } from 'geojson';
import { LifecircleError, type ErrorKey } from '../errors.ts';

export type GpkgGeometryType = 'POINT' | 'LINESTRING' | 'POLYGON' | 'MULTIPOINT' | 'MULTILINESTRING' | 'MULTIPOLYGON' | 'GEOMETRY';

export interface GpkgLayer {
  /** Table name (also the gpkg_contents identifier): [A-Za-z_][A-Za-z0-9_]*, not starting with gpkg_, rtree_ or sqlite_. */
  name: string;
  geometryType: GpkgGeometryType;
  /** Attribute columns in order: name and SQLite type. */
  columns: Array<{ name: string; type: 'TEXT' | 'INTEGER' | 'REAL' }>;
  /** WGS84 lon/lat; properties keyed by column name (other properties are ignored). */
  features: Iterable<Feature>;
  /** Goes to gpkg_contents.description (e.g. attribution "© OpenStreetMap contributors, ODbL"). */
  description?: string;
}

export interface GpkgLayerInfo {
  name: string;
  geometryType: string;
  srsId: number;
  count: number;
  /** Attribute columns in table order (without the integer primary key and the geometry column). */
  columns: string[];
  description: string | null;
}

/** Every error this module throws: a LifecircleError whose message names the file, then the layer and feature. */
export class GeoPackageError extends LifecircleError {
  constructor(key: ErrorKey, message: string, where: { file?: string; record?: string; field?: string } = {}) {
    super(key, message, where);
    this.name = 'GeoPackageError';
  }
}

// ---------------------------------------------------------------------------------------------------------
// Constants

/** 'GPKG' in ASCII (spec 1.2+); GP10 and GP11 mark 1.0 and 1.1 files, which are read as well. */
const APPLICATION_ID_GPKG = 0x47504b47;
const APPLICATION_IDS_READ = new Set([APPLICATION_ID_GPKG, 0x47503130, 0x47503131]);
const USER_VERSION = 10300;
const SRS_ID = 4326;
const WGS84_WKT =
  'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],' +
  'AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,' +
  'AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]';
const GEOM_COLUMN = 'geom';
const FID_COLUMN = 'fid';
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RESERVED_PREFIX_RE = /^(gpkg_|rtree_|sqlite_)/i;

/** Annex C table definitions, spelled as GDAL spells them (validate_gpkg.py compares types and defaults). */
const DDL_CORE = `
CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL,srs_id INTEGER NOT NULL PRIMARY KEY,organization TEXT NOT NULL,organization_coordsys_id INTEGER NOT NULL,definition  TEXT NOT NULL,description TEXT);
CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY,data_type TEXT NOT NULL,identifier TEXT UNIQUE,description TEXT DEFAULT '',last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),min_x DOUBLE, min_y DOUBLE,max_x DOUBLE, max_y DOUBLE,srs_id INTEGER,CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL,column_name TEXT NOT NULL,geometry_type_name TEXT NOT NULL,srs_id INTEGER NOT NULL,z TINYINT NOT NULL,m TINYINT NOT NULL,CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),CONSTRAINT uk_gc_table_name UNIQUE (table_name),CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
CREATE TABLE gpkg_extensions (table_name TEXT,column_name TEXT,extension_name TEXT NOT NULL,definition TEXT NOT NULL,scope TEXT NOT NULL,CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
`;

/** The three rows Requirement 11 asks for. */
const SRS_ROWS: Array<[string, number, string, number, string, string]> = [
  ['Undefined Cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined Cartesian coordinate reference system'],
  ['Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'],
  ['WGS 84 geodetic', 4326, 'EPSG', 4326, WGS84_WKT, 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid'],
];

const RTREE_EXTENSION_DEFINITION = 'http://www.geopackage.org/spec130/#extension_rtree';

const GEOJSON_TYPE_OF_LAYER: Record<GpkgGeometryType, Geometry['type'] | null> = {
  POINT: 'Point',
  LINESTRING: 'LineString',
  POLYGON: 'Polygon',
  MULTIPOINT: 'MultiPoint',
  MULTILINESTRING: 'MultiLineString',
  MULTIPOLYGON: 'MultiPolygon',
  GEOMETRY: null,
};

const WKB_TYPE_NAMES: Record<number, string> = {
  1: 'Point', 2: 'LineString', 3: 'Polygon', 4: 'MultiPoint', 5: 'MultiLineString', 6: 'MultiPolygon', 7: 'GeometryCollection',
  8: 'CircularString', 9: 'CompoundCurve', 10: 'CurvePolygon', 11: 'MultiCurve', 12: 'MultiSurface', 13: 'Curve', 14: 'Surface',
  15: 'PolyhedralSurface', 16: 'TIN', 17: 'Triangle',
};

/** Bytes of envelope for GeoPackageBinary envelope indicators 0-4 (none, xy, xyz, xym, xyzm). */
const ENVELOPE_BYTES = [0, 32, 48, 48, 64];

const q = (id: string) => `"${id.replace(/"/g, '""')}"`;

// ---------------------------------------------------------------------------------------------------------
// Geometry encoding

/** A geometry problem found while encoding; the writer adds file, layer and feature to the message. */
class GeometryProblem extends Error {}

/** Encodes GeoJSON geometries into GeoPackageBinary (little-endian header and ISO WKB) in one reused buffer. */
class GpkgGeometryEncoder {
  buf: Buffer = Buffer.allocUnsafe(1 << 16);
  private view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  private off = 0;
  minX = Infinity;
  minY = Infinity;
  maxX = -Infinity;
  maxY = -Infinity;
  /** Byte length of the last encoded geometry in `buf`. */
  length = 0;
  /** Whether the last encoded geometry was empty (no position at all). */
  empty = false;

  constructor(private readonly srsId: number) {}

  /** Encodes `g` into buf[0, length); sets the envelope fields. Throws GeometryProblem on invalid input. */
  encode(g: Geometry): void {
    this.minX = Infinity;
    this.minY = Infinity;
    this.maxX = -Infinity;
    this.maxY = -Infinity;
    // Points carry no envelope (it would repeat the point), everything else [minx, maxx, miny, maxy].
    const withEnvelope = g.type !== 'Point';
    const headerBytes = withEnvelope ? 40 : 8;
    this.off = headerBytes;
    this.ensure(0);
    this.geometry(g, 0);
    const end = this.off;
    this.empty = this.minX === Infinity;
    const v = this.view;
    const b = this.buf;
    b[0] = 0x47; // 'G'
    b[1] = 0x50; // 'P'
    b[2] = 0; // version 1
    let envelope = withEnvelope ? 1 : 0;
    if (this.empty && withEnvelope) {
      // Empty geometries carry no envelope (Requirement 152): shift the WKB over the reserved 32 bytes.
      b.copyWithin(8, 40, end);
      envelope = 0;
      this.length = end - 32;
    } else {
      this.length = end;
    }
    b[3] = 0x01 | (envelope << 1) | (this.empty ? 0x10 : 0); // little-endian, envelope indicator, empty flag
    v.setInt32(4, this.srsId, true);
    if (envelope === 1) {
      v.setFloat64(8, this.minX, true);
      v.setFloat64(16, this.maxX, true);
      v.setFloat64(24, this.minY, true);
      v.setFloat64(32, this.maxY, true);
    }
  }

  private ensure(n: number): void {
    if (this.off + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.off + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.off);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  private head(wkbType: number, count: number | -1): void {
    this.ensure(9);
    this.buf[this.off] = 1;
    this.view.setUint32(this.off + 1, wkbType, true);
    if (count >= 0) {
      this.view.setUint32(this.off + 5, count, true);
      this.off += 9;
    } else {
      this.off += 5;
    }
  }

  private position(p: Position): void {
    if (!Array.isArray(p) || p.length < 2) throw new GeometryProblem(`position ${JSON.stringify(p)} is not [lon, lat]`);
    const x = p[0];
    const y = p[1];
    if (!(x >= -180 && x <= 180 && y >= -90 && y <= 90)) {
      // NaN and non-numbers fail the comparisons as well.
      throw new GeometryProblem(`coordinates ${JSON.stringify(p)} are not WGS84 lon/lat (lon -180..180, lat -90..90)`);
    }
    this.ensure(16);
    this.view.setFloat64(this.off, x, true);
    this.view.setFloat64(this.off + 8, y, true);
    this.off += 16;
    if (x < this.minX) this.minX = x;
    if (x > this.maxX) this.maxX = x;
    if (y < this.minY) this.minY = y;
    if (y > this.maxY) this.maxY = y;
  }

  private positions(ps: Position[], what: string): void {
    if (!Array.isArray(ps)) throw new GeometryProblem(`${what} is not an array of positions`);
    this.ensure(4);
    this.view.setUint32(this.off, ps.length, true);
    this.off += 4;
    for (let i = 0; i < ps.length; i++) this.position(ps[i]);
  }

  private lineString(ps: Position[]): void {
    if (Array.isArray(ps) && ps.length === 1) throw new GeometryProblem('LineString has 1 position; needs 2 or more (or none: empty)');
    this.head(2, -1);
    this.positions(ps, 'LineString coordinates');
  }

  private polygon(rings: Position[][]): void {
    if (!Array.isArray(rings)) throw new GeometryProblem('Polygon coordinates are not an array of rings');
    this.head(3, rings.length);
    for (let r = 0; r < rings.length; r++) {
      const ring = rings[r];
      if (!Array.isArray(ring) || ring.length < 4) {
        throw new GeometryProblem(`Polygon ring ${r + 1} has ${Array.isArray(ring) ? ring.length : 'no'} positions; a linear ring needs 4 or more`);
      }
      const a = ring[0];
      const z = ring[ring.length - 1];
      if (!Array.isArray(a) || !Array.isArray(z) || a[0] !== z[0] || a[1] !== z[1]) {
        throw new GeometryProblem(`Polygon ring ${r + 1} is not closed (first position ${JSON.stringify(a)}, last ${JSON.stringify(z)})`);
      }
      this.positions(ring, `Polygon ring ${r + 1}`);
    }
  }

  private geometry(g: Geometry, depth: number): void {
    if (g === null || typeof g !== 'object') throw new GeometryProblem(`geometry is ${JSON.stringify(g)}, not a GeoJSON geometry object`);
    if (depth > 32) throw new GeometryProblem('GeometryCollection nesting deeper than 32 levels');
    if (g.type !== 'GeometryCollection' && !Array.isArray((g as { coordinates?: unknown }).coordinates)) {
      throw new GeometryProblem(`${String(g.type)} geometry has no coordinates array`);
    }
    switch (g.type) {
      case 'Point':
        if (g.coordinates.length === 0) {
          // Empty point: ISO WKB has no count, so both ordinates are NaN (as GDAL writes it).
          this.head(1, -1);
          this.ensure(16);
          this.view.setFloat64(this.off, NaN, true);
          this.view.setFloat64(this.off + 8, NaN, true);
          this.off += 16;
        } else {
          this.head(1, -1);
          this.position(g.coordinates);
        }
        return;
      case 'LineString':
        this.lineString(g.coordinates);
        return;
      case 'Polygon':
        this.polygon(g.coordinates);
        return;
      case 'MultiPoint':
        this.head(4, g.coordinates.length);
        for (const p of g.coordinates) {
          this.head(1, -1);
          this.position(p);
        }
        return;
      case 'MultiLineString':
        this.head(5, g.coordinates.length);
        for (const l of g.coordinates) this.lineString(l);
        return;
      case 'MultiPolygon':
        this.head(6, g.coordinates.length);
        for (const p of g.coordinates) this.polygon(p);
        return;
      case 'GeometryCollection':
        if (!Array.isArray(g.geometries)) throw new GeometryProblem('GeometryCollection has no geometries array');
        this.head(7, g.geometries.length);
        for (const m of g.geometries) this.geometry(m, depth + 1);
        return;
      default:
        throw new GeometryProblem(`unknown geometry type ${JSON.stringify((g as { type?: unknown }).type)}`);
    }
  }
}

/** One geometry as a GeoPackageBinary blob (little-endian, srs_id 4326 unless given); null stays null. */
export function encodeGeoPackageGeometry(geometry: Geometry | null, srsId = SRS_ID): Buffer | null {
  if (geometry == null) return null;
  const enc = new GpkgGeometryEncoder(srsId);
  enc.encode(geometry);
  return Buffer.from(enc.buf.subarray(0, enc.length));
}

// ---------------------------------------------------------------------------------------------------------
// Geometry decoding

/** Reads ISO WKB (also EWKB-flagged Z/M/SRID) of either byte order; Z and M are dropped. */
class WkbReader {
  private readonly view: DataView;
  constructor(
    private readonly bytes: Uint8Array,
    private off: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private need(n: number): void {
    if (this.off + n > this.bytes.length) throw new GeometryProblem(`WKB truncated at byte ${this.off} (needs ${n} more of ${this.bytes.length})`);
  }

  geometry(depth: number): Geometry {
    if (depth > 32) throw new GeometryProblem('WKB nesting deeper than 32 levels');
    this.need(5);
    const order = this.bytes[this.off];
    if (order > 1) throw new GeometryProblem(`WKB byte order byte is ${order} at byte ${this.off}, expected 0 or 1`);
    const le = order === 1;
    let type = this.view.getUint32(this.off + 1, le);
    this.off += 5;
    let hasZ = false;
    let hasM = false;
    if (type & 0xe0000000) {
      // EWKB / extended WKB flags (PostGIS, some writers): Z, M and an embedded SRID.
      hasZ = (type & 0x80000000) !== 0;
      hasM = (type & 0x40000000) !== 0;
      if (type & 0x20000000) {
        this.need(4);
        this.off += 4;
      }
      type &= 0x0fffffff;
    }
    const dims = Math.floor(type / 1000);
    const base = type % 1000;
    if (dims > 3) throw new GeometryProblem(`unknown WKB geometry type code ${type}`);
    if (dims === 1 || dims === 3) hasZ = true;
    if (dims === 2 || dims === 3) hasM = true;
    const stride = 2 + (hasZ ? 1 : 0) + (hasM ? 1 : 0);
    switch (base) {
      case 1: {
        const p = this.positionAt(le, stride);
        return { type: 'Point', coordinates: Number.isNaN(p[0]) && Number.isNaN(p[1]) ? [] : p };
      }
      case 2:
        return { type: 'LineString', coordinates: this.positions(le, stride) };
      case 3:
        return { type: 'Polygon', coordinates: this.rings(le, stride) };
      case 4: {
        const n = this.count(le, 5);
        const coordinates: Position[] = [];
        for (let i = 0; i < n; i++) {
          const m = this.member(depth, 'Point', 'MultiPoint');
          if (m.type === 'Point' && m.coordinates.length > 0) coordinates.push(m.coordinates);
        }
        return { type: 'MultiPoint', coordinates };
      }
      case 5: {
        const n = this.count(le, 9);
        const coordinates: Position[][] = [];
        for (let i = 0; i < n; i++) {
          const m = this.member(depth, 'LineString', 'MultiLineString');
          if (m.type === 'LineString') coordinates.push(m.coordinates);
        }
        return { type: 'MultiLineString', coordinates };
      }
      case 6: {
        const n = this.count(le, 9);
        const coordinates: Position[][][] = [];
        for (let i = 0; i < n; i++) {
          const m = this.member(depth, 'Polygon', 'MultiPolygon');
          if (m.type === 'Polygon') coordinates.push(m.coordinates);
        }
        return { type: 'MultiPolygon', coordinates };
      }
      case 7: {
        const n = this.count(le, 5);
        const geometries: Geometry[] = [];
        for (let i = 0; i < n; i++) geometries.push(this.geometry(depth + 1));
        return { type: 'GeometryCollection', geometries };
      }
      default:
        throw new GeometryProblem(
          WKB_TYPE_NAMES[base] ? `WKB geometry type ${WKB_TYPE_NAMES[base]} (${type}) is not supported (only the simple features types)` : `unknown WKB geometry type code ${type}`,
        );
    }
  }

  private member(depth: number, expected: string, parent: string): Geometry {
    const g = this.geometry(depth + 1);
    if (g.type !== expected) throw new GeometryProblem(`${parent} contains a ${g.type}, expected ${expected}`);
    return g;
  }

  /** Reads a uint32 count and checks that many items of at least minBytes each can still follow. */
  private count(le: boolean, minBytes: number): number {
    this.need(4);
    const n = this.view.getUint32(this.off, le);
    this.off += 4;
    if (n * minBytes > this.bytes.length - this.off) throw new GeometryProblem(`WKB count ${n} at byte ${this.off - 4} exceeds the blob (${this.bytes.length} bytes)`);
    return n;
  }

  private positionAt(le: boolean, stride: number): Position {
    this.need(stride * 8);
    const p = [this.view.getFloat64(this.off, le), this.view.getFloat64(this.off + 8, le)];
    this.off += stride * 8;
    return p;
  }

  private positions(le: boolean, stride: number): Position[] {
    const n = this.count(le, stride * 8);
    const out: Position[] = new Array(n);
    const v = this.view;
    let o = this.off;
    for (let i = 0; i < n; i++, o += stride * 8) out[i] = [v.getFloat64(o, le), v.getFloat64(o + 8, le)];
    this.off = o;
    return out;
  }

  private rings(le: boolean, stride: number): Position[][] {
    const n = this.count(le, 4);
    const out: Position[][] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = this.positions(le, stride);
    return out;
  }
}

/**
 * Decodes a GeoPackageBinary blob: header of either byte order, envelope indicator 0-4, then WKB of either byte
 * order. Returns the GeoJSON geometry (Z/M dropped; an empty point as coordinates []) and the blob's srs_id.
 */
export function decodeGeoPackageGeometry(blob: Uint8Array): { geometry: Geometry; srsId: number; empty: boolean } {
  if (blob.length < 8) throw new GeometryProblem(`blob of ${blob.length} bytes is shorter than a GeoPackageBinary header`);
  if (blob[0] !== 0x47 || blob[1] !== 0x50) {
    throw new GeometryProblem(`blob does not start with the GeoPackageBinary magic "GP" (starts 0x${Buffer.from(blob.subarray(0, 4)).toString('hex')})`);
  }
  const flags = blob[3];
  if (flags & 0x20) throw new GeometryProblem('ExtendedGeoPackageBinary geometries are not supported');
  const envelope = (flags >> 1) & 0x07;
  if (envelope > 4) throw new GeometryProblem(`invalid envelope contents indicator ${envelope} (expected 0-4)`);
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const srsId = view.getInt32(4, (flags & 1) === 1);
  const wkbStart = 8 + ENVELOPE_BYTES[envelope];
  const geometry = new WkbReader(blob, wkbStart).geometry(0);
  return { geometry, srsId, empty: (flags & 0x10) !== 0 };
}

// ---------------------------------------------------------------------------------------------------------
// Writing

function coercer(path: string, layer: string, column: string, type: 'TEXT' | 'INTEGER' | 'REAL'): (v: unknown, featureNo: number) => string | number | bigint | null {
  const fail = (featureNo: number, v: unknown, why: string) =>
    new GeoPackageError('LAYER_FIELD_INVALID', `${path} layer ${layer} feature ${featureNo}: property "${column}" is ${describe(v)}; ${why}`, {
      file: path,
      record: `layer ${layer} feature ${featureNo}`,
      field: column,
    });
  switch (type) {
    case 'TEXT':
      return (v, n) => {
        if (v == null) return null;
        if (typeof v === 'string') return v;
        if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
        if (typeof v === 'object') return JSON.stringify(v);
        throw fail(n, v, 'column is TEXT');
      };
    case 'INTEGER':
      return (v, n) => {
        if (v == null) return null;
        if (typeof v === 'number') {
          if (Number.isSafeInteger(v)) return v;
          throw fail(n, v, 'column is INTEGER (expected a safe integer)');
        }
        if (typeof v === 'bigint') return v;
        if (typeof v === 'boolean') return v ? 1 : 0;
        throw fail(n, v, 'column is INTEGER');
      };
    case 'REAL':
      return (v, n) => {
        if (v == null) return null;
        if (typeof v === 'number') {
          if (Number.isFinite(v)) return v;
          throw fail(n, v, 'column is REAL (expected a finite number)');
        }
        if (typeof v === 'bigint') return Number(v);
        throw fail(n, v, 'column is REAL');
      };
  }
}

function describe(v: unknown): string {
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return `${typeof v} ${String(v)}`;
  return typeof v;
}

function validateLayers(path: string, layers: GpkgLayer[]): void {
  const bad = (key: ErrorKey, message: string, where: { record?: string; field?: string } = {}) =>
    new GeoPackageError(key, `${path}: ${message}`, { file: path, ...where });
  if (!Array.isArray(layers)) throw bad('ARGUMENT_INVALID', 'layers must be an array');
  const seen = new Set<string>();
  for (const layer of layers) {
    const name = layer?.name;
    if (typeof name !== 'string' || !NAME_RE.test(name)) {
      throw bad('ARGUMENT_INVALID', `invalid layer (table) name ${JSON.stringify(name)}: expected [A-Za-z_][A-Za-z0-9_]*`, { field: 'name' });
    }
    if (RESERVED_PREFIX_RE.test(name)) {
      throw bad('ARGUMENT_INVALID', `invalid layer (table) name "${name}": names starting with gpkg_, rtree_ or sqlite_ are reserved`, { field: 'name' });
    }
    if (seen.has(name.toLowerCase())) throw bad('ARGUMENT_INVALID', `layer name "${name}" appears twice (table names are case-insensitive)`, { field: 'name' });
    seen.add(name.toLowerCase());
    if (!(layer.geometryType in GEOJSON_TYPE_OF_LAYER)) {
      throw bad('ARGUMENT_INVALID', `layer ${name}: geometry type ${JSON.stringify(layer.geometryType)} is not one of ${Object.keys(GEOJSON_TYPE_OF_LAYER).join(', ')}`, {
        record: `layer ${name}`,
        field: 'geometryType',
      });
    }
    if (!Array.isArray(layer.columns)) throw bad('ARGUMENT_INVALID', `layer ${name}: columns must be an array`, { record: `layer ${name}` });
    const cols = new Set([FID_COLUMN, GEOM_COLUMN]);
    for (const c of layer.columns) {
      const where = { record: `layer ${name}`, field: String(c?.name) };
      if (typeof c?.name !== 'string' || !NAME_RE.test(c.name)) {
        throw bad('LAYER_FIELD_INVALID', `layer ${name}: invalid column name ${JSON.stringify(c?.name)}: expected [A-Za-z_][A-Za-z0-9_]*`, where);
      }
      if (cols.has(c.name.toLowerCase())) {
        throw bad('LAYER_FIELD_INVALID', `layer ${name}: column "${c.name}" appears twice or clashes with the ${FID_COLUMN}/${GEOM_COLUMN} columns`, where);
      }
      cols.add(c.name.toLowerCase());
      if (c.type !== 'TEXT' && c.type !== 'INTEGER' && c.type !== 'REAL') {
        throw bad('LAYER_FIELD_INVALID', `layer ${name}: column "${c.name}" has type ${JSON.stringify(c.type)}; expected TEXT, INTEGER or REAL`, where);
      }
    }
    if (layer.features == null || typeof (layer.features as Iterable<Feature>)[Symbol.iterator] !== 'function') {
      throw bad('ARGUMENT_INVALID', `layer ${name}: features is not iterable`, { record: `layer ${name}` });
    }
    if (layer.description != null && typeof layer.description !== 'string') {
      throw bad('ARGUMENT_INVALID', `layer ${name}: description must be a string`, { record: `layer ${name}` });
    }
  }
}

/**
 * Writes one or more layers into a new GeoPackage file (overwrites), srs EPSG:4326, in one transaction; returns
 * feature counts per layer. Feature n (1-based, also its fid) is named in errors as "feature n".
 */
export function writeGeoPackage(path: string, layers: GpkgLayer[]): Record<string, number> {
  validateLayers(path, layers);
  const dir = dirname(path);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new GeoPackageError('FILE_NOT_FOUND', `${path}: folder ${dir} does not exist`, { file: path });
  }
  if (existsSync(path) && statSync(path).isDirectory()) {
    throw new GeoPackageError('ARGUMENT_INVALID', `${path}: is a folder, not a file`, { file: path });
  }
  const tmp = `${path}.${process.pid}.${Date.now().toString(36)}.partial`;
  const removeWithSidecars = (p: string) => {
    for (const s of ['', '-journal', '-wal', '-shm']) rmSync(p + s, { force: true });
  };
  let db: Database.Database | undefined;
  try {
    db = new Database(tmp);
    const counts = writeAll(db, path, layers);
    db.close();
    db = undefined;
    // Stale sidecars of an older file at `path` must not be replayed onto the new one.
    for (const s of ['-journal', '-wal', '-shm']) rmSync(path + s, { force: true });
    renameSync(tmp, path);
    return counts;
  } catch (e) {
    try {
      db?.close();
    } catch {
      // already failing; the original error matters
    }
    removeWithSidecars(tmp);
    if (e instanceof LifecircleError) throw e;
    if (e instanceof Database.SqliteError || typeof (e as NodeJS.ErrnoException)?.syscall === 'string') {
      throw new GeoPackageError('ARGUMENT_INVALID', `${path}: cannot write the GeoPackage: ${(e as Error).message}`, { file: path });
    }
    throw e;
  }
}

function writeAll(db: Database.Database, path: string, layers: GpkgLayer[]): Record<string, number> {
  // A fresh export file: no rollback journal needed (on failure the temporary file is deleted), no fsyncs.
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma('locking_mode = EXCLUSIVE');
  db.pragma('cache_size = -65536');
  db.pragma(`application_id = ${APPLICATION_ID_GPKG}`);
  db.pragma(`user_version = ${USER_VERSION}`);
  const counts: Record<string, number> = {};
  db.exec('BEGIN');
  db.exec(DDL_CORE);
  const srs = db.prepare('INSERT INTO gpkg_spatial_ref_sys (srs_name, srs_id, organization, organization_coordsys_id, definition, description) VALUES (?, ?, ?, ?, ?, ?)');
  for (const row of SRS_ROWS) srs.run(row);
  const contents = db.prepare(
    "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change, srs_id) VALUES (?, 'features', ?, ?, ?, ?)",
  );
  const geomCols = db.prepare('INSERT INTO gpkg_geometry_columns (table_name, column_name, geometry_type_name, srs_id, z, m) VALUES (?, ?, ?, ?, 0, 0)');
  const extension = db.prepare("INSERT INTO gpkg_extensions (table_name, column_name, extension_name, definition, scope) VALUES (?, ?, 'gpkg_rtree_index', ?, 'write-only')");
  const extent = db.prepare('UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ? WHERE table_name = ?');
  const encoder = new GpkgGeometryEncoder(SRS_ID);

  for (const layer of layers) {
    const t = layer.name;
    const rtree = `rtree_${t}_${GEOM_COLUMN}`;
    const columnDefs = layer.columns.map((c) => `, ${q(c.name)} ${c.type}`).join('');
    db.exec(`CREATE TABLE ${q(t)} (${q(FID_COLUMN)} INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, ${q(GEOM_COLUMN)} ${layer.geometryType}${columnDefs})`);
    db.exec(`CREATE VIRTUAL TABLE ${q(rtree)} USING rtree(id, minx, maxx, miny, maxy)`);
    contents.run(t, t, layer.description ?? '', new Date().toISOString(), SRS_ID);
    geomCols.run(t, GEOM_COLUMN, layer.geometryType, SRS_ID);
    extension.run(t, GEOM_COLUMN, RTREE_EXTENSION_DEFINITION);

    const insert = db.prepare(
      `INSERT INTO ${q(t)} (${[FID_COLUMN, GEOM_COLUMN, ...layer.columns.map((c) => c.name)].map(q).join(', ')}) VALUES (${['?', '?', ...layer.columns.map(() => '?')].join(', ')})`,
    );
    const index = db.prepare(`INSERT INTO ${q(rtree)} VALUES (?, ?, ?, ?, ?)`);
    const names = layer.columns.map((c) => c.name);
    const coerce = layer.columns.map((c) => coercer(path, t, c.name, c.type));
    const nCols = names.length;
    const values: unknown[] = new Array(nCols + 2);
    const expected = GEOJSON_TYPE_OF_LAYER[layer.geometryType];
    let minX = Infinity;
    let minY = Infinity;
    let maxX = -Infinity;
    let maxY = -Infinity;
    let n = 0;
    const where = (n: number) => ({ file: path, record: `layer ${t} feature ${n}` });
    for (const f of layer.features) {
      n++;
      if (f === null || typeof f !== 'object') {
        throw new GeoPackageError('LAYER_INVALID', `${path} layer ${t} feature ${n}: ${JSON.stringify(f)} is not a GeoJSON Feature`, where(n));
      }
      const g = f.geometry;
      values[0] = n;
      if (g == null) {
        values[1] = null;
      } else {
        if (expected !== null && g.type !== expected) {
          throw new GeoPackageError('LAYER_INVALID', `${path} layer ${t} feature ${n}: geometry type ${String(g.type)} does not match layer type ${layer.geometryType}`, {
            ...where(n),
            field: 'geometry',
          });
        }
        try {
          encoder.encode(g);
        } catch (e) {
          if (!(e instanceof GeometryProblem)) throw e;
          throw new GeoPackageError('LAYER_INVALID', `${path} layer ${t} feature ${n}: ${e.message}`, { ...where(n), field: 'geometry' });
        }
        values[1] = encoder.buf.subarray(0, encoder.length);
      }
      const props = f.properties;
      if (props == null) {
        for (let k = 0; k < nCols; k++) values[k + 2] = null;
      } else {
        for (let k = 0; k < nCols; k++) values[k + 2] = coerce[k](props[names[k]], n);
      }
      insert.run(values);
      if (g != null && !encoder.empty) {
        index.run(n, encoder.minX, encoder.maxX, encoder.minY, encoder.maxY);
        if (encoder.minX < minX) minX = encoder.minX;
        if (encoder.minY < minY) minY = encoder.minY;
        if (encoder.maxX > maxX) maxX = encoder.maxX;
        if (encoder.maxY > maxY) maxY = encoder.maxY;
      }
    }
    if (minX !== Infinity) extent.run(minX, minY, maxX, maxY, t);
    createRtreeTriggers(db, t, GEOM_COLUMN, FID_COLUMN);
    counts[t] = n;
  }
  db.exec('COMMIT');
  return counts;
}

/** The six triggers of spec Annex F.3 (update3 as "AFTER UPDATE ON", the corrected form GDAL also writes). */
function createRtreeTriggers(db: Database.Database, table: string, geom: string, fid: string): void {
  const rt = `rtree_${table}_${geom}`;
  const [T, C, I, R] = [q(table), q(geom), q(fid), q(rt)];
  const upsert = `INSERT OR REPLACE INTO ${R} VALUES (NEW.${I},ST_MinX(NEW.${C}), ST_MaxX(NEW.${C}),ST_MinY(NEW.${C}), ST_MaxY(NEW.${C}));`;
  db.exec(`
CREATE TRIGGER ${q(rt + '_insert')} AFTER INSERT ON ${T} WHEN (new.${C} NOT NULL AND NOT ST_IsEmpty(NEW.${C})) BEGIN ${upsert} END;
CREATE TRIGGER ${q(rt + '_update1')} AFTER UPDATE OF ${C} ON ${T} WHEN OLD.${I} = NEW.${I} AND (NEW.${C} NOTNULL AND NOT ST_IsEmpty(NEW.${C})) BEGIN ${upsert} END;
CREATE TRIGGER ${q(rt + '_update2')} AFTER UPDATE OF ${C} ON ${T} WHEN OLD.${I} = NEW.${I} AND (NEW.${C} ISNULL OR ST_IsEmpty(NEW.${C})) BEGIN DELETE FROM ${R} WHERE id = OLD.${I}; END;
CREATE TRIGGER ${q(rt + '_update3')} AFTER UPDATE ON ${T} WHEN OLD.${I} != NEW.${I} AND (NEW.${C} NOTNULL AND NOT ST_IsEmpty(NEW.${C})) BEGIN DELETE FROM ${R} WHERE id = OLD.${I}; ${upsert} END;
CREATE TRIGGER ${q(rt + '_update4')} AFTER UPDATE ON ${T} WHEN OLD.${I} != NEW.${I} AND (NEW.${C} ISNULL OR ST_IsEmpty(NEW.${C})) BEGIN DELETE FROM ${R} WHERE id IN (OLD.${I}, NEW.${I}); END;
CREATE TRIGGER ${q(rt + '_delete')} AFTER DELETE ON ${T} WHEN old.${C} NOT NULL BEGIN DELETE FROM ${R} WHERE id = OLD.${I}; END;
`);
}

// ---------------------------------------------------------------------------------------------------------
// Reading

interface LayerRow {
  name: string;
  description: string | null;
  geomColumn: string;
  geometryType: string;
  srsId: number;
}

interface TableColumn {
  name: string;
  type: string;
  pk: number;
}

/** Opens `path` read-only after checking it is an SQLite file with the GeoPackage core tables. */
function openGeoPackage(path: string): Database.Database {
  if (!existsSync(path)) throw new GeoPackageError('FILE_NOT_FOUND', `${path}: file not found`, { file: path });
  const st = statSync(path);
  if (st.isDirectory()) throw new GeoPackageError('LAYER_INVALID', `${path}: is a folder, not a GeoPackage file`, { file: path });
  if (st.size === 0) throw new GeoPackageError('FILE_EMPTY', `${path}: file is empty (0 bytes), not a GeoPackage`, { file: path });
  const head = Buffer.alloc(16);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, head, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (head.toString('latin1') !== 'SQLite format 3\0') {
    throw new GeoPackageError('LAYER_INVALID', `${path}: not a GeoPackage (not an SQLite database: the file does not start with "SQLite format 3")`, { file: path });
  }
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw new GeoPackageError('LAYER_INVALID', `${path}: cannot open as a GeoPackage: ${(e as Error).message}`, { file: path });
  }
  try {
    const appId = (db.pragma('application_id', { simple: true }) as number) >>> 0;
    const hasContents = db.prepare("SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = 'gpkg_contents'").get() !== undefined;
    if (!hasContents) {
      const id = APPLICATION_IDS_READ.has(appId) ? '' : `; application_id 0x${appId.toString(16).padStart(8, '0').toUpperCase()}, expected 0x47504B47 "GPKG"`;
      throw new GeoPackageError('LAYER_INVALID', `${path}: not a GeoPackage (an SQLite database without a gpkg_contents table${id})`, { file: path });
    }
    return db;
  } catch (e) {
    db.close();
    if (e instanceof LifecircleError) throw e;
    throw new GeoPackageError('LAYER_INVALID', `${path}: cannot read as a GeoPackage: ${(e as Error).message}`, { file: path });
  }
}

function featureLayers(db: Database.Database): LayerRow[] {
  const hasGeomCols = db.prepare("SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = 'gpkg_geometry_columns'").get() !== undefined;
  if (!hasGeomCols) return [];
  return db
    .prepare(
      `SELECT c.table_name AS name, c.description AS description, g.column_name AS geomColumn, g.geometry_type_name AS geometryType, g.srs_id AS srsId
       FROM gpkg_contents c JOIN gpkg_geometry_columns g ON lower(g.table_name) = lower(c.table_name)
       WHERE c.data_type = 'features' ORDER BY c.rowid`,
    )
    .all() as LayerRow[];
}

function tableColumns(db: Database.Database, path: string, layer: string): TableColumn[] {
  const cols = db.prepare(`PRAGMA table_info(${q(layer)})`).all() as TableColumn[];
  if (cols.length === 0) {
    throw new GeoPackageError('LAYER_INVALID', `${path} layer ${layer}: listed in gpkg_contents but the table does not exist`, { file: path, record: `layer ${layer}` });
  }
  return cols;
}

function attributeColumns(cols: TableColumn[], geomColumn: string): { pk: string | null; attrs: TableColumn[] } {
  const pkCols = cols.filter((c) => c.pk > 0);
  const pk = pkCols.length === 1 && pkCols[0].type.toUpperCase() === 'INTEGER' ? pkCols[0].name : null;
  const attrs = cols.filter((c) => c.name !== pk && c.name.toLowerCase() !== geomColumn.toLowerCase());
  return { pk, attrs };
}

function withDb<T>(path: string, fn: (db: Database.Database) => T): T {
  const db = openGeoPackage(path);
  try {
    return fn(db);
  } catch (e) {
    if (e instanceof LifecircleError) throw e;
    throw new GeoPackageError('LAYER_INVALID', `${path}: cannot read the GeoPackage: ${(e as Error).message}`, { file: path });
  } finally {
    db.close();
  }
}

/** The feature layers (gpkg_contents data_type 'features') in gpkg_contents order. */
export function listGeoPackageLayers(path: string): GpkgLayerInfo[] {
  return withDb(path, (db) =>
    featureLayers(db).map((l) => {
      const cols = tableColumns(db, path, l.name);
      const { attrs } = attributeColumns(cols, l.geomColumn);
      const { n } = db.prepare(`SELECT COUNT(*) AS n FROM ${q(l.name)}`).get() as { n: number };
      return { name: l.name, geometryType: l.geometryType, srsId: l.srsId, count: n, columns: attrs.map((c) => c.name), description: l.description };
    }),
  );
}

/**
 * Streams a layer's features as GeoJSON in fid order: id = fid, properties = attribute columns (BOOLEAN columns
 * as true/false, BLOBs as Buffers), geometry with Z/M dropped (null when NULL). Coordinates are as stored: the
 * layer's srsId (listGeoPackageLayers) tells callers whether to reproject. The file and layer are checked when
 * this is called; the file is opened again for the iteration and closed when it ends or is abandoned via
 * return()/break. The layer name is matched case-insensitively, as SQLite matches table names.
 */
export function readGeoPackageLayer(path: string, layer: string): Generator<Feature> {
  const plan = withDb(path, (db) => {
    const layers = featureLayers(db);
    const l = layers.find((x) => x.name === layer) ?? layers.find((x) => x.name.toLowerCase() === String(layer).toLowerCase());
    if (!l) {
      const list = layers.length ? `; feature layers: ${layers.map((x) => x.name).join(', ')}` : '; the file has no feature layers';
      throw new GeoPackageError('LAYER_INVALID', `${path}: no feature layer "${layer}"${list}`, { file: path, record: `layer ${layer}` });
    }
    const cols = tableColumns(db, path, l.name);
    const geom = cols.find((c) => c.name.toLowerCase() === l.geomColumn.toLowerCase());
    if (!geom) {
      throw new GeoPackageError('LAYER_INVALID', `${path} layer ${l.name}: geometry column "${l.geomColumn}" named in gpkg_geometry_columns is missing from the table`, {
        file: path,
        record: `layer ${l.name}`,
      });
    }
    const { pk, attrs } = attributeColumns(cols, l.geomColumn);
    return { name: l.name, pk, geom: geom.name, attrs };
  });
  return iterateLayer(path, plan.name, plan.pk, plan.geom, plan.attrs);
}

function* iterateLayer(path: string, layer: string, pk: string | null, geom: string, attrs: TableColumn[]): Generator<Feature> {
  const db = openGeoPackage(path);
  try {
    const select = [pk ?? 'NULL', geom, ...attrs.map((c) => c.name)];
    const sql = `SELECT ${select.map((s, i) => (i === 0 && pk === null ? s : q(s))).join(', ')} FROM ${q(layer)}${pk ? ` ORDER BY ${q(pk)}` : ''}`;
    const stmt = db.prepare(sql).raw(true);
    const names = attrs.map((c) => c.name);
    const isBool = attrs.map((c) => c.type.toUpperCase() === 'BOOLEAN');
    let rowNo = 0;
    for (const row of stmt.iterate() as IterableIterator<unknown[]>) {
      rowNo++;
      const fid = row[0] as number | null;
      const blob = row[1];
      let geometry: Geometry | null = null;
      if (blob != null) {
        try {
          if (!(blob instanceof Uint8Array)) throw new GeometryProblem(`geometry value is ${typeof blob}, not a BLOB`);
          geometry = decodeGeoPackageGeometry(blob).geometry;
        } catch (e) {
          if (!(e instanceof GeometryProblem)) throw e;
          const which = fid === null ? `feature ${rowNo}` : `feature fid ${fid}`;
          throw new GeoPackageError('LAYER_INVALID', `${path} layer ${layer} ${which}: invalid geometry: ${e.message}`, { file: path, record: `layer ${layer} ${which}`, field: geom });
        }
      }
      const properties: Record<string, unknown> = {};
      for (let k = 0; k < names.length; k++) {
        const v = row[k + 2];
        properties[names[k]] = isBool[k] && typeof v === 'number' ? v !== 0 : v;
      }
      const f: Feature = fid === null ? { type: 'Feature', geometry: geometry as Geometry, properties } : { type: 'Feature', id: fid, geometry: geometry as Geometry, properties };
      yield f;
    }
  } catch (e) {
    if (e instanceof LifecircleError) throw e;
    if (e instanceof Database.SqliteError) {
      throw new GeoPackageError('LAYER_INVALID', `${path} layer ${layer}: cannot read: ${e.message}`, { file: path, record: `layer ${layer}` });
    }
    throw e;
  } finally {
    db.close();
  }
}

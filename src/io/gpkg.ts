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

/**
 * Encodes GeoJSON geometries into GeoPackageBinary (little-endian header and ISO WKB). Geometries are appended
 * to one reused arena so that a batch of rows can reference them (bytes() views) until reset().
 */
class GpkgGeometryEncoder {
  buf: Buffer = Buffer.allocUnsafe(1 << 16);
  private view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  /** Arena write cursor. */
  private off = 0;
  /** The last encoded geometry is buf[start, end). */
  start = 0;
  end = 0;
  minX = Infinity;
  minY = Infinity;
  maxX = -Infinity;
  maxY = -Infinity;
  /** Whether the last encoded geometry was empty (no position at all). */
  empty = false;

  constructor(private readonly srsId: number) {}

  /** Forgets earlier geometries (their bytes() views must no longer be needed). */
  reset(): void {
    this.off = 0;
  }

  /** The last encoded geometry (a view into the arena). */
  bytes(): Buffer {
    return this.buf.subarray(this.start, this.end);
  }

  /** Appends `g` to the arena; sets start/end, the envelope and `empty`. Throws GeometryProblem on invalid input. */
  encode(g: Geometry): void {
    this.minX = Infinity;
    this.minY = Infinity;
    this.maxX = -Infinity;
    this.maxY = -Infinity;
    // Points carry no envelope (it would repeat the point), everything else [minx, maxx, miny, maxy].
    const withEnvelope = g.type !== 'Point';
    const start = this.off;
    this.ensure(withEnvelope ? 40 : 8);
    this.off += withEnvelope ? 40 : 8;
    try {
      this.geometry(g, 0);
    } catch (e) {
      this.off = start;
      throw e;
    }
    let end = this.off;
    this.empty = this.minX === Infinity;
    const v = this.view;
    const b = this.buf;
    b[start] = 0x47; // 'G'
    b[start + 1] = 0x50; // 'P'
    b[start + 2] = 0; // version 1
    let envelope = withEnvelope ? 1 : 0;
    if (this.empty && withEnvelope) {
      // Empty geometries carry no envelope (Requirement 152): shift the WKB over the reserved 32 bytes.
      b.copyWithin(start + 8, start + 40, end);
      envelope = 0;
      end -= 32;
    }
    b[start + 3] = 0x01 | (envelope << 1) | (this.empty ? 0x10 : 0); // little-endian, envelope indicator, empty flag
    v.setInt32(start + 4, this.srsId, true);
    if (envelope === 1) {
      v.setFloat64(start + 8, this.minX, true);
      v.setFloat64(start + 16, this.maxX, true);
      v.setFloat64(start + 24, this.minY, true);
      v.setFloat64(start + 32, this.maxY, true);
    }
    this.start = start;
    this.end = end;
    this.off = end;
  }

  /** Makes room for n more bytes; earlier bytes() views stay valid (they keep the old buffer). */
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
  try {
    enc.encode(geometry);
  } catch (e) {
    if (e instanceof GeometryProblem) throw new GeoPackageError('LAYER_INVALID', `invalid geometry: ${e.message}`, { field: 'geometry' });
    throw e;
  }
  return Buffer.from(enc.bytes());
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
    if (n * minBytes > this.bytes.length - this.off) throw new GeometryProblem(`WKB truncated: count ${n} at byte ${this.off - 4} does not fit in the ${this.bytes.length}-byte blob`);
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
  try {
    return decodeBlob(blob);
  } catch (e) {
    if (e instanceof GeometryProblem) throw new GeoPackageError('LAYER_INVALID', `invalid GeoPackage geometry: ${e.message}`, { field: 'geometry' });
    throw e;
  }
}

function decodeBlob(blob: Uint8Array): { geometry: Geometry; srsId: number; empty: boolean } {
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

/** Rows per multi-row INSERT (far fewer calls into SQLite; kept under SQLite's historical 999-parameter limit). */
const MAX_BATCH_ROWS = 64;
const MAX_BATCH_PARAMS = 999;

function insertSql(table: string, columns: string[], rows: number): string {
  const tuple = `(${columns.map(() => '?').join(',')})`;
  return `INSERT INTO ${q(table)} (${columns.map(q).join(', ')}) VALUES ${new Array(rows).fill(tuple).join(',')}`;
}

function writeAll(db: Database.Database, path: string, layers: GpkgLayer[]): Record<string, number> {
  // A fresh export file: no rollback journal needed (on failure the temporary file is deleted), no fsyncs.
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma('locking_mode = EXCLUSIVE');
  db.pragma('cache_size = -65536');
  db.pragma(`application_id = ${APPLICATION_ID_GPKG}`);
  db.pragma(`user_version = ${USER_VERSION}`);
  const pageSize = db.pragma('page_size', { simple: true }) as number;
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

    const names = layer.columns.map((c) => c.name);
    const allColumns = [FID_COLUMN, GEOM_COLUMN, ...names];
    const width = allColumns.length;
    const batchRows = Math.max(1, Math.min(MAX_BATCH_ROWS, Math.floor(MAX_BATCH_PARAMS / width)));
    const insertBatch = db.prepare(insertSql(t, allColumns, batchRows));
    const insertOne = db.prepare(insertSql(t, allColumns, 1));
    const coerce = layer.columns.map((c) => coercer(path, t, c.name, c.type));
    const nCols = names.length;
    const values: unknown[] = new Array(batchRows * width);
    const boxes = new BoxList();
    const expected = GEOJSON_TYPE_OF_LAYER[layer.geometryType];
    const where = (n: number) => ({ file: path, record: `layer ${t} feature ${n}` });
    let minX = Infinity;
    let minY = Infinity;
    let maxX = -Infinity;
    let maxY = -Infinity;
    let n = 0;
    let inBatch = 0;
    encoder.reset();
    for (const f of layer.features) {
      n++;
      if (f === null || typeof f !== 'object') {
        throw new GeoPackageError('LAYER_INVALID', `${path} layer ${t} feature ${n}: ${JSON.stringify(f)} is not a GeoJSON Feature`, where(n));
      }
      const g = f.geometry;
      const base = inBatch * width;
      values[base] = n;
      if (g == null) {
        values[base + 1] = null;
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
        values[base + 1] = encoder.bytes();
        if (!encoder.empty) {
          boxes.push(n, encoder.minX, encoder.maxX, encoder.minY, encoder.maxY);
          if (encoder.minX < minX) minX = encoder.minX;
          if (encoder.minY < minY) minY = encoder.minY;
          if (encoder.maxX > maxX) maxX = encoder.maxX;
          if (encoder.maxY > maxY) maxY = encoder.maxY;
        }
      }
      const props = f.properties;
      if (props == null) {
        for (let k = 0; k < nCols; k++) values[base + k + 2] = null;
      } else {
        for (let k = 0; k < nCols; k++) values[base + k + 2] = coerce[k](props[names[k]], n);
      }
      if (++inBatch === batchRows) {
        insertBatch.run(values);
        inBatch = 0;
        encoder.reset();
      }
    }
    for (let r = 0; r < inBatch; r++) insertOne.run(values.slice(r * width, (r + 1) * width));
    encoder.reset();
    if (minX !== Infinity) extent.run(minX, minY, maxX, maxY, t);
    bulkLoadRtree(db, rtree, boxes, pageSize);
    createRtreeTriggers(db, t, GEOM_COLUMN, FID_COLUMN);
    counts[t] = n;
  }
  db.exec('COMMIT');
  return counts;
}

// ---------------------------------------------------------------------------------------------------------
// RTree bulk load
//
// Inserting a million rows one by one through SQLite's rtree module costs ~6 us each (R*-tree choose-leaf,
// splits, three shadow tables). Instead the tree is packed here (entries in Hilbert order of their centres,
// nodes filled evenly bottom-up) and its nodes are written straight into the shadow tables of the virtual table
// created a moment before, in SQLite's documented on-disk format (ext/rtree/rtree.c):
//   <r>_node(nodeno, data): node 1 is the root; data is a blob of the node size (page size - 64, at most
//     4 + 51 cells * 24 bytes): int16 depth (root only: levels below the root), int16 cell count, then cells of
//     int64 id + float32 minx, maxx, miny, maxy, all big-endian; leaf cells hold feature ids, inner cells node
//     numbers, with the box of all the child's cells;
//   <r>_rowid(rowid, nodeno): the leaf node of each feature id;  <r>_parent(nodeno, parentnode): the parent of
//     each non-root node.
// Boxes are rounded outwards to float32 as the rtree module does. SQLite's rtreecheck() and PRAGMA
// integrity_check verify the result (see the tests).

const RTREE_MAX_CELLS = 51;
const RTREE_CELL_BYTES = 24;

const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);

/** The largest float32 <= v. */
function f32Down(v: number): number {
  const f = Math.fround(v);
  if (f <= v) return f;
  f32[0] = f;
  if (f > 0) f32Bits[0]--;
  else if (f === 0) f32Bits[0] = 0x80000001; // the negative float32 closest to zero
  else f32Bits[0]++;
  return f32[0];
}

/** The smallest float32 >= v. */
function f32Up(v: number): number {
  const f = Math.fround(v);
  if (f >= v) return f;
  f32[0] = f;
  if (f > 0) f32Bits[0]++;
  else if (f === 0) f32Bits[0] = 0x00000001;
  else f32Bits[0]--;
  return f32[0];
}

/** Growable columns of (id, float32 box) for the rtree. */
class BoxList {
  n = 0;
  ids = new Float64Array(1024);
  minX = new Float32Array(1024);
  maxX = new Float32Array(1024);
  minY = new Float32Array(1024);
  maxY = new Float32Array(1024);

  push(id: number, minX: number, maxX: number, minY: number, maxY: number): void {
    if (this.n === this.ids.length) this.grow();
    const i = this.n++;
    this.ids[i] = id;
    this.minX[i] = f32Down(minX);
    this.maxX[i] = f32Up(maxX);
    this.minY[i] = f32Down(minY);
    this.maxY[i] = f32Up(maxY);
  }

  private grow(): void {
    const size = this.ids.length * 2;
    const more = <T extends Float64Array | Float32Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(size);
      b.set(a);
      return b;
    };
    this.ids = more(this.ids);
    this.minX = more(this.minX);
    this.maxX = more(this.maxX);
    this.minY = more(this.minY);
    this.maxY = more(this.maxY);
  }
}

/** Position of (x, y) (integers in [0, 2^order)) on the Hilbert curve of a 2^order x 2^order grid, order <= 16. */
function hilbert(order: number, x: number, y: number): number {
  const last = (1 << order) - 1;
  let d = 0;
  for (let s = 1 << (order - 1); s > 0; s >>>= 1) {
    const rx = (x & s) !== 0 ? 1 : 0;
    const ry = (y & s) !== 0 ? 1 : 0;
    d += s * s * ((3 * rx) ^ ry);
    if (ry === 0) {
      if (rx === 1) {
        x = last - x;
        y = last - y;
      }
      const t = x;
      x = y;
      y = t;
    }
  }
  return d;
}

/** Entry indices of `boxes` sorted along the Hilbert curve of their centres. */
function hilbertOrder(boxes: BoxList): Uint32Array {
  const n = boxes.n;
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (let i = 0; i < n; i++) {
    const cx = (boxes.minX[i] + boxes.maxX[i]) / 2;
    const cy = (boxes.minY[i] + boxes.maxY[i]) / 2;
    if (cx < minX) minX = cx;
    if (cx > maxX) maxX = cx;
    if (cy < minY) minY = cy;
    if (cy > maxY) maxY = cy;
  }
  // Key = hilbert position * 2^indexBits + index, exact in a double (52 bits), sorted natively.
  const indexBits = Math.max(1, Math.ceil(Math.log2(n + 1)));
  const order = Math.max(1, Math.min(16, Math.floor((52 - indexBits) / 2)));
  const cells = 2 ** order - 1;
  const sx = maxX > minX ? cells / (maxX - minX) : 0;
  const sy = maxY > minY ? cells / (maxY - minY) : 0;
  const shift = 2 ** indexBits;
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = Math.floor(((boxes.minX[i] + boxes.maxX[i]) / 2 - minX) * sx);
    const y = Math.floor(((boxes.minY[i] + boxes.maxY[i]) / 2 - minY) * sy);
    keys[i] = hilbert(order, x, y) * shift + i;
  }
  keys.sort();
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = keys[i] % shift;
  return out;
}

function bulkLoadRtree(db: Database.Database, rtree: string, boxes: BoxList, pageSize: number): void {
  if (boxes.n === 0) return; // CREATE VIRTUAL TABLE already wrote the empty root
  // Shadow tables are read-only in SQLite's defensive mode, which better-sqlite3 turns on; unsafe mode lifts it
  // for this connection (to a temporary file of our own) while the nodes are written.
  db.unsafeMode(true);
  try {
    writeRtreeNodes(db, rtree, boxes, pageSize);
  } finally {
    db.unsafeMode(false);
  }
}

function writeRtreeNodes(db: Database.Database, rtree: string, boxes: BoxList, pageSize: number): void {
  const n = boxes.n;
  const nodeBytes = Math.min(pageSize - 64, 4 + RTREE_CELL_BYTES * RTREE_MAX_CELLS);
  const maxCells = Math.min(RTREE_MAX_CELLS, Math.floor((nodeBytes - 4) / RTREE_CELL_BYTES));
  // Node counts per level, leaves first; nodes are numbered from the root down (root = 1), level by level.
  const levelSizes: number[] = [];
  for (let m = n; ; ) {
    const k = Math.ceil(m / maxCells);
    levelSizes.push(k);
    if (k === 1) break;
    m = k;
  }
  const depth = levelSizes.length - 1;
  const firstNode: number[] = new Array(levelSizes.length);
  for (let l = depth, next = 1; l >= 0; l--) {
    firstNode[l] = next;
    next += levelSizes[l];
  }
  // Node numbers are cast to INTEGER: JS numbers bind as doubles and nodeno/parentnode have no column type.
  const writeNode = db.prepare(`INSERT OR REPLACE INTO ${q(rtree + '_node')} (nodeno, data) VALUES (?, ?)`);
  const writeParent = db.prepare(`INSERT INTO ${q(rtree + '_parent')} (nodeno, parentnode) VALUES (?, CAST(? AS INTEGER))`);

  // Cells of the level being packed: id and box per cell, in order.
  const order = hilbertOrder(boxes);
  let cellIds: Float64Array = new Float64Array(n);
  let cMinX = new Float32Array(n);
  let cMaxX = new Float32Array(n);
  let cMinY = new Float32Array(n);
  let cMaxY = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    const i = order[j];
    cellIds[j] = boxes.ids[i];
    cMinX[j] = boxes.minX[i];
    cMaxX[j] = boxes.maxX[i];
    cMinY[j] = boxes.minY[i];
    cMaxY[j] = boxes.maxY[i];
  }
  const leafOf = new Float64Array(n); // leaf node per entry, in entry (= fid) order
  for (let level = 0; level <= depth; level++) {
    const m = cellIds.length;
    const k = levelSizes[level];
    const nodeIds = new Float64Array(k);
    const nMinX = new Float32Array(k);
    const nMaxX = new Float32Array(k);
    const nMinY = new Float32Array(k);
    const nMaxY = new Float32Array(k);
    for (let node = 0; node < k; node++) {
      // Even split: every node gets floor or ceil of m / k cells (never fewer than the R*-tree minimum).
      const from = Math.floor((node * m) / k);
      const to = Math.floor(((node + 1) * m) / k);
      const nodeno = firstNode[level] + node;
      const data = Buffer.alloc(nodeBytes);
      const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
      if (level === depth) v.setUint16(0, depth, false);
      v.setUint16(2, to - from, false);
      let bx0 = Infinity;
      let bx1 = -Infinity;
      let by0 = Infinity;
      let by1 = -Infinity;
      for (let c = from, o = 4; c < to; c++, o += RTREE_CELL_BYTES) {
        const id = cellIds[c];
        v.setUint32(o, Math.floor(id / 0x100000000), false);
        v.setUint32(o + 4, id >>> 0, false);
        v.setFloat32(o + 8, cMinX[c], false);
        v.setFloat32(o + 12, cMaxX[c], false);
        v.setFloat32(o + 16, cMinY[c], false);
        v.setFloat32(o + 20, cMaxY[c], false);
        if (cMinX[c] < bx0) bx0 = cMinX[c];
        if (cMaxX[c] > bx1) bx1 = cMaxX[c];
        if (cMinY[c] < by0) by0 = cMinY[c];
        if (cMaxY[c] > by1) by1 = cMaxY[c];
        if (level === 0) leafOf[order[c]] = nodeno;
        else writeParent.run(id, nodeno);
      }
      writeNode.run(nodeno, data);
      nodeIds[node] = nodeno;
      nMinX[node] = bx0;
      nMaxX[node] = bx1;
      nMinY[node] = by0;
      nMaxY[node] = by1;
    }
    cellIds = nodeIds;
    cMinX = nMinX;
    cMaxX = nMaxX;
    cMinY = nMinY;
    cMaxY = nMaxY;
  }

  // <r>_rowid in id order, many rows per statement.
  const rowidTable = q(rtree + '_rowid');
  const batch = 256;
  const writeRowids = db.prepare(`INSERT INTO ${rowidTable} (rowid, nodeno) VALUES ${new Array(batch).fill('(?,CAST(? AS INTEGER))').join(',')}`);
  const writeRowid = db.prepare(`INSERT INTO ${rowidTable} (rowid, nodeno) VALUES (?, CAST(? AS INTEGER))`);
  const params: number[] = new Array(batch * 2);
  let i = 0;
  for (; i + batch <= n; i += batch) {
    for (let r = 0; r < batch; r++) {
      params[2 * r] = boxes.ids[i + r];
      params[2 * r + 1] = leafOf[i + r];
    }
    writeRowids.run(params);
  }
  for (; i < n; i++) writeRowid.run(boxes.ids[i], leafOf[i]);
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
          geometry = decodeBlob(blob).geometry;
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

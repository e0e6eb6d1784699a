import { readFileSync } from 'node:fs';
import type { Polygon } from 'geojson';
import { LifecircleError, WarningLog } from '../errors.ts';
import { DEFAULT_OSM_TAGS } from '../model/osm-tags.ts';
import { GrowableArray } from '../util/growable.ts';
import { detectOsmFormat, readOsmFile } from './osm.ts';
import type { OsmReadStats, Tags } from './osm-types.ts';
import type { RawRow, RowSource } from './rows.ts';

/**
 * Facilities and residential buildings read straight from an OSM extract (PBF or XML), as rows for the
 * importer (`src/import/importer.ts`) and for population disaggregation (`src/import/disaggregate.ts`).
 *
 * **Facilities** (`kind: 'facilities'`): every node, and every closed way, whose tags satisfy the *anchor* of
 * some rule of the OSM tag table (`catalogue/osm-tags.json`, or `tagTable`). A rule's anchor is its first
 * condition on a real OSM tag — `amenity=school` for the school rules, `public_transport=platform` for
 * "platform + bus=yes", `railway=station|halt` for "station + station=subway"; numeric conditions on values
 * this module computes (`area_m2`) are never anchors. So the rows are a superset of what the table maps:
 * the importer applies the whole table (`--osm-tags`) and reports the rest (a tram platform, a mainline
 * station) as unmapped, with the tag that made it a candidate. Nodes become Point rows; closed ways become
 * Polygon rows with `area_m2` (schools, parks and hospitals are usually mapped as areas; the importer locates
 * them at a point inside the polygon, and the table sizes parks by `area_m2`). A closed way tagged
 * `area=no`, an open way, or a closed way of fewer than 3 distinct nodes is not an area: it is skipped and
 * counted (`waysNotArea`), with a capped warning naming the way.
 *
 * **Buildings** (`kind: 'buildings'`): closed ways that `isResidentialBuilding` accepts (see there for the
 * exact rule), as Polygon rows with footprint `area_m2`, `levels` (`building:levels` when it is a plain
 * number, else null) and `floor_area_m2` = area × levels (null when levels is unknown).
 *
 * **Props** of every row: all of the element's OSM tags, then `osm_type` ('node' | 'way'), `osm_id`
 * (number), `id` ("node/123", "way/456": node and way ids overlap, so `osm_id` alone is not unique; `id` is
 * what `--map id=osm_type+osm_id` would build, and the importer picks the `id` column before `osm_id`) and
 * the computed values above. Computed props are written after the tags and win over a tag of the same name.
 *
 * **Areas** (`area_m2`) are planar areas in a local projection on the WGS84 ellipsoid: each ring is projected
 * equirectangularly about its middle latitude φ0, with the ellipsoid's radii of curvature there (east-west
 * N(φ0)·cos φ0, north-south M(φ0), metres per radian), and measured with the shoelace formula (edges are
 * straight in lon/lat, as a map draws them). On the real fixtures it agrees with the ellipsoidal area with
 * geodesic edges (SpatiaLite `ST_Area(g, 1)`, as PostGIS `geography`) within 0.03 % for every building and
 * park (test/import/osm-features.test.ts); a sphere of the mean radius would be 0.5 % low at 60° N.
 *
 * **Not read**: multipolygon relations (buildings with courtyards, large parks and campuses mapped as
 * relations): the OSM readers skip relations. Such objects are missing from the rows; say so in reports.
 *
 * **Missing nodes**: extracts clipped by a box cut ways at the edge. A candidate way referencing a node not
 * in the file is skipped (its polygon would be wrong) and reported: warning kind 'missing-node', naming the
 * way and the first missing node; `stats.waysMissingNodes` counts them exactly.
 *
 * **Memory**: a way's polygon needs the coordinates of its nodes, but nodes come before ways in both formats
 * and carry no hint of which ways will use them, so in one pass every node must be kept. They are kept in
 * three growable typed arrays (doubling when full): id as Float64 (OSM ids are integers far below 2^53, so
 * exact) and lon/lat as Int32 in units of 1e-7° (OSM's own storage precision, ~1 cm, so nothing is lost):
 * 16 bytes a node instead of a JS object or Map entry (~80+ bytes). Ids are looked up by binary search;
 * files are normally sorted by id, otherwise a sorted permutation is built once before the first way.
 *
 * **Streaming**: rows are produced while the file is read and handed to the consumer through a queue; the
 * readers yield to the event loop between PBF blobs / XML chunks, so the queue holds about one block's rows.
 * Stopping the iteration early stops the read.
 *
 * The source's `format` is 'osm', which `RowSource['format']` does not list yet: `OsmFeatureSource` is a
 * `RowSource` in everything but that (see `OsmFeatureSource`).
 *
 * @example
 * const src = openOsmFeatures('helsinki.osm.pbf', { kind: 'buildings' });
 * for await (const row of src.rows) console.log(row.props.osm_id, row.props.area_m2, row.props.levels);
 * console.log(src.stats, src.warnings.format());
 */

export type OsmFeatureKind = 'facilities' | 'buildings';

export interface OsmFeatureOptions {
  kind: OsmFeatureKind;
  /** Bytes read so far and the file size, now and then (after each PBF blob / XML chunk). */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Where warnings go (missing nodes, open ways, unreadable levels, the readers' own); default: a new log. */
  warnings?: WarningLog;
  /** The OSM tag table whose rule anchors select facilities (default: catalogue/osm-tags.json). */
  tagTable?: string;
}

/** Exact counts, complete once `rows` has been iterated to the end. */
export interface OsmFeatureStats {
  /** Nodes and ways the reader passed on. */
  nodes: number;
  ways: number;
  /** Rows emitted: Point rows from nodes, Polygon rows from closed ways. */
  pointRows: number;
  areaRows: number;
  /** Candidate ways skipped because a referenced node is not in the file (bbox-clipped extracts). */
  waysMissingNodes: number;
  /** Candidate ways skipped because they are not areas: open, fewer than 3 distinct nodes, or area=no. */
  waysNotArea: number;
  /** Buildings: `building:levels` present but not a plain number ("3;4", "2-3", "several"): levels null. */
  levelsUnreadable: number;
}

/**
 * A RowSource whose `format` is 'osm'. Once 'osm' is added to `RowSource['format']`, this type is assignable
 * to RowSource as it is; until then a caller needing a RowSource casts (`as unknown as RowSource`).
 */
export interface OsmFeatureSource extends Omit<RowSource, 'format'> {
  format: 'osm';
  kind: OsmFeatureKind;
  /** PBF or XML, from the file's first bytes. */
  osmFormat: 'pbf' | 'xml';
  /** Always EPSG:4326: OSM is WGS84. */
  declaredCrs: 'EPSG:4326';
  warnings: WarningLog;
  stats: OsmFeatureStats;
  /** The reader's own counts (nodes, ways, relations, rejected nodes), once the read has finished. */
  read: OsmReadStats | null;
}

// --- residential buildings ------------------------------------------------------------------------------

/** `building=*` values that are dwellings whatever else the way says (OSM wiki, "Key:building", Accommodation). */
export const RESIDENTIAL_BUILDING_VALUES: readonly string[] = [
  'residential',
  'apartments',
  'house',
  'detached',
  'semidetached_house',
  'terrace',
  'dormitory',
  'bungalow',
  'farm',
];

/**
 * Keys that say a `building=yes` is used for something other than housing (a school, a shop, an office …).
 * `building:use` is here too: when it names a residential value the building is accepted before this test.
 */
export const NON_RESIDENTIAL_USE_KEYS: readonly string[] = [
  'amenity',
  'shop',
  'office',
  'tourism',
  'craft',
  'industrial',
  'healthcare',
  'leisure',
  'man_made',
  'public_transport',
  'railway',
  'aeroway',
  'military',
  'building:use',
];

const RESIDENTIAL = new Set(RESIDENTIAL_BUILDING_VALUES);

/**
 * Whether a building's tags make it a dwelling, for population disaggregation. Kept simple, by the tags
 * alone (no spatial test against landuse=residential):
 * 1. `building` is one of RESIDENTIAL_BUILDING_VALUES → yes;
 * 2. `building=yes` with `building:use` in those values (or `building:use=residential`), or with a
 *    `residential=*` tag → yes;
 * 3. `building=yes` with `building:levels` and none of NON_RESIDENTIAL_USE_KEYS → yes (a mapper who counted
 *    the floors of an unspecified building in a city block; in city centres this takes in some offices too:
 *    the weight is an estimate, say so);
 * 4. anything else → no: `building=yes` without levels or residential hint (sheds, garages, unknown), and
 *    every other value (commercial, retail, office, public, school, church, industrial, roof, garage …).
 */
export function isResidentialBuilding(tags: Readonly<Tags>): boolean {
  const b = tags.building;
  if (b === undefined) return false;
  if (RESIDENTIAL.has(b)) return true;
  if (b !== 'yes') return false;
  const use = tags['building:use'];
  if ((use !== undefined && RESIDENTIAL.has(use)) || tags.residential !== undefined) return true;
  if (tags['building:levels'] === undefined) return false;
  for (const k of NON_RESIDENTIAL_USE_KEYS) if (tags[k] !== undefined) return false;
  return true;
}

/** `building:levels` as a number when it is a plain non-negative number ("6", "2.5", "2,5"), else null. */
export function parseLevels(value: string | undefined): number | null {
  if (value === undefined) return null;
  const t = value.trim().replace(',', '.');
  if (!/^\d+(\.\d+)?$/.test(t)) return null;
  return Number(t);
}

// --- facility candidates from the tag table -------------------------------------------------------------

/** Values this module computes; a rule condition on them can never be a rule's anchor. */
const COMPUTED_KEYS = new Set(['area_m2']);
/** Same normalisation as the tag table: "isced:level" and "isced_level" are one key. */
const keyOf = (k: string) => k.replace(/:/g, '_');

/**
 * The anchors of a tag table's rules (normalised key → accepted values, or '*' for any value), and the tag
 * keys the table names (for the source's column list).
 */
export function tableAnchors(file = DEFAULT_OSM_TAGS): { anchors: Map<string, Set<string> | '*'>; keys: string[] } {
  let raw: { rules?: Array<{ when?: Record<string, string | string[]> }> };
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new LifecircleError('FILE_NOT_FOUND', `${file}: cannot read the OSM tag table (${(e as Error).message})`, { file });
  }
  if (!Array.isArray(raw.rules)) throw new LifecircleError('LAYER_INVALID', `${file}: no "rules" array: not an OSM tag table`, { file, field: 'rules' });
  const anchors = new Map<string, Set<string> | '*'>();
  const keys: string[] = [];
  raw.rules.forEach((rule, i) => {
    const when = Object.entries(rule.when ?? {});
    for (const [k] of when) if (!COMPUTED_KEYS.has(k) && !keys.includes(k)) keys.push(k);
    const anchor = when.find(([k, v]) => !COMPUTED_KEYS.has(keyOf(k)) && !(typeof v === 'string' && /^(>=|<=|>|<)/.test(v.trim())));
    if (!anchor) {
      throw new LifecircleError('LAYER_INVALID', `${file}: rule ${i + 1} has no condition on an OSM tag (only on computed values such as area_m2), so it would match every object`, { file, record: `rule ${i + 1}`, field: 'when' });
    }
    const [k, v] = anchor;
    const key = keyOf(k);
    const prev = anchors.get(key);
    if (v === '*' || prev === '*') anchors.set(key, '*');
    else {
      const set = prev ?? new Set<string>();
      for (const x of Array.isArray(v) ? v : [v]) set.add(x);
      anchors.set(key, set);
    }
  });
  return { anchors, keys };
}

/** Whether some tag satisfies a rule anchor: the element is a facility candidate. */
function anchorMatch(anchors: Map<string, Set<string> | '*'>, tags: Tags): boolean {
  for (const k in tags) {
    const a = anchors.get(keyOf(k));
    if (a === undefined) continue;
    const v = tags[k];
    if (a === '*' ? v !== '' : a.has(v)) return true;
  }
  return false;
}

// --- area on the ellipsoid ------------------------------------------------------------------------------

const RAD = Math.PI / 180;
const WGS84_A = 6_378_137;
const WGS84_F = 1 / 298.257223563;
const WGS84_E2 = WGS84_F * (2 - WGS84_F);

/**
 * Area in m² of a closed ring of [lon, lat] positions (first = last), in a local equirectangular projection
 * about the ring's middle latitude with the WGS84 radii of curvature there (see the module comment).
 */
export function ringAreaM2(ring: readonly (readonly number[])[]): number {
  let minLat = Infinity;
  let maxLat = -Infinity;
  for (const p of ring) {
    if (p[1] < minLat) minLat = p[1];
    if (p[1] > maxLat) maxLat = p[1];
  }
  const phi0 = ((minLat + maxLat) / 2) * RAD;
  const s = Math.sin(phi0);
  const w = Math.sqrt(1 - WGS84_E2 * s * s);
  const kx = (WGS84_A / w) * Math.cos(phi0) * RAD; // metres per degree of longitude at φ0 (N cos φ0)
  const ky = ((WGS84_A * (1 - WGS84_E2)) / (w * w * w)) * RAD; // metres per degree of latitude at φ0 (M)
  const lon0 = ring[0][0];
  const lat0 = ring[0][1];
  let twice = 0;
  for (let i = 0; i + 1 < ring.length; i++) {
    const x1 = (ring[i][0] - lon0) * kx;
    const y1 = (ring[i][1] - lat0) * ky;
    const x2 = (ring[i + 1][0] - lon0) * kx;
    const y2 = (ring[i + 1][1] - lat0) * ky;
    twice += x1 * y2 - x2 * y1;
  }
  return twice / 2; // positive when counter-clockwise
}

// --- node store -----------------------------------------------------------------------------------------

const E7 = 1e7;

/** Every node's id and coordinates, 16 bytes a node (see the module comment), looked up by binary search. */
class NodeStore {
  private readonly ids = new GrowableArray(Float64Array, 1 << 16);
  private readonly lonE7 = new GrowableArray(Int32Array, 1 << 16);
  private readonly latE7 = new GrowableArray(Int32Array, 1 << 16);
  private sorted = true;
  private lastId = -Infinity;
  /** Sorted ids (a view, or a sorted copy) and the permutation back to storage order when not sorted. */
  private index: Float64Array | null = null;
  private order: Uint32Array | null = null;

  push(id: number, lon: number, lat: number): void {
    if (id <= this.lastId) this.sorted = false;
    this.lastId = id;
    this.ids.push(id);
    this.lonE7.push(Math.round(lon * E7));
    this.latE7.push(Math.round(lat * E7));
    this.index = null; // a node after ways (unusual files): rebuild the index at the next lookup
  }

  /** Storage index of the node, or -1 when the file has no such node (the first occurrence of a duplicate). */
  find(id: number): number {
    if (this.index === null) this.buildIndex();
    const ids = this.index!;
    let lo = 0;
    let hi = ids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = ids[mid];
      if (v < id) lo = mid + 1;
      else if (v > id) hi = mid - 1;
      else {
        let first = mid;
        while (first > 0 && ids[first - 1] === id) first--;
        return this.order ? this.order[first] : first;
      }
    }
    return -1;
  }

  lon(i: number): number {
    return this.lonE7.get(i) / E7;
  }

  lat(i: number): number {
    return this.latE7.get(i) / E7;
  }

  private buildIndex(): void {
    const ids = this.ids.view();
    if (this.sorted) {
      this.index = ids;
      this.order = null;
      return;
    }
    const order = new Uint32Array(ids.length);
    for (let i = 0; i < order.length; i++) order[i] = i;
    order.sort((a, b) => ids[a] - ids[b] || a - b); // stable on ties: the first occurrence comes first
    const sortedIds = new Float64Array(ids.length);
    for (let i = 0; i < order.length; i++) sortedIds[i] = ids[order[i]];
    this.index = sortedIds;
    this.order = order;
  }
}

// --- the source -----------------------------------------------------------------------------------------

const FACILITY_COLUMNS = ['id', 'osm_type', 'osm_id', 'name', 'name:zh', 'name:en', 'operator', 'area_m2'];
const BUILDING_COLUMNS = ['id', 'osm_type', 'osm_id', 'building', 'building:levels', 'building:use', 'name', 'area_m2', 'levels', 'floor_area_m2'];

/** Thrown into the reader from the sink when the consumer has stopped iterating. */
class Stopped extends Error {}

const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * Opens an OSM file (PBF or XML, by its first bytes) as a source of facility or residential-building rows.
 * The file is checked now (FILE_NOT_FOUND, FILE_EMPTY, FILE_NOT_OSM); it is read while `rows` is iterated.
 * `columns` lists the props the importer may map (identity, name, computed values and the tag table's keys),
 * not every tag key in the file, which is unknown before reading it; every tag is in each row's props.
 */
export function openOsmFeatures(path: string, options: OsmFeatureOptions): OsmFeatureSource {
  const { kind } = options;
  if (kind !== 'facilities' && kind !== 'buildings') {
    throw new LifecircleError('ARGUMENT_INVALID', `openOsmFeatures: kind must be 'facilities' or 'buildings', got ${JSON.stringify(kind)}`, { field: 'kind' });
  }
  const osmFormat = detectOsmFormat(path);
  const table = kind === 'facilities' ? tableAnchors(options.tagTable) : null;
  const warnings = options.warnings ?? new WarningLog();
  const stats: OsmFeatureStats = { nodes: 0, ways: 0, pointRows: 0, areaRows: 0, waysMissingNodes: 0, waysNotArea: 0, levelsUnreadable: 0 };
  const columns = kind === 'facilities' ? [...FACILITY_COLUMNS, ...table!.keys.filter((k) => !FACILITY_COLUMNS.includes(k))] : BUILDING_COLUMNS;

  const source: OsmFeatureSource = {
    format: 'osm',
    kind,
    osmFormat,
    encoding: 'utf-8',
    declaredCrs: 'EPSG:4326',
    columns,
    warnings,
    stats,
    read: null,
    rows: rows(),
  };
  return source;

  async function* rows(): AsyncGenerator<RawRow> {
    const nodes = new NodeStore();
    let queue: RawRow[] = [];
    let wake: (() => void) | null = null;
    let finished = false;
    let failure: unknown = null;
    let stopped = false;
    let row = 0;
    const emit = (r: Omit<RawRow, 'row'>) => {
      queue.push({ row: ++row, ...r });
      if (wake) {
        wake();
        wake = null;
      }
    };
    const isCandidate = (tags: Tags) => (table ? anchorMatch(table.anchors, tags) : isResidentialBuilding(tags));

    const sink = {
      node(id: number, lon: number, lat: number, tags: Tags | null) {
        if (stopped) throw new Stopped();
        stats.nodes++;
        nodes.push(id, lon, lat);
        if (tags === null || !table || !anchorMatch(table.anchors, tags)) return;
        stats.pointRows++;
        const featureId = `node/${id}`;
        emit({
          props: { ...tags, osm_type: 'node', osm_id: id, id: featureId },
          geometry: { type: 'Point', coordinates: [Math.round(lon * E7) / E7, Math.round(lat * E7) / E7] },
          featureId,
        });
      },
      way(id: number, refs: readonly number[], tags: Tags) {
        if (stopped) throw new Stopped();
        stats.ways++;
        if (!isCandidate(tags)) return;
        const closed = refs.length >= 4 && refs[0] === refs[refs.length - 1];
        if (!closed || tags.area === 'no') {
          stats.waysNotArea++;
          warnings.add('not-an-area', `${path}: way ${id} (${telling(tags)}) is ${closed ? 'tagged area=no' : 'not closed'}: not an area, skipped`, { file: path, record: `way ${id}` });
          return;
        }
        const ring: number[][] = [];
        let prevRef = NaN;
        for (const ref of refs) {
          if (ref === prevRef) continue; // a node repeated in a row adds nothing to the ring
          prevRef = ref;
          const n = nodes.find(ref);
          if (n < 0) {
            stats.waysMissingNodes++;
            warnings.add('missing-node', `${path}: way ${id} (${telling(tags)}) references node ${ref}, which is not in the file (clipped extract?); way skipped`, {
              file: path,
              record: `way ${id}`,
              field: 'nd',
            });
            return;
          }
          ring.push([nodes.lon(n), nodes.lat(n)]);
        }
        if (ring.length < 4) {
          stats.waysNotArea++;
          warnings.add('not-an-area', `${path}: way ${id} (${telling(tags)}) has fewer than 3 distinct nodes: not an area, skipped`, { file: path, record: `way ${id}` });
          return;
        }
        let signed = ringAreaM2(ring);
        if (signed < 0) {
          ring.reverse(); // RFC 7946: exterior rings counter-clockwise
          signed = -signed;
        }
        const geometry: Polygon = { type: 'Polygon', coordinates: [ring] };
        const featureId = `way/${id}`;
        const props: Record<string, unknown> = { ...tags, osm_type: 'way', osm_id: id, id: featureId, area_m2: round2(signed) };
        if (kind === 'buildings') {
          const levels = parseLevels(tags['building:levels']);
          if (levels === null && tags['building:levels'] !== undefined) {
            stats.levelsUnreadable++;
            warnings.add('levels-unreadable', `${path}: way ${id}: building:levels=${JSON.stringify(tags['building:levels'])} is not a plain number; levels and floor area left empty`, {
              file: path,
              record: `way ${id}`,
              field: 'building:levels',
            });
          }
          props.levels = levels;
          props.floor_area_m2 = levels === null ? null : round2(signed * levels);
        }
        stats.areaRows++;
        emit({ props, geometry, featureId });
      },
    };

    const reading = readOsmFile(path, sink, { onProgress: options.onProgress, warnings }).then(
      (read) => {
        source.read = read;
      },
      (e: unknown) => {
        if (!(e instanceof Stopped)) failure = e;
      },
    );
    void reading.finally(() => {
      finished = true;
      if (wake) {
        wake();
        wake = null;
      }
    });

    try {
      for (;;) {
        if (queue.length > 0) {
          const batch = queue;
          queue = [];
          for (const r of batch) yield r;
          continue;
        }
        if (finished) break;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
      if (failure) throw failure;
    } finally {
      // the consumer stopped early (break/return) or the read failed: make the reader stop at its next element
      stopped = true;
      await reading;
    }
  }
}

/** The tag that best says what an element is, for messages. */
function telling(tags: Tags): string {
  for (const k of ['building', 'amenity', 'leisure', 'shop', 'healthcare', 'highway', 'public_transport', 'railway', 'social_facility']) {
    if (tags[k] !== undefined) return `${k}=${tags[k]}`;
  }
  const first = Object.keys(tags)[0];
  return first === undefined ? 'no tags' : `${first}=${tags[first]}`;
}

import { existsSync, readFileSync, statSync } from 'node:fs';
import * as shapefile from 'shapefile';
import type { Feature, Geometry, GeoJsonProperties } from 'geojson';
import { LifecircleError, WarningLog } from '../errors.ts';
import { haversineM, isValidLonLat } from '../geo.ts';
import { GrowableArray } from '../util/growable.ts';
import type { RawNetwork } from '../network/build.ts';
import { MODE_PROFILES, type ModeName } from '../network/profiles.ts';

/**
 * Which attribute of the road layer holds what. All optional:
 * - lengthField: edge length in metres (else measured on the geometry).
 * - speedField: speed in km/h; it caps each mode's own speed (walkers are not sped up by a road's limit).
 * - costField / reverseCostField: travel time in seconds along / against the line's digitised direction, as
 *   pgRouting's cost / reverse_cost (a negative value = not traversable that way). Without a reverse cost
 *   field the reverse cost equals the cost (a two-way edge, as pgRouting with directed => false). With costs
 *   given, every mode uses them, so results compare edge for edge with pgRouting fed the same layer.
 * - onewayField: yes/true/1/T/FT = only along the digitised direction, -1/reverse/TF = only against it,
 *   anything else both. Binds bikes (also with cost fields); pedestrians are not bound by oneway.
 */
export interface RoadFieldMap {
  lengthField?: string;
  speedField?: string;
  costField?: string;
  reverseCostField?: string;
  onewayField?: string;
  idField?: string;
}

export interface RoadLayerOptions extends RoadFieldMap {
  modes: ModeName[];
  /** Text encoding of a Shapefile's .dbf (e.g. 'gbk'); overrides the .cpg file; default the .cpg, else utf-8. */
  encoding?: string;
  warnings?: WarningLog;
  attribution?: string;
}

const ONEWAY_FORWARD = new Set(['yes', 'true', '1', 't', 'ft', 'y']);
const ONEWAY_BACKWARD = new Set(['-1', 'reverse', 'tf']);

/**
 * Builds a RawNetwork from a road centreline layer (GeoJSON or ESRI Shapefile of LineStrings /
 * MultiLineStrings in WGS84 lon/lat): each line becomes one edge between its end points, and lines are
 * noded where their end points coincide (to 1e-7°, ≈ 1 cm), the way pgRouting's pgr_createTopology and most
 * bureaus' road layers expect. Interior vertices are shape only: two lines that cross without sharing an
 * end point do not connect (a flyover over a street).
 */
export async function readRoadLayer(path: string, options: RoadLayerOptions): Promise<RawNetwork> {
  if (!existsSync(path)) throw new LifecircleError('FILE_NOT_FOUND', `${path}: file not found`, { file: path });
  if (statSync(path).size === 0) throw new LifecircleError('FILE_EMPTY', `${path}: file is empty (0 bytes); expected a GeoJSON or Shapefile road layer`, { file: path });
  const lower = path.toLowerCase();
  const builder = new RoadLayerBuilder(path, options);
  if (lower.endsWith('.shp')) {
    const dbf = path.slice(0, -4) + '.dbf';
    const cpg = path.slice(0, -4) + '.cpg';
    const encoding = options.encoding ?? (existsSync(cpg) ? readFileSync(cpg, 'utf8').trim().toLowerCase() : 'utf-8');
    let source;
    try {
      source = await shapefile.open(path, existsSync(dbf) ? dbf : undefined, { encoding });
    } catch (e) {
      throw new LifecircleError('LAYER_INVALID', `${path}: not a readable Shapefile: ${(e as Error).message}`, { file: path });
    }
    for (let i = 0; ; i++) {
      let r;
      try {
        r = await source.read();
      } catch (e) {
        throw new LifecircleError('LAYER_INVALID', `${path}: record ${i + 1}: cannot be read (${(e as Error).message}); truncated or corrupt Shapefile?`, { file: path, record: `record ${i + 1}` });
      }
      if (r.done) break;
      builder.add(r.value as Feature, i);
    }
  } else {
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(path, 'utf8').replace(/^\uFEFF/, ''));
    } catch (e) {
      throw new LifecircleError('LAYER_INVALID', `${path}: not valid JSON (${(e as Error).message}); expected a GeoJSON FeatureCollection of lines`, { file: path });
    }
    const fc = doc as { type?: string; features?: unknown[] };
    if (fc.type !== 'FeatureCollection' || !Array.isArray(fc.features)) {
      throw new LifecircleError('LAYER_INVALID', `${path}: GeoJSON type is ${JSON.stringify(fc.type)}, expected "FeatureCollection" with a features array`, { file: path, field: 'type' });
    }
    fc.features.forEach((f, i) => builder.add(f as Feature, i));
  }
  return builder.finish();
}

class RoadLayerBuilder {
  private readonly path: string;
  private readonly options: RoadLayerOptions;
  private readonly warnings: WarningLog;
  private readonly modeCount: number;
  private readonly vertexIndex = new Map<string, number>();
  private readonly vertexLon = new GrowableArray(Float64Array, 1 << 14);
  private readonly vertexLat = new GrowableArray(Float64Array, 1 << 14);
  private readonly lineStart = new GrowableArray(Uint32Array, 1 << 12);
  private readonly lineVertices = new GrowableArray(Uint32Array, 1 << 14);
  private readonly lineWayId = new GrowableArray(Float64Array, 1 << 12);
  private readonly secFwd = new GrowableArray(Float64Array, 1 << 12);
  private readonly secBack = new GrowableArray(Float64Array, 1 << 12);
  private lineFeatures = 0;

  constructor(path: string, options: RoadLayerOptions) {
    this.path = path;
    this.options = options;
    this.warnings = options.warnings ?? new WarningLog();
    this.modeCount = options.modes.length;
  }

  private vertex(lon: number, lat: number): number {
    const key = `${Math.round(lon * 1e7)},${Math.round(lat * 1e7)}`;
    let v = this.vertexIndex.get(key);
    if (v === undefined) {
      v = this.vertexLon.length;
      this.vertexIndex.set(key, v);
      this.vertexLon.push(lon);
      this.vertexLat.push(lat);
    }
    return v;
  }

  private numberField(props: GeoJsonProperties, field: string | undefined, record: string): number | undefined {
    if (field === undefined) return undefined;
    const raw = props?.[field];
    if (raw === undefined || raw === null || raw === '') {
      throw new LifecircleError('LAYER_FIELD_INVALID', `${this.path}: ${record} field ${field}: missing, expected a number`, { file: this.path, record, field });
    }
    const n = typeof raw === 'number' ? raw : Number(String(raw).trim());
    if (!Number.isFinite(n)) {
      throw new LifecircleError('LAYER_FIELD_INVALID', `${this.path}: ${record} field ${field}: expected a number, got ${JSON.stringify(raw)}`, { file: this.path, record, field });
    }
    return n;
  }

  add(feature: Feature, index: number): void {
    const o = this.options;
    const props = feature?.properties ?? {};
    const idRaw = o.idField ? props[o.idField] : (feature as { id?: unknown })?.id;
    const record = `feature ${index + 1}${idRaw !== undefined && idRaw !== null ? ` (id ${String(idRaw)})` : ''}`;
    const geometry = feature?.geometry as Geometry | null | undefined;
    if (!geometry) {
      this.warnings.add('no-geometry', `${this.path}: ${record} has no geometry; skipped`, { file: this.path, record, field: 'geometry' });
      return;
    }
    let parts: number[][][];
    if (geometry.type === 'LineString') parts = [geometry.coordinates as number[][]];
    else if (geometry.type === 'MultiLineString') parts = geometry.coordinates as number[][][];
    else {
      this.warnings.add('not-a-line', `${this.path}: ${record} is a ${geometry.type}, expected LineString or MultiLineString; skipped`, { file: this.path, record, field: 'geometry' });
      return;
    }
    const lengthGiven = this.numberField(props, o.lengthField, record);
    const speedKmh = this.numberField(props, o.speedField, record);
    const cost = this.numberField(props, o.costField, record);
    const reverseCost = o.reverseCostField !== undefined ? this.numberField(props, o.reverseCostField, record) : cost;
    if (lengthGiven !== undefined && lengthGiven < 0) {
      throw new LifecircleError('LAYER_FIELD_INVALID', `${this.path}: ${record} field ${o.lengthField}: expected a length >= 0 metres, got ${lengthGiven}`, { file: this.path, record, field: o.lengthField });
    }
    if (speedKmh !== undefined && !(speedKmh > 0)) {
      throw new LifecircleError('LAYER_FIELD_INVALID', `${this.path}: ${record} field ${o.speedField}: expected a speed > 0 km/h, got ${speedKmh}`, { file: this.path, record, field: o.speedField });
    }
    const onewayRaw = o.onewayField ? String(props[o.onewayField] ?? '').trim().toLowerCase() : '';
    const bikeForward = !ONEWAY_BACKWARD.has(onewayRaw);
    const bikeBackward = !ONEWAY_FORWARD.has(onewayRaw);

    for (const coords of parts) {
      if (!Array.isArray(coords) || coords.length < 2) {
        this.warnings.add('short-line', `${this.path}: ${record} has a line with fewer than 2 points; skipped`, { file: this.path, record, field: 'geometry' });
        continue;
      }
      for (const c of coords) {
        if (!Array.isArray(c) || !isValidLonLat(c[0], c[1])) {
          const looksProjected = Array.isArray(c) && Number.isFinite(c[0]) && (Math.abs(c[0]) > 180 || Math.abs(c[1]) > 90);
          throw new LifecircleError(
            'LAYER_INVALID',
            `${this.path}: ${record} coordinate ${JSON.stringify(c)} is not WGS84 lon,lat${looksProjected ? ' (it looks projected: reproject the layer to EPSG:4326 first, e.g. ogr2ogr -t_srs EPSG:4326)' : ''}`,
            { file: this.path, record, field: 'geometry' },
          );
        }
      }
      let geomLengthM = 0;
      for (let k = 1; k < coords.length; k++) geomLengthM += haversineM(coords[k - 1][0], coords[k - 1][1], coords[k][0], coords[k][1]);
      if (geomLengthM === 0) {
        this.warnings.add('zero-length', `${this.path}: ${record} has zero length; skipped`, { file: this.path, record, field: 'geometry' });
        continue;
      }
      // A MultiLineString's given length/cost is shared by its parts in proportion to their lengths, which
      // keeps the pace (s/m) the same on every part.
      const lengthM = lengthGiven !== undefined ? lengthGiven * (parts.length === 1 ? 1 : geomLengthM / totalLength(parts)) : geomLengthM;
      this.lineStart.push(this.lineVertices.length);
      const first = this.vertex(coords[0][0], coords[0][1]);
      const last = this.vertex(coords[coords.length - 1][0], coords[coords.length - 1][1]);
      // Interior points are shape only: give them private vertices so lines never node there.
      this.lineVertices.push(first);
      for (let k = 1; k < coords.length - 1; k++) {
        this.lineVertices.push(this.vertexLon.length);
        this.vertexLon.push(coords[k][0]);
        this.vertexLat.push(coords[k][1]);
      }
      this.lineVertices.push(last);
      this.lineWayId.push(typeof idRaw === 'number' ? idRaw : index + 1);
      for (let m = 0; m < this.modeCount; m++) {
        const mode = o.modes[m];
        let fwd: number;
        let back: number;
        if (cost !== undefined) {
          // a feature's cost is for the whole feature: a MultiLineString shares it over all its parts
          const featureLengthM = parts.length === 1 ? geomLengthM : totalLength(parts);
          fwd = cost >= 0 ? cost / featureLengthM : Infinity;
          back = reverseCost !== undefined && reverseCost >= 0 ? reverseCost / featureLengthM : Infinity;
        } else {
          // a speed field caps the mode's own speed (a 60 km/h limit does not make walkers faster; a
          // 3 km/h crowded lane slows everyone)
          const speedMps = Math.min(MODE_PROFILES[mode].speedMps, speedKmh !== undefined ? speedKmh / 3.6 : Infinity);
          // pace scaled so that the whole line takes lengthM / speed even when lengthM is given by a field
          fwd = lengthM / speedMps / geomLengthM;
          back = fwd;
        }
        if (mode === 'bike') {
          if (!bikeForward) fwd = Infinity;
          if (!bikeBackward) back = Infinity;
        }
        this.secFwd.push(fwd);
        this.secBack.push(back);
      }
      this.lineFeatures++;
    }
  }

  finish(): RawNetwork {
    if (this.lineFeatures === 0) {
      throw new LifecircleError('LAYER_INVALID', `${this.path}: no usable line features (LineString or MultiLineString) in the layer`, { file: this.path });
    }
    this.lineStart.push(this.lineVertices.length);
    const vertexCount = this.vertexLon.length;
    const o = this.options;
    const notes: string[] = [];
    if (o.costField) notes.push(`Travel times come from the layer's cost fields (${o.costField}${o.reverseCostField ? ', ' + o.reverseCostField : ''}, seconds) for every mode.`);
    else if (o.speedField) notes.push(`The layer's speed field (${o.speedField}, km/h) caps each mode's speed.`);
    return {
      source: this.path,
      sourceKind: 'centreline',
      attribution: o.attribution ?? 'Road centreline layer supplied by the user',
      notes,
      modes: o.modes,
      vertexLon: this.vertexLon.toArray(),
      vertexLat: this.vertexLat.toArray(),
      vertexOsmId: new Float64Array(vertexCount).fill(-1),
      vertexBlocked: new Uint8Array(vertexCount),
      lineStart: this.lineStart.toArray(),
      lineVertices: this.lineVertices.toArray(),
      lineWayId: this.lineWayId.toArray(),
      lineSecPerMFwd: this.secFwd.toArray(),
      lineSecPerMBack: this.secBack.toArray(),
    };
  }
}

function totalLength(parts: number[][][]): number {
  let m = 0;
  for (const coords of parts) for (let k = 1; k < coords.length; k++) m += haversineM(coords[k - 1][0], coords[k - 1][1], coords[k][0], coords[k][1]);
  return m;
}

import { existsSync, readFileSync, statSync } from 'node:fs';
import { LifecircleError } from '../errors.ts';
import { isValidLonLat } from '../geo.ts';

/** Points read from a file: columns, one entry per point, in file order. */
export interface PointSet {
  source: string;
  lon: Float64Array;
  lat: Float64Array;
  /** The point's id (feature id, an `id` property/column, or its 1-based position). */
  id: string[];
  name: (string | null)[];
}

/**
 * Reads points (homes, facilities, committee centres) from GeoJSON (Point / MultiPoint features) or CSV with
 * `lon`/`lat` columns (also `lng`/`longitude`/`x` and `latitude`/`y`), WGS84. Errors name the file, the
 * feature or row, and the field; nothing partial is returned.
 */
export function readPoints(path: string): PointSet {
  if (!existsSync(path)) throw new LifecircleError('FILE_NOT_FOUND', `${path}: file not found`, { file: path });
  if (statSync(path).size === 0) throw new LifecircleError('FILE_EMPTY', `${path}: file is empty (0 bytes)`, { file: path });
  const text = readFileSync(path, 'utf8').replace(/^\uFEFF/, '');
  return path.toLowerCase().endsWith('.csv') ? pointsFromCsv(path, text) : pointsFromGeoJson(path, text);
}

function pointsFromGeoJson(path: string, text: string): PointSet {
  let doc: { type?: string; features?: Array<{ id?: unknown; geometry?: { type?: string; coordinates?: unknown }; properties?: Record<string, unknown> | null }> };
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new LifecircleError('LAYER_INVALID', `${path}: not valid JSON (${(e as Error).message}); expected a GeoJSON FeatureCollection of points`, { file: path });
  }
  if (doc.type !== 'FeatureCollection' || !Array.isArray(doc.features)) {
    throw new LifecircleError('LAYER_INVALID', `${path}: GeoJSON type is ${JSON.stringify(doc.type)}, expected "FeatureCollection"`, { file: path, field: 'type' });
  }
  const lon: number[] = [];
  const lat: number[] = [];
  const id: string[] = [];
  const name: (string | null)[] = [];
  doc.features.forEach((f, i) => {
    const record = `feature ${i + 1}`;
    const g = f?.geometry;
    const coords: unknown[] = g?.type === 'Point' ? [g.coordinates] : g?.type === 'MultiPoint' && Array.isArray(g.coordinates) ? g.coordinates : [];
    if (coords.length === 0) {
      throw new LifecircleError('LAYER_INVALID', `${path}: ${record}: geometry is ${g?.type ?? 'missing'}, expected Point`, { file: path, record, field: 'geometry' });
    }
    const props = f.properties ?? {};
    const fid = f.id ?? props.id ?? i + 1;
    for (const c of coords) {
      const [x, y] = Array.isArray(c) ? (c as number[]) : [NaN, NaN];
      if (!isValidLonLat(x, y)) {
        throw new LifecircleError('POINT_INVALID', `${path}: ${record} (id ${String(fid)}): coordinates ${JSON.stringify(c)} are not WGS84 lon,lat`, { file: path, record, field: 'geometry' });
      }
      lon.push(x);
      lat.push(y);
      id.push(String(fid));
      name.push(typeof props.name === 'string' ? props.name : null);
    }
  });
  return { source: path, lon: Float64Array.from(lon), lat: Float64Array.from(lat), id, name };
}

function pointsFromCsv(path: string, text: string): PointSet {
  const lines = text.split(/\r?\n/).filter((l) => l.trim().length > 0);
  if (lines.length === 0) throw new LifecircleError('FILE_EMPTY', `${path}: no rows`, { file: path });
  const header = splitCsvLine(lines[0]).map((h) => h.trim().toLowerCase());
  const col = (names: string[]) => header.findIndex((h) => names.includes(h));
  const lonCol = col(['lon', 'lng', 'longitude', 'x']);
  const latCol = col(['lat', 'latitude', 'y']);
  const idCol = col(['id']);
  const nameCol = col(['name']);
  if (lonCol < 0 || latCol < 0) {
    throw new LifecircleError('LAYER_INVALID', `${path}: header ${JSON.stringify(lines[0])} has no lon/lat columns (expected lon,lat or longitude,latitude or x,y)`, { file: path, record: 'row 1', field: lonCol < 0 ? 'lon' : 'lat' });
  }
  const n = lines.length - 1;
  const lon = new Float64Array(n);
  const lat = new Float64Array(n);
  const id: string[] = [];
  const name: (string | null)[] = [];
  for (let r = 1; r <= n; r++) {
    const cells = splitCsvLine(lines[r]);
    const x = Number(cells[lonCol]);
    const y = Number(cells[latCol]);
    const record = `row ${r + 1}`;
    if (!isValidLonLat(x, y)) {
      throw new LifecircleError('POINT_INVALID', `${path}: ${record}: lon ${JSON.stringify(cells[lonCol])}, lat ${JSON.stringify(cells[latCol])}: expected WGS84 numbers (lon -180..180, lat -90..90)`, {
        file: path,
        record,
        field: Number.isFinite(x) && x >= -180 && x <= 180 ? 'lat' : 'lon',
      });
    }
    lon[r - 1] = x;
    lat[r - 1] = y;
    id.push(idCol >= 0 ? cells[idCol].trim() : String(r));
    name.push(nameCol >= 0 ? cells[nameCol].trim() : null);
  }
  return { source: path, lon, lat, id, name };
}

/**
 * One CSV record's fields (RFC 4180 quoting: "a, b" is one field, "" is a quote). Records spanning lines
 * are not supported here; the full CSV importer of the data stage handles those.
 */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field.length === 0) quoted = true;
    else if (ch === ',') {
      out.push(field);
      field = '';
    } else field += ch;
  }
  out.push(field);
  return out;
}

import { createReadStream, openSync, readSync, closeSync, statSync, existsSync, readFileSync } from 'node:fs';
import * as shapefile from 'shapefile';
import { listGeoPackageLayers, readGeoPackageLayer } from '../io/gpkg.ts';
import type { Geometry } from 'geojson';
import { LifecircleError } from '../errors.ts';
import { CsvError, CsvParser, type CsvBatch } from './csv.ts';

/** One record as read from a file, before mapping: 1-based row (CSV data row) or feature number. */
export interface RawRow {
  row: number;
  props: Record<string, unknown>;
  geometry: Geometry | null;
  /** A feature's own id (GeoJSON `id`), when it has one. */
  featureId?: string;
}

export interface RowSource {
  format: 'csv' | 'geojson' | 'shapefile' | 'geopackage' | 'osm';
  encoding: string;
  /** The CRS the file declares (GeoPackage srs_id as "EPSG:n"), when it declares one. */
  declaredCrs?: string;
  delimiter?: string;
  columns: string[];
  rows: AsyncIterable<RawRow>;
}

const DELIMITERS = [',', ';', '\t', '|'];

/** The first bytes of a file, to tell what it really is (extensions lie). */
export function fileHead(path: string, bytes = 65536): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(Math.min(bytes, statSync(path).size));
    readSync(fd, buf, 0, buf.length, 0);
    return buf;
  } finally {
    closeSync(fd);
  }
}

/** What the bytes look like, whatever the name says. */
export function sniffFormat(buf: Buffer): 'csv' | 'geojson' | 'zip' | 'sqlite' | 'pbf' | 'shp' | 'binary' | 'xml' {
  if (buf.length >= 4 && buf.readUInt32LE(0) === 0x04034b50) return 'zip';
  if (buf.subarray(0, 16).toString('latin1') === 'SQLite format 3\u0000') return 'sqlite';
  if (buf.length >= 4 && buf.readUInt32BE(0) === 9994) return 'shp';
  if (buf.length >= 14 && buf.indexOf('OSMHeader') === 6) return 'pbf';
  const text = buf.toString('utf8').replace(/^\uFEFF/, '').trimStart();
  if (text.startsWith('{') || text.startsWith('[')) return 'geojson';
  if (text.startsWith('<')) return 'xml';
  // control bytes other than tab/CR/LF mean binary
  for (let i = 0; i < Math.min(buf.length, 4096); i++) {
    const b = buf[i];
    if (b < 9 || (b > 13 && b < 32 && b !== 27)) return 'binary';
  }
  return 'csv';
}

/** utf-8 when the bytes decode strictly as UTF-8, else gbk (GB18030 superset) — the usual Chinese export. */
export function sniffEncoding(buf: Buffer): 'utf-8' | 'gbk' {
  // cut at the last newline so a multi-byte character split by the sample does not count as invalid
  const cut = buf.lastIndexOf(10);
  const sample = cut > 0 ? buf.subarray(0, cut) : buf;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(sample);
    return 'utf-8';
  } catch {
    return 'gbk';
  }
}

/** The delimiter that splits the header and the next lines into the same, largest number of fields. */
export function sniffDelimiter(text: string): string {
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0).slice(0, 20);
  let best = ',';
  let bestScore = 0;
  for (const d of DELIMITERS) {
    const counts = lines.map((l) => l.split(d).length);
    if (counts[0] < 2) continue;
    const consistent = counts.filter((c) => c === counts[0]).length;
    const score = consistent * 100 + counts[0];
    if (score > bestScore) {
      bestScore = score;
      best = d;
    }
  }
  return best;
}

const NAME = { csv: 'CSV', geojson: 'GeoJSON' } as const;

/**
 * Opens a CSV or GeoJSON file for streaming, checking that it is what it claims: a `.csv` that is really a
 * zip (an Excel file), a GeoJSON, an OSM PBF or a SQLite file is refused with what it looks like instead.
 * Encoding: explicit, else UTF-8 when it decodes strictly, else GBK; a BOM is dropped. CSV delimiter:
 * explicit, else sniffed from the first lines.
 */
export function openRows(path: string, options: { encoding?: string; delimiter?: string; format?: 'csv' | 'geojson'; layer?: string } = {}): RowSource {
  if (!existsSync(path)) throw new LifecircleError('FILE_NOT_FOUND', `${path}: file not found`, { file: path });
  if (statSync(path).size === 0) throw new LifecircleError('FILE_EMPTY', `${path}: file is empty (0 bytes)`, { file: path });
  const buf = fileHead(path);
  if (/\.shp$/i.test(path)) {
    if (sniffFormat(buf) !== 'shp') throw new LifecircleError('LAYER_INVALID', `${path}: not an ESRI Shapefile (no .shp file code 9994 in its header)`, { file: path });
    return openShapefile(path, options.encoding);
  }
  if (/\.gpkg$/i.test(path)) {
    if (sniffFormat(buf) !== 'sqlite') throw new LifecircleError('LAYER_INVALID', `${path}: not a GeoPackage (not an SQLite file)`, { file: path });
    return openGeoPackage(path, options.layer);
  }
  const expected = options.format ?? (/\.(geo)?json$/i.test(path) ? 'geojson' : 'csv');
  const actual = sniffFormat(buf);
  if (actual !== expected) {
    const what = { zip: 'a zip archive (an Excel .xlsx? export it as CSV)', sqlite: 'a SQLite/GeoPackage file', shp: 'an ESRI Shapefile', pbf: 'an OSM PBF file', binary: 'binary data', xml: 'XML', csv: 'CSV text', geojson: 'JSON/GeoJSON' }[actual];
    throw new LifecircleError('LAYER_INVALID', `${path}: expected ${NAME[expected]} (by its name or --format) but the file is ${what}`, { file: path });
  }
  const encoding = (options.encoding ?? sniffEncoding(buf)).toLowerCase();
  try {
    new TextDecoder(encoding);
  } catch {
    throw new LifecircleError('ARGUMENT_INVALID', `${path}: unknown text encoding "${encoding}" (try utf-8 or gbk)`, { file: path, field: 'encoding' });
  }
  return expected === 'csv' ? openCsv(path, buf, encoding, options.delimiter) : openGeoJson(path, encoding);
}

async function* decodedChunks(path: string, encoding: string): AsyncGenerator<string> {
  const decoder = new TextDecoder(encoding);
  let first = true;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    let text = decoder.decode(chunk as Buffer, { stream: true });
    if (first) {
      text = text.replace(/^\uFEFF/, '');
      first = false;
    }
    if (text.length > 0) yield text;
  }
  const rest = decoder.decode();
  if (rest.length > 0) yield rest;
}

function openCsv(path: string, buf: Buffer, encoding: string, delimiterOption?: string): RowSource {
  const text = new TextDecoder(encoding).decode(buf).replace(/^\uFEFF/, '');
  const delimiter = delimiterOption ?? sniffDelimiter(text);
  const headerLine = text.split(/\r?\n/)[0] ?? '';
  // the header as the parser reads it (quoted names may hold the delimiter); a sample cut mid-record falls back to a split
  let header: string[];
  try {
    const p = new CsvParser({ delimiter });
    const first = p.push(text).records[0] ?? (buf.length === statSync(path).size ? p.end().records[0] : undefined);
    header = first ?? headerLine.split(delimiter);
  } catch {
    header = headerLine.split(delimiter);
  }
  const columns = header.map((c) => c.trim());
  if (columns.length < 2) {
    const other = DELIMITERS.find((d) => d !== delimiter && headerLine.split(d).length > 1);
    throw new LifecircleError(
      'LAYER_INVALID',
      `${path}: row 1 (header) splits into ${columns.length} column with delimiter ${JSON.stringify(delimiter)}${other ? `; the file looks ${JSON.stringify(other)}-delimited (give --delimiter ${JSON.stringify(other)})` : ''}`,
      { file: path, record: 'row 1' },
    );
  }
  async function* rows(): AsyncGenerator<RawRow> {
    const parser = new CsvParser({ delimiter });
    const width = columns.length;
    // One object literal with the header's keys, compiled once: every row's props then share one hidden
    // class, which V8 builds and reads several times faster than keys added one by one in a loop.
    const makeProps = new Function('f', `return {${columns.map((c, i) => `${JSON.stringify(c)}: f[${i}].trim()`).join(', ')}};`) as (f: string[]) => Record<string, unknown>;
    let row = 0;
    let headerSeen = false;
    // Records come a chunk (1 MB) at a time, so the async machinery runs per chunk, not per row.
    const emit = function* (batch: CsvBatch): Generator<RawRow> {
      const { records, lines } = batch;
      for (let r = 0; r < records.length; r++) {
        if (!headerSeen) {
          headerSeen = true;
          continue;
        }
        const fields = records[r];
        if (fields.length !== width) {
          throw new LifecircleError(
            'LAYER_INVALID',
            `${path}: CSV line ${lines[r]}: ${fields.length} field${fields.length === 1 ? '' : 's'} where the header has ${width} (a delimiter inside an unquoted value, or a missing one?)`,
            { file: path, record: `line ${lines[r]}` },
          );
        }
        const props = makeProps(fields);
        row++;
        yield { row, props, geometry: null };
      }
    };
    try {
      for await (const chunk of decodedChunks(path, encoding)) yield* emit(parser.push(chunk));
      yield* emit(parser.end());
    } catch (e) {
      if (e instanceof CsvError) throw new LifecircleError('LAYER_INVALID', `${path}: CSV line ${e.line}: ${e.message}`, { file: path, record: `line ${e.line}` });
      throw e;
    }
  }
  return { format: 'csv', encoding, delimiter, columns, rows: rows() };
}

/**
 * GeoJSON FeatureCollections are streamed feature by feature: the `features` array is cut into top-level
 * objects by brace depth (outside strings) and each is parsed alone, so a million features never sit in
 * memory as one parsed document. Written here because no maintained npm package streams GeoJSON this simply.
 */
function openGeoJson(path: string, encoding: string): RowSource {
  const columns: string[] = [];
  async function* rows(): AsyncGenerator<RawRow> {
    let state: 'seek' | 'array' | 'done' = 'seek';
    let prefix = '';
    let depth = 0;
    let inString = false;
    let escaped = false;
    let current = '';
    let n = 0;
    let sawType = false;
    for await (const chunk of decodedChunks(path, encoding)) {
      if (state === 'seek') {
        prefix += chunk;
        const m = /"features"\s*:\s*\[/.exec(prefix);
        if (!m) {
          if (prefix.length > 1 << 20) break;
          continue;
        }
        sawType = /"type"\s*:\s*"FeatureCollection"/.test(prefix) || !/"type"\s*:/.test(prefix.slice(0, m.index));
        const rest = prefix.slice(m.index + m[0].length);
        prefix = '';
        state = 'array';
        yield* scan(rest);
        continue;
      }
      if (state === 'array') yield* scan(chunk);
    }
    if (state === 'seek') {
      throw new LifecircleError('LAYER_INVALID', `${path}: no "features" array found: not a GeoJSON FeatureCollection`, { file: path, field: 'features' });
    }
    // `state` is changed inside scan(); TypeScript cannot see that
    if ((state as string) !== 'done') throw new LifecircleError('FILE_TRUNCATED', `${path}: the file ends inside the features array after ${n} features (truncated?)`, { file: path, record: `feature ${n + 1}` });
    if (!sawType) throw new LifecircleError('LAYER_INVALID', `${path}: the top-level "type" is not "FeatureCollection"`, { file: path, field: 'type' });

    function* scan(text: string): Generator<RawRow> {
      let start = depth > 0 ? 0 : -1;
      for (let k = 0; k < text.length; k++) {
        const ch = text.charCodeAt(k);
        if (inString) {
          if (escaped) escaped = false;
          else if (ch === 92) escaped = true;
          else if (ch === 34) inString = false;
          continue;
        }
        if (ch === 34) inString = true;
        else if (ch === 123) {
          if (depth === 0) start = k;
          depth++;
        } else if (ch === 125) {
          depth--;
          if (depth === 0) {
            const body = current + text.slice(start, k + 1);
            current = '';
            start = -1;
            n++;
            yield parseFeature(body, n);
          }
        } else if (ch === 93 && depth === 0) {
          state = 'done';
          return;
        }
      }
      if (depth > 0 && start >= 0) current += text.slice(start);
    }
  }
  function parseFeature(body: string, n: number): RawRow {
    let f: { type?: string; id?: unknown; properties?: Record<string, unknown> | null; geometry?: Geometry | null };
    try {
      f = JSON.parse(body);
    } catch (e) {
      throw new LifecircleError('LAYER_INVALID', `${path}: feature ${n}: not valid JSON (${(e as Error).message})`, { file: path, record: `feature ${n}` });
    }
    if (f.type !== 'Feature') throw new LifecircleError('LAYER_INVALID', `${path}: feature ${n}: "type" is ${JSON.stringify(f.type)}, expected "Feature"`, { file: path, record: `feature ${n}`, field: 'type' });
    const props = f.properties ?? {};
    for (const k of Object.keys(props)) if (!columns.includes(k)) columns.push(k);
    return { row: n, props, geometry: f.geometry ?? null, featureId: f.id === undefined || f.id === null ? undefined : String(f.id) };
  }
  return { format: 'geojson', encoding, columns, rows: rows() };
}

/**
 * ESRI Shapefile through the `shapefile` package: geometry from the .shp, attributes from the .dbf decoded
 * with --encoding, else the .cpg file's encoding, else UTF-8 (Chinese bureau files are often GBK with a
 * .cpg saying so; without one, give --encoding gbk).
 */
function openShapefile(path: string, encodingOption?: string): RowSource {
  const base = path.slice(0, -4);
  const dbf = [`${base}.dbf`, `${base}.DBF`].find((p) => existsSync(p));
  const cpg = [`${base}.cpg`, `${base}.CPG`].find((p) => existsSync(p));
  const encoding = (encodingOption ?? (cpg ? readFileSync(cpg, 'utf8').trim() : 'utf-8')).toLowerCase().replace(/^cp936$/, 'gbk');
  try {
    new TextDecoder(encoding);
  } catch {
    throw new LifecircleError('ARGUMENT_INVALID', `${path}: unknown text encoding "${encoding}" (from ${encodingOption ? '--encoding' : cpg})`, { file: path, field: 'encoding' });
  }
  async function* rows(): AsyncGenerator<RawRow> {
    let source;
    try {
      source = await shapefile.open(path, dbf, { encoding });
    } catch (e) {
      throw new LifecircleError('LAYER_INVALID', `${path}: not a readable Shapefile (${(e as Error).message})`, { file: path });
    }
    for (let n = 1; ; n++) {
      let r;
      try {
        r = await source.read();
      } catch (e) {
        throw new LifecircleError('FILE_TRUNCATED', `${path}: feature ${n} cannot be read (${(e as Error).message}); truncated or corrupt .shp/.dbf?`, { file: path, record: `feature ${n}` });
      }
      if (r.done) return;
      const f = r.value as { properties?: Record<string, unknown>; geometry?: Geometry | null };
      yield { row: n, props: f.properties ?? {}, geometry: f.geometry ?? null };
    }
  }
  return { format: 'shapefile', encoding, columns: [], rows: rows() };
}

/** GeoPackage features through src/io/gpkg.ts; the layer by name, or the file's only/first layer. */
function openGeoPackage(path: string, layerOption?: string): RowSource {
  const layers = listGeoPackageLayers(path);
  if (layers.length === 0) throw new LifecircleError('LAYER_INVALID', `${path}: the GeoPackage has no feature layer`, { file: path });
  const layer = layerOption ? layers.find((l) => l.name === layerOption) : layers[0];
  if (!layer) throw new LifecircleError('LAYER_INVALID', `${path}: no layer "${layerOption}" (layers: ${layers.map((l) => l.name).join(', ')})`, { file: path, field: 'layer' });
  async function* rows(): AsyncGenerator<RawRow> {
    let n = 0;
    for (const f of readGeoPackageLayer(path, layer!.name)) {
      n++;
      yield { row: n, props: (f.properties ?? {}) as Record<string, unknown>, geometry: f.geometry ?? null, featureId: f.id === undefined ? undefined : String(f.id) };
    }
  }
  return { format: 'geopackage', encoding: 'utf-8', columns: layer.columns, declaredCrs: layer.srsId > 0 ? `EPSG:${layer.srsId}` : undefined, rows: rows() };
}

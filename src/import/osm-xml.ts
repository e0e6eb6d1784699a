import { createReadStream, promises as fsp } from 'node:fs';
import { SaxesParser } from 'saxes';
import { LifecircleError } from '../errors.ts';
import { isValidLonLat } from '../geo.ts';
import type { OsmReadOptions, OsmReadStats, OsmSink, Tags } from './osm-types.ts';

const CHUNK_BYTES = 1 << 20;

/**
 * Streams an OSM XML (0.6) file into a sink: nodes with coordinates and tags, ways with node references and
 * tags; relations are counted and skipped. Memory stays flat in the file size: only the element being read
 * is held.
 *
 * Errors (LifecircleError, message names the file): FILE_NOT_FOUND, FILE_EMPTY, FILE_NOT_OSM (root element is
 * not `<osm>`), XML_MALFORMED (with line and column), FILE_TRUNCATED (the file ends before `</osm>`).
 * Per-element problems (coordinates out of range, unparsable ids) are warnings; the element is skipped.
 */
export async function readOsmXml(path: string, sink: OsmSink, options: OsmReadOptions = {}): Promise<OsmReadStats> {
  let totalBytes: number;
  try {
    totalBytes = (await fsp.stat(path)).size;
  } catch {
    throw new LifecircleError('FILE_NOT_FOUND', `${path}: file not found`, { file: path });
  }
  if (totalBytes === 0) throw new LifecircleError('FILE_EMPTY', `${path}: file is empty (0 bytes); expected OSM XML`, { file: path });

  const stats: OsmReadStats = { format: 'xml', bytes: totalBytes, nodes: 0, ways: 0, relations: 0, nodesRejected: 0 };
  const warnings = options.warnings;
  const parser = new SaxesParser({ xmlns: false, position: true });

  // State of the element being read. Tags are collected into a fresh object per tagged element because the
  // sink may keep them; untagged nodes (the vast majority) pass null.
  let depth = 0;
  let sawRoot = false;
  let rootClosed = false;
  let kind: 'node' | 'way' | 'relation' | null = null;
  let id = NaN;
  let lon = NaN;
  let lat = NaN;
  let tags: Tags | null = null;
  let refs: number[] = [];
  let failure: LifecircleError | null = null;

  const where = () => `${path}:${parser.line}:${parser.column}`;

  parser.on('opentag', (tag) => {
    depth++;
    const a = tag.attributes as Record<string, string>;
    if (depth === 1) {
      if (tag.name !== 'osm') {
        failure ??= new LifecircleError('FILE_NOT_OSM', `${path}: root element is <${tag.name}>, expected <osm> (OSM XML 0.6)`, { file: path });
      }
      sawRoot = true;
      return;
    }
    if (depth === 2) {
      kind = null;
      if (tag.name === 'node' || tag.name === 'way' || tag.name === 'relation') {
        kind = tag.name;
        id = Number(a.id);
        tags = null;
        if (kind === 'node') {
          lon = Number(a.lon);
          lat = Number(a.lat);
        } else if (kind === 'way') {
          refs = [];
        }
        if (a.visible === 'false' || a.action === 'delete') kind = null;
      }
      return;
    }
    if (depth === 3 && kind !== null) {
      if (tag.name === 'tag') {
        (tags ??= {})[a.k] = a.v ?? '';
      } else if (tag.name === 'nd' && kind === 'way') {
        refs.push(Number(a.ref));
      }
    }
  });

  parser.on('closetag', (tag) => {
    if (depth === 2 && kind !== null) {
      if (!Number.isSafeInteger(id)) {
        warnings?.add('invalid-id', `${where()}: <${kind}> has id "${String(id)}", expected an integer; element skipped`, {
          file: path,
          record: kind,
          field: 'id',
        });
      } else if (kind === 'node') {
        if (isValidLonLat(lon, lat)) {
          stats.nodes++;
          sink.node(id, lon, lat, tags);
        } else {
          stats.nodesRejected++;
          const field = Number.isFinite(lon) && lon >= -180 && lon <= 180 ? 'lat' : 'lon';
          warnings?.add(
            'coordinate-out-of-range',
            `${path}: node ${id}: lon ${String(lon)}, lat ${String(lat)} outside WGS84 range (lon -180..180, lat -90..90); node skipped`,
            { file: path, record: `node ${id}`, field },
          );
        }
      } else if (kind === 'way') {
        stats.ways++;
        sink.way(id, refs, tags ?? {});
      } else {
        stats.relations++;
      }
      kind = null;
    }
    if (depth === 1 && tag.name === 'osm') rootClosed = true;
    depth--;
  });

  parser.on('error', (err) => {
    failure ??= new LifecircleError('XML_MALFORMED', `${path}: not well-formed XML at line ${parser.line}, column ${parser.column}: ${err.message.split('\n')[0]}`, {
      file: path,
      record: `line ${parser.line}`,
    });
  });

  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: CHUNK_BYTES });
  let bytesRead = 0;
  let first = true;
  for await (const chunk of stream as AsyncIterable<string>) {
    if (first) {
      first = false;
      const head = chunk.trimStart();
      if (!head.startsWith('<')) {
        stream.destroy();
        throw new LifecircleError('FILE_NOT_OSM', `${path}: does not start with '<': not OSM XML (nor PBF)`, { file: path });
      }
    }
    parser.write(chunk);
    if (failure) {
      stream.destroy();
      throw failure;
    }
    bytesRead += Buffer.byteLength(chunk, 'utf8');
    options.onProgress?.(Math.min(bytesRead, totalBytes), totalBytes);
  }
  if (!rootClosed) {
    throw new LifecircleError(
      'FILE_TRUNCATED',
      sawRoot
        ? `${path}: file ends at line ${parser.line} before </osm>: truncated (${stats.nodes} nodes, ${stats.ways} ways read)`
        : `${path}: no <osm> element found: not OSM XML`,
      { file: path },
    );
  }
  try {
    parser.close();
  } catch {
    /* the root was closed: trailing whitespace problems do not matter */
  }
  if (failure) throw failure;
  return stats;
}

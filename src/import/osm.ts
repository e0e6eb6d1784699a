import { openSync, readSync, closeSync, statSync } from 'node:fs';
import { LifecircleError } from '../errors.ts';
import type { OsmReadOptions, OsmReadStats, OsmSink } from './osm-types.ts';
import { readOsmXml } from './osm-xml.ts';
import { readOsmPbf } from './osm-pbf.ts';

export type { OsmReadOptions, OsmReadStats, OsmSink, Tags } from './osm-types.ts';

/**
 * Reads an OSM file, PBF or XML, chosen by its first bytes rather than its name (users rename files; a
 * `.osm` that is really PBF must still work, and a `.pbf` that is HTML from a failed download must fail
 * clearly). Gzip/bzip2-compressed XML is recognised and refused with a hint.
 */
export async function readOsmFile(path: string, sink: OsmSink, options: OsmReadOptions = {}): Promise<OsmReadStats> {
  const format = detectOsmFormat(path);
  return format === 'pbf' ? readOsmPbf(path, sink, options) : readOsmXml(path, sink, options);
}

export function detectOsmFormat(path: string): 'pbf' | 'xml' {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new LifecircleError('FILE_NOT_OSM', `${path}: is a directory or special file, not an OSM file`, { file: path });
    size = st.size;
  } catch (e) {
    if (e instanceof LifecircleError) throw e;
    throw new LifecircleError('FILE_NOT_FOUND', `${path}: file not found`, { file: path });
  }
  if (size === 0) throw new LifecircleError('FILE_EMPTY', `${path}: file is empty (0 bytes); expected OSM PBF or XML`, { file: path });
  const head = Buffer.alloc(Math.min(64, size));
  const fd = openSync(path, 'r');
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  // PBF: a 4-byte big-endian BlobHeader length, then field 1 (type) = "OSMHeader".
  if (head.length >= 14 && head.indexOf('OSMHeader') === 6) return 'pbf';
  if (head[0] === 0x1f && head[1] === 0x8b) {
    throw new LifecircleError('FILE_NOT_OSM', `${path}: gzip-compressed; decompress it first (gunzip) or use the .osm.pbf extract`, { file: path });
  }
  if (head.subarray(0, 3).toString('latin1') === 'BZh') {
    throw new LifecircleError('FILE_NOT_OSM', `${path}: bzip2-compressed; decompress it first (bunzip2) or use the .osm.pbf extract`, { file: path });
  }
  const text = head.toString('utf8').replace(/^\uFEFF/, '').trimStart();
  if (text.startsWith('<')) return 'xml';
  throw new LifecircleError('FILE_NOT_OSM', `${path}: neither OSM PBF (no OSMHeader block) nor OSM XML (does not start with '<')`, { file: path });
}

import { closeSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import Flatbush from 'flatbush';
import { LifecircleError } from '../errors.ts';
import { GRAPH_FORMAT_VERSION } from './build.ts';
import { Graph, type GraphInfo, type ModeGraph } from './graph.ts';
import type { ModeName } from './profiles.ts';

/**
 * The graph file: one binary file that loads without parsing (after flatbush's `from(buffer)`).
 *
 *   bytes 0..3   magic "LCGR"
 *   bytes 4..7   format version (uint32 LE)
 *   bytes 8..11  header length in bytes (uint32 LE)
 *   bytes 12..15 reserved (0)
 *   header       UTF-8 JSON: { info: GraphInfo (modes, counts, bbox, source, attribution...), sections: [...] }
 *   sections     typed arrays, each starting at an 8-byte-aligned offset, little-endian
 *
 * Each section is { name, type, offset, length } with offset in bytes from the file start and length in
 * elements. Loading maps typed-array views straight onto the file's buffer: no copy, no parse.
 */
const MAGIC = 'LCGR';
const PREAMBLE_BYTES = 16;

type ArrayType = 'f64' | 'f32' | 'u32' | 'i32' | 'u8';
type AnyArray = Float64Array | Float32Array | Uint32Array | Int32Array | Uint8Array;
interface Section {
  name: string;
  type: ArrayType;
  offset: number;
  length: number;
}

const CTORS = { f64: Float64Array, f32: Float32Array, u32: Uint32Array, i32: Int32Array, u8: Uint8Array } as const;

function typeOf(a: AnyArray): ArrayType {
  if (a instanceof Float64Array) return 'f64';
  if (a instanceof Float32Array) return 'f32';
  if (a instanceof Uint32Array) return 'u32';
  if (a instanceof Int32Array) return 'i32';
  return 'u8';
}

function graphArrays(graph: Graph): [string, AnyArray][] {
  const arrays: [string, AnyArray][] = [
    ['nodeLon', graph.nodeLon],
    ['nodeLat', graph.nodeLat],
    ['nodeOsmId', graph.nodeOsmId],
    ['chainFrom', graph.chainFrom],
    ['chainTo', graph.chainTo],
    ['chainLengthM', graph.chainLengthM],
    ['chainWayId', graph.chainWayId],
    ['chainGeomStart', graph.chainGeomStart],
    ['geomLon', graph.geomLon],
    ['geomLat', graph.geomLat],
    ['chainIndex', flatbushBytes(graph.chainIndex)],
  ];
  for (const [mode, g] of graph.modes) {
    arrays.push(
      [`${mode}.arcOffsets`, g.arcOffsets],
      [`${mode}.arcTarget`, g.arcTarget],
      [`${mode}.arcChain`, g.arcChain],
      [`${mode}.arcTimeS`, g.arcTimeS],
      [`${mode}.chainUsable`, g.chainUsable],
      [`${mode}.chainSecPerMFwd`, g.chainSecPerMFwd],
      [`${mode}.chainSecPerMBack`, g.chainSecPerMBack],
      [`${mode}.nodeComponent`, g.nodeComponent],
    );
  }
  return arrays;
}

/** Writes the graph to `path` (via a temporary file and a rename, so a crash never leaves half a graph). */
export function saveGraph(graph: Graph, path: string): number {
  const arrays = graphArrays(graph);
  // Header size depends on the offsets it lists: lay out with a generous fixed estimate, then pad.
  const sections: Section[] = [];
  let headerJson = '';
  let headerBytes = 0;
  for (let attempt = 0; attempt < 3; attempt++) {
    let offset = align8(PREAMBLE_BYTES + headerBytes);
    sections.length = 0;
    for (const [name, a] of arrays) {
      sections.push({ name, type: typeOf(a), offset, length: a.length });
      offset = align8(offset + a.byteLength);
    }
    headerJson = JSON.stringify({ info: graph.info, sections });
    const needed = Buffer.byteLength(headerJson, 'utf8');
    if (needed <= headerBytes) break;
    headerBytes = needed + 256;
  }
  const preamble = Buffer.alloc(PREAMBLE_BYTES);
  preamble.write(MAGIC, 0, 'latin1');
  preamble.writeUInt32LE(GRAPH_FORMAT_VERSION, 4);
  preamble.writeUInt32LE(headerBytes, 8);
  const header = Buffer.alloc(headerBytes, 0x20);
  header.write(headerJson, 0, 'utf8');

  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  let position = 0;
  const put = (buf: Uint8Array) => {
    let done = 0;
    while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done, position + done);
    position += buf.length;
  };
  try {
    put(preamble);
    put(header);
    for (let i = 0; i < arrays.length; i++) {
      const pad = sections[i].offset - position;
      if (pad > 0) put(new Uint8Array(pad));
      const a = arrays[i][1];
      put(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    }
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  return position;
}

/** Loads a graph file written by saveGraph. Views the file's bytes directly; nothing is re-parsed. */
export function loadGraph(path: string): Graph {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch {
    throw new LifecircleError('FILE_NOT_FOUND', `${path}: graph file not found (build one with: lifecircle network build <osm file> -o ${path})`, { file: path });
  }
  return graphFromBuffer(buf, path);
}

export function graphFromBuffer(input: Uint8Array, path = '<buffer>'): Graph {
  const bad = (why: string) => new LifecircleError('GRAPH_FILE_INVALID', `${path}: not a valid lifecircle graph file: ${why}`, { file: path });
  if (input.length < PREAMBLE_BYTES) throw bad(`only ${input.length} bytes`);
  // Typed-array views need 8-byte alignment; small Buffers come from a shared pool at odd offsets.
  const buf = input.byteOffset % 8 === 0 ? input : new Uint8Array(input);
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (view.toString('latin1', 0, 4) !== MAGIC) throw bad(`magic is "${view.toString('latin1', 0, 4)}", expected "${MAGIC}"`);
  const version = view.readUInt32LE(4);
  if (version !== GRAPH_FORMAT_VERSION) {
    throw new LifecircleError('GRAPH_VERSION_UNSUPPORTED', `${path}: graph format version ${version}, this lifecircle reads version ${GRAPH_FORMAT_VERSION}: rebuild the graph`, { file: path });
  }
  const headerBytes = view.readUInt32LE(8);
  if (PREAMBLE_BYTES + headerBytes > view.length) throw bad(`header of ${headerBytes} bytes runs past the end of the file (truncated?)`);
  let header: { info: GraphInfo; sections: Section[] };
  try {
    header = JSON.parse(view.toString('utf8', PREAMBLE_BYTES, PREAMBLE_BYTES + headerBytes));
  } catch (e) {
    throw bad(`header is not JSON (${(e as Error).message})`);
  }
  if (!header || typeof header !== 'object' || !header.info || !Array.isArray(header.sections)) throw bad('header lacks "info" or a "sections" list');
  const arrays = new Map<string, AnyArray>();
  for (const s of header.sections) {
    const ctor = CTORS[s.type];
    if (!ctor || s.offset % 8 !== 0) throw bad(`section ${s.name} has type ${s.type} at offset ${s.offset}`);
    if (s.offset + s.length * ctor.BYTES_PER_ELEMENT > view.length) throw bad(`section ${s.name} ends past the end of the file (truncated?)`);
    arrays.set(s.name, new ctor(buf.buffer as ArrayBuffer, buf.byteOffset + s.offset, s.length));
  }
  const get = <T extends AnyArray>(name: string): T => {
    const a = arrays.get(name);
    if (!a) throw bad(`section ${name} is missing`);
    return a as T;
  };
  const info = header.info;
  const modes = new Map<ModeName, ModeGraph>();
  for (const m of info.modes) {
    modes.set(m.mode, {
      mode: m.mode,
      speedMps: m.speedMps,
      arcOffsets: get(`${m.mode}.arcOffsets`),
      arcTarget: get(`${m.mode}.arcTarget`),
      arcChain: get(`${m.mode}.arcChain`),
      arcTimeS: get(`${m.mode}.arcTimeS`),
      chainUsable: get(`${m.mode}.chainUsable`),
      chainSecPerMFwd: get(`${m.mode}.chainSecPerMFwd`),
      chainSecPerMBack: get(`${m.mode}.chainSecPerMBack`),
      nodeComponent: get(`${m.mode}.nodeComponent`),
    });
    const g = modes.get(m.mode)!;
    if (g.arcOffsets.length !== info.nodeCount + 1 || g.arcOffsets[info.nodeCount] !== g.arcTarget.length) throw bad(`mode ${m.mode}: arc offsets do not match the node and arc counts`);
  }
  const indexBytes = get<Uint8Array>('chainIndex');
  let chainIndex: Flatbush;
  try {
    chainIndex = Flatbush.from(indexBytes.buffer as ArrayBuffer, indexBytes.byteOffset);
  } catch (e) {
    throw bad(`section chainIndex is not a valid spatial index (${(e as Error).message})`);
  }
  if (chainIndex.numItems !== Math.max(1, info.chainCount)) throw bad(`spatial index holds ${chainIndex.numItems} items for ${info.chainCount} chains`);
  const graph = new Graph({
    info,
    nodeLon: get('nodeLon'),
    nodeLat: get('nodeLat'),
    nodeOsmId: get('nodeOsmId'),
    chainFrom: get('chainFrom'),
    chainTo: get('chainTo'),
    chainLengthM: get('chainLengthM'),
    chainWayId: get('chainWayId'),
    chainGeomStart: get('chainGeomStart'),
    geomLon: get('geomLon'),
    geomLat: get('geomLat'),
    chainIndex,
    modes,
  });
  if (graph.nodeLon.length !== info.nodeCount || graph.chainFrom.length !== info.chainCount) throw bad('node or chain counts differ from the header');
  return graph;
}

/**
 * The bytes of a flatbush index: its `data` may be a whole loaded file (Flatbush.from with a byteOffset), so
 * take only the index's own range, which ends where its indices array ends.
 */
function flatbushBytes(index: Flatbush): Uint8Array {
  const indices = (index as unknown as { _indices: Uint32Array | Uint16Array })._indices;
  const start = index.byteOffset ?? 0;
  return new Uint8Array(index.data as ArrayBuffer, start, indices.byteOffset + indices.byteLength - start);
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

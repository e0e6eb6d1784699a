import { closeSync, fstatSync, openSync, readSync, renameSync, writeSync } from 'node:fs';
import Flatbush from 'flatbush';
import { LifecircleError } from '../errors.ts';
import { GRAPH_FORMAT_VERSION, Graph, type GraphInfo, type ModeGraph } from './graph.ts';
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
 * elements. Shared sections come first, then each mode's sections together, so that a mode is one read.
 * Loading maps typed-array views onto the bytes read: no parse.
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

const MODE_SECTIONS = ['arcOffsets', 'arcTarget', 'arcChain', 'arcTimeS', 'chainUsable', 'chainSecPerMFwd', 'chainSecPerMBack', 'nodeComponent'];

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
  for (const [mode, g] of graph.allModes()) {
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

interface Header {
  info: GraphInfo;
  sections: Section[];
}

/**
 * Loads a graph file written by saveGraph. The shared part (nodes, chains, geometry, spatial index) is read
 * at once; each mode's arrays are read the first time `graph.mode(name)` asks for them, so a walking query
 * never pays for reading the bike and elderly graphs. Views map onto the bytes read: nothing is parsed.
 */
export function loadGraph(path: string): Graph {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    throw new LifecircleError('FILE_NOT_FOUND', `${path}: graph file not found (build one with: lifecircle network build <osm file> -o ${path})`, { file: path });
  }
  try {
    const size = fstatSync(fd).size;
    const preamble = Buffer.alloc(Math.min(PREAMBLE_BYTES, size));
    readFully(fd, preamble, 0);
    const headerBytes = checkPreamble(preamble, path);
    const bad = badFile(path);
    if (PREAMBLE_BYTES + headerBytes > size) throw bad(`header of ${headerBytes} bytes runs past the end of the file (truncated?)`);
    const headerBuf = Buffer.alloc(headerBytes);
    readFully(fd, headerBuf, PREAMBLE_BYTES);
    const header = parseHeader(headerBuf, size, path);
    const shared = header.sections.filter((x) => !x.name.includes('.'));
    const sharedArrays = readRegion(fd, shared);
    const modeLoader = (mode: ModeName): ModeGraph => {
      const again = openSync(path, 'r');
      try {
        // the same file? size and header (which holds the build time) must be unchanged
        const headerAgain = Buffer.alloc(headerBytes);
        readFully(again, headerAgain, PREAMBLE_BYTES);
        if (fstatSync(again).size !== size || !headerAgain.equals(headerBuf)) throw bad(`the file changed since it was loaded; load it again`);
        const arrays = readRegion(again, header.sections.filter((x) => x.name.startsWith(`${mode}.`)));
        return modeFromArrays(header.info, mode, (name) => arrays.get(name), bad);
      } finally {
        closeSync(again);
      }
    };
    return graphFromArrays(header, (name) => sharedArrays.get(name), bad, modeLoader);
  } finally {
    closeSync(fd);
  }
}

/** A graph from a whole file's bytes in memory (every mode at once). */
export function graphFromBuffer(input: Uint8Array, path = '<buffer>'): Graph {
  const bad = badFile(path);
  // Typed-array views need 8-byte alignment; small Buffers come from a shared pool at odd offsets.
  const buf = input.byteOffset % 8 === 0 ? input : (new Uint8Array(input) as Uint8Array<ArrayBuffer>);
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerBytes = checkPreamble(view.subarray(0, PREAMBLE_BYTES), path);
  if (PREAMBLE_BYTES + headerBytes > view.length) throw bad(`header of ${headerBytes} bytes runs past the end of the file (truncated?)`);
  const header = parseHeader(view.subarray(PREAMBLE_BYTES, PREAMBLE_BYTES + headerBytes), view.length, path);
  const arrays = new Map<string, AnyArray>();
  for (const s of header.sections) arrays.set(s.name, new CTORS[s.type](buf.buffer as ArrayBuffer, buf.byteOffset + s.offset, s.length));
  return graphFromArrays(header, (name) => arrays.get(name), bad, (mode) => modeFromArrays(header.info, mode, (name) => arrays.get(name), bad));
}

function badFile(path: string) {
  return (why: string) => new LifecircleError('GRAPH_FILE_INVALID', `${path}: not a valid lifecircle graph file: ${why}`, { file: path });
}

function checkPreamble(preamble: Buffer, path: string): number {
  const bad = badFile(path);
  if (preamble.length < PREAMBLE_BYTES) throw bad(`only ${preamble.length} bytes`);
  if (preamble.toString('latin1', 0, 4) !== MAGIC) throw bad(`magic is "${preamble.toString('latin1', 0, 4)}", expected "${MAGIC}"`);
  const version = preamble.readUInt32LE(4);
  if (version !== GRAPH_FORMAT_VERSION) {
    throw new LifecircleError('GRAPH_VERSION_UNSUPPORTED', `${path}: graph format version ${version}, this lifecircle reads version ${GRAPH_FORMAT_VERSION}: rebuild the graph`, { file: path });
  }
  return preamble.readUInt32LE(8);
}

function parseHeader(bytes: Buffer, fileSize: number, path: string): Header {
  const bad = badFile(path);
  let header: Header;
  try {
    header = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw bad(`header is not JSON (${(e as Error).message})`);
  }
  if (!header || typeof header !== 'object' || !header.info || !Array.isArray(header.sections)) throw bad('header lacks "info" or a "sections" list');
  for (const s of header.sections) {
    const ctor = CTORS[s.type];
    if (!ctor || s.offset % 8 !== 0) throw bad(`section ${s.name} has type ${s.type} at offset ${s.offset}`);
    if (s.offset + s.length * ctor.BYTES_PER_ELEMENT > fileSize) throw bad(`section ${s.name} ends past the end of the file (truncated?)`);
  }
  // Modes are read lazily, so check now that every section they will need is listed.
  const listed = new Set(header.sections.map((x) => x.name));
  for (const m of header.info.modes ?? []) {
    for (const name of MODE_SECTIONS) if (!listed.has(`${m.mode}.${name}`)) throw bad(`section ${m.mode}.${name} is missing`);
  }
  return header;
}

function readFully(fd: number, into: Uint8Array, position: number): void {
  let done = 0;
  while (done < into.length) {
    const n = readSync(fd, into, done, into.length - done, position + done);
    if (n === 0) break;
    done += n;
  }
}

/** Reads the byte range spanning `sections` in one read, and views each section on it. */
function readRegion(fd: number, sections: Section[]): Map<string, AnyArray> {
  const arrays = new Map<string, AnyArray>();
  if (sections.length === 0) return arrays;
  const start = Math.min(...sections.map((x) => x.offset));
  const end = Math.max(...sections.map((x) => x.offset + x.length * CTORS[x.type].BYTES_PER_ELEMENT));
  const region = new Uint8Array(end - start);
  readFully(fd, region, start);
  for (const s of sections) arrays.set(s.name, new CTORS[s.type](region.buffer, s.offset - start, s.length));
  return arrays;
}

type Getter = (name: string) => AnyArray | undefined;

function need<T extends AnyArray>(get: Getter, name: string, bad: (why: string) => LifecircleError): T {
  const a = get(name);
  if (!a) throw bad(`section ${name} is missing`);
  return a as T;
}

function modeFromArrays(info: GraphInfo, mode: ModeName, get: Getter, bad: (why: string) => LifecircleError): ModeGraph {
  const m = info.modes.find((x) => x.mode === mode)!;
  const g: ModeGraph = {
    mode,
    speedMps: m.speedMps,
    arcOffsets: need(get, `${mode}.arcOffsets`, bad),
    arcTarget: need(get, `${mode}.arcTarget`, bad),
    arcChain: need(get, `${mode}.arcChain`, bad),
    arcTimeS: need(get, `${mode}.arcTimeS`, bad),
    chainUsable: need(get, `${mode}.chainUsable`, bad),
    chainSecPerMFwd: need(get, `${mode}.chainSecPerMFwd`, bad),
    chainSecPerMBack: need(get, `${mode}.chainSecPerMBack`, bad),
    nodeComponent: need(get, `${mode}.nodeComponent`, bad),
  };
  if (g.arcOffsets.length !== info.nodeCount + 1 || g.arcOffsets[info.nodeCount] !== g.arcTarget.length) throw bad(`mode ${mode}: arc offsets do not match the node and arc counts`);
  const arcs = g.arcTarget.length;
  if (g.arcChain.length !== arcs || g.arcTimeS.length !== arcs) throw bad(`mode ${mode}: arc arrays differ in length`);
  if (g.chainUsable.length !== info.chainCount || g.chainSecPerMFwd.length !== info.chainCount || g.chainSecPerMBack.length !== info.chainCount) {
    throw bad(`mode ${mode}: per-chain arrays do not hold ${info.chainCount} chains`);
  }
  if (g.nodeComponent.length !== info.nodeCount) throw bad(`mode ${mode}: nodeComponent does not hold ${info.nodeCount} nodes`);
  // one pass over the arcs (a few ms per million): a damaged file must fail here, not give NaN later
  for (let n = 0; n < info.nodeCount; n++) if (g.arcOffsets[n] > g.arcOffsets[n + 1]) throw bad(`mode ${mode}: arc offsets decrease at node ${n}`);
  const chainCodes = info.chainCount * 2;
  for (let a = 0; a < arcs; a++) {
    if (g.arcTarget[a] >= info.nodeCount || g.arcChain[a] >= chainCodes || !(g.arcTimeS[a] >= 0)) throw bad(`mode ${mode}: arc ${a} has target ${g.arcTarget[a]}, chain code ${g.arcChain[a]}, time ${g.arcTimeS[a]}`);
  }
  return g;
}

function graphFromArrays(header: Header, get: Getter, bad: (why: string) => LifecircleError, loadMode: (mode: ModeName) => ModeGraph): Graph {
  const info = header.info;
  const indexBytes = need<Uint8Array>(get, 'chainIndex', bad);
  let chainIndex: Flatbush;
  try {
    chainIndex = Flatbush.from(indexBytes.buffer as ArrayBuffer, indexBytes.byteOffset);
  } catch (e) {
    throw bad(`section chainIndex is not a valid spatial index (${(e as Error).message})`);
  }
  if (chainIndex.numItems !== Math.max(1, info.chainCount)) throw bad(`spatial index holds ${chainIndex.numItems} items for ${info.chainCount} chains`);
  const graph = new Graph({
    info,
    nodeLon: need(get, 'nodeLon', bad),
    nodeLat: need(get, 'nodeLat', bad),
    nodeOsmId: need(get, 'nodeOsmId', bad),
    chainFrom: need(get, 'chainFrom', bad),
    chainTo: need(get, 'chainTo', bad),
    chainLengthM: need(get, 'chainLengthM', bad),
    chainWayId: need(get, 'chainWayId', bad),
    chainGeomStart: need(get, 'chainGeomStart', bad),
    geomLon: need(get, 'geomLon', bad),
    geomLat: need(get, 'geomLat', bad),
    chainIndex,
    modes: new Map(),
    loadMode,
  });
  if (graph.nodeLon.length !== info.nodeCount || graph.chainFrom.length !== info.chainCount) throw bad('node or chain counts differ from the header');
  const { chainFrom, chainTo, chainGeomStart } = graph;
  if (chainTo.length !== info.chainCount || graph.chainLengthM.length !== info.chainCount || chainGeomStart.length !== info.chainCount + 1) throw bad('chain arrays differ in length');
  if (chainGeomStart[info.chainCount] !== graph.geomLon.length || graph.geomLat.length !== graph.geomLon.length) throw bad('chain geometry offsets do not match the geometry arrays');
  for (let c = 0; c < info.chainCount; c++) {
    if (chainFrom[c] >= info.nodeCount || chainTo[c] >= info.nodeCount || chainGeomStart[c + 1] - chainGeomStart[c] < 2) throw bad(`chain ${c} has ends ${chainFrom[c]}, ${chainTo[c]} or fewer than 2 geometry points`);
  }
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

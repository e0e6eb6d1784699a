/**
 * Streaming reader for OpenStreetMap PBF files (https://wiki.openstreetmap.org/wiki/PBF_Format), decoded by
 * hand on pbf@5's PbfReader and node:zlib. Generated schema classes would allocate an object per node and
 * an array per packed field; here packed fields are read in place from the inflated block instead, so the
 * only allocations per element are the tags objects of tagged elements.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { inflateSync } from 'node:zlib';
import { PbfReader } from 'pbf';
import { LifecircleError, type WarningLog } from '../errors.ts';
import type { OsmReadOptions, OsmReadStats, OsmSink, Tags } from './osm-types.ts';

/** The format caps BlobHeaders at 64 KiB and blobs at 32 MiB; a blob size past 64 MiB can only be corruption. */
const MAX_HEADER_BYTES = 64 * 1024;
const MAX_BLOB_BYTES = 64 * 1024 * 1024;
const SUPPORTED_FEATURES = new Set(['OsmSchema-V0.6', 'DenseNodes']);
const COMPRESSIONS: Record<number, string> = { 4: 'lzma', 5: 'bzip2', 6: 'lz4', 7: 'zstd' };

// Protobuf wire types.
const VARINT = 0;
const BYTES = 2;

/** A malformed structure inside one blob; readOsmPbf turns it into PBF_CORRUPT_BLOCK with file and block. */
class DecodeError extends Error {}

/** Carries an exception thrown by the sink past the decoder's catch-all, so it is rethrown unchanged. */
class SinkFailure {
  constructor(readonly cause: unknown) {}
}

/**
 * Streams the nodes and ways of an OSM PBF file (`.osm.pbf`) into `sink`, blob by blob: memory use is one
 * blob (≤ 32 MiB by the format, usually ~ 100 KiB compressed) plus its inflated block, whatever the file size.
 *
 * - `sink.node(id, lon, lat, tags)` for every node, in file order; lon/lat in WGS84 degrees, computed as
 *   (offset + granularity × value) / 1e9, so the usual 1e-7° grid gives the same doubles as parsing OSM's
 *   7-decimal text. `tags` is null for untagged nodes (most of them) and a fresh object otherwise.
 * - `sink.way(id, refs, tags)` for every way; `refs` are node ids in way order, `tags` is empty when the way
 *   has none. Both are fresh per way, though sinks should not rely on that (see OsmSink).
 * - Relations are counted, not decoded. Unknown blob types are skipped, as the format asks.
 * - A node with lon outside [-180, 180] or lat outside [-90, 90] (e.g. osmium's "undefined location") is not
 *   passed on: it is counted in `nodesRejected` (not in `nodes`) and reported as 'coordinate-out-of-range'
 *   through `options.warnings`.
 * - `options.onProgress(bytesRead, totalBytes)` is called after each blob.
 *
 * Errors are LifecircleErrors whose messages name `path`: FILE_NOT_FOUND (no such file), FILE_EMPTY (zero
 * bytes), FILE_NOT_OSM (first blob is not an OSMHeader blob, e.g. XML given as PBF), FILE_TRUNCATED (file
 * ends inside a blob header or blob; gives block index and byte offset), PBF_CORRUPT_BLOCK (a blob that does
 * not inflate or decode; gives block index, 0-based over all blobs, and the byte offset where the blob's
 * length prefix starts), PBF_UNSUPPORTED (lzma/bzip2/lz4/zstd blobs, or a required feature other than
 * OsmSchema-V0.6 and DenseNodes, e.g. HistoricalInformation). Errors thrown by the sink propagate unchanged.
 *
 * @example
 * const stats = await readOsmPbf('helsinki.osm.pbf', { node(id, lon, lat, tags) {}, way(id, refs, tags) {} });
 * // stats → { format: 'pbf', bytes: 685110, nodes: 24260, ways: 5130, relations: 620, nodesRejected: 0 }
 */
export async function readOsmPbf(path: string, sink: OsmSink, options: OsmReadOptions = {}): Promise<OsmReadStats> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new LifecircleError('FILE_NOT_FOUND', `${path}: no such file`, { file: path });
    }
    throw err;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new LifecircleError('FILE_NOT_OSM', `${path}: not a regular file`, { file: path });
    if (st.size === 0) throw new LifecircleError('FILE_EMPTY', `${path}: file is empty (0 bytes)`, { file: path });
    return await readBlobs(fh, path, st.size, sink, options);
  } finally {
    await fh.close();
  }
}

async function readBlobs(
  fh: FileHandle,
  file: string,
  size: number,
  sink: OsmSink,
  options: OsmReadOptions,
): Promise<OsmReadStats> {
  const stats: OsmReadStats = { format: 'pbf', bytes: 0, nodes: 0, ways: 0, relations: 0, nodesRejected: 0 };
  const decoder = new BlockDecoder(file, sink, options.warnings, stats);
  const lenBuf = Buffer.alloc(4);
  const headerBuf = Buffer.allocUnsafe(MAX_HEADER_BYTES);
  let blobBuf = Buffer.allocUnsafe(1 << 20);
  let offset = 0;

  for (let index = 0; offset < size; index++) {
    const at = `block ${index} at byte offset ${offset}`;
    const where = { file, record: `block ${index}` };
    const truncated = (what: string, need: number) =>
      new LifecircleError(
        'FILE_TRUNCATED',
        `${file}: file ends inside the ${what} of ${at}: the block needs ${need} bytes from there, the file has ` +
          `${size - offset} (file size ${size}); the file is truncated`,
        where,
      );
    // Block 0 decides whether this is a PBF at all; later bad headers are corruption of a PBF.
    const bad = (detail: string) =>
      index === 0
        ? new LifecircleError(
            'FILE_NOT_OSM',
            `${file}: not an OSM PBF file: ${detail} (${at})` +
              (lenBuf[0] === 0x3c ? '; it starts with "<", so it is probably OSM XML: read it as XML' : ''),
            where,
          )
        : new LifecircleError('PBF_CORRUPT_BLOCK', `${file}: corrupt ${at}: ${detail}`, where);

    if (size - offset < 4) throw truncated('blob header length', 4);
    if ((await readAt(fh, lenBuf, 4, offset)) < 4) throw truncated('blob header length', 4);
    const headerLen = lenBuf.readUInt32BE(0);
    if (headerLen === 0 || headerLen > MAX_HEADER_BYTES) {
      throw bad(`blob header length ${headerLen} outside 1..${MAX_HEADER_BYTES}`);
    }
    if (size - offset - 4 < headerLen || (await readAt(fh, headerBuf, headerLen, offset + 4)) < headerLen) {
      throw truncated('blob header', 4 + headerLen);
    }
    let header: { type: string; datasize: number };
    try {
      header = decodeBlobHeader(headerBuf.subarray(0, headerLen));
    } catch (err) {
      throw bad(`invalid BlobHeader (${(err as Error).message})`);
    }
    if (index === 0 && header.type !== 'OSMHeader') throw bad(`first blob has type "${header.type}", expected "OSMHeader"`);
    if (header.datasize > MAX_BLOB_BYTES) throw bad(`blob size ${header.datasize} bytes exceeds ${MAX_BLOB_BYTES}`);

    const blobStart = offset + 4 + headerLen;
    if (size - blobStart < header.datasize) throw truncated('blob', 4 + headerLen + header.datasize);
    if (blobBuf.length < header.datasize) blobBuf = Buffer.allocUnsafe(Math.max(header.datasize, blobBuf.length * 2));
    if ((await readAt(fh, blobBuf, header.datasize, blobStart)) < header.datasize) {
      throw truncated('blob', 4 + headerLen + header.datasize);
    }

    if (header.type === 'OSMHeader' || header.type === 'OSMData') {
      let data: Buffer;
      try {
        data = unpackBlob(blobBuf.subarray(0, header.datasize));
      } catch (err) {
        if (err instanceof LifecircleError) {
          throw new LifecircleError(err.key, `${file}: ${at}: ${err.message}`, { ...where, field: err.field });
        }
        throw new LifecircleError('PBF_CORRUPT_BLOCK', `${file}: corrupt ${at}: ${(err as Error).message}`, where);
      }
      try {
        if (header.type === 'OSMHeader') checkHeaderBlock(data);
        else decoder.decodePrimitiveBlock(data);
      } catch (err) {
        if (err instanceof SinkFailure) throw err.cause;
        if (err instanceof LifecircleError) {
          throw new LifecircleError(err.key, `${file}: ${at}: ${err.message}`, { ...where, field: err.field });
        }
        throw new LifecircleError('PBF_CORRUPT_BLOCK', `${file}: corrupt ${at}: ${(err as Error).message}`, where);
      }
    } else {
      options.warnings?.add('pbf-unknown-blob', `${file}: ${at}: skipped blob of unknown type "${header.type}"`, where);
    }

    offset = blobStart + header.datasize;
    stats.bytes = offset;
    options.onProgress?.(offset, size);
  }
  return stats;
}

/** Reads `length` bytes at `position`, looping over short reads; returns how many it got (less at EOF). */
async function readAt(fh: FileHandle, buf: Buffer, length: number, position: number): Promise<number> {
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}

/** Position just past a length-delimited field whose length varint is at pbf.pos; checked against `end`. */
function lengthEnd(pbf: PbfReader, end: number): number {
  const len = pbf.readVarint();
  const stop = pbf.pos + len;
  if (stop > end) throw new DecodeError(`field of ${len} bytes runs past its message (byte ${pbf.pos} of ${end})`);
  return stop;
}

function expectWire(wire: number, want: number, what: string): void {
  if (wire !== want) throw new DecodeError(`${what} has wire type ${wire}, expected ${want}`);
}

function skipField(pbf: PbfReader, wire: number, end: number): void {
  if (wire === BYTES) pbf.pos = lengthEnd(pbf, end);
  else pbf.skip(wire); // throws on the wire types protobuf no longer uses (3, 4) and invalid ones
  if (pbf.pos > end) throw new DecodeError(`field runs past its message (byte ${pbf.pos} of ${end})`);
}

function decodeBlobHeader(buf: Uint8Array): { type: string; datasize: number } {
  const pbf = new PbfReader(buf);
  const end = buf.length;
  let type: string | undefined;
  let datasize = -1;
  while (pbf.pos < end) {
    const tag = pbf.readVarint();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1) {
      expectWire(wire, BYTES, 'BlobHeader.type');
      const stop = lengthEnd(pbf, end);
      type = Buffer.from(buf.buffer, buf.byteOffset + pbf.pos, stop - pbf.pos).toString('latin1');
      pbf.pos = stop;
    } else if (field === 3) {
      expectWire(wire, VARINT, 'BlobHeader.datasize');
      datasize = pbf.readVarint();
    } else {
      skipField(pbf, wire, end);
    }
  }
  if (pbf.pos !== end) throw new DecodeError('message runs past its end');
  if (type === undefined) throw new DecodeError('no type field');
  if (datasize < 0) throw new DecodeError('no datasize field');
  return { type, datasize };
}

/** The block bytes held by a Blob: raw, or zlib-inflated and checked against raw_size. */
function unpackBlob(buf: Buffer): Buffer {
  const pbf = new PbfReader(buf);
  const end = buf.length;
  let rawSize = -1;
  let raw: Buffer | undefined;
  let zlib: Buffer | undefined;
  while (pbf.pos < end) {
    const tag = pbf.readVarint();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 || field === 3) {
      expectWire(wire, BYTES, field === 1 ? 'Blob.raw' : 'Blob.zlib_data');
      const stop = lengthEnd(pbf, end);
      const bytes = buf.subarray(pbf.pos, stop);
      if (field === 1) raw = bytes;
      else zlib = bytes;
      pbf.pos = stop;
    } else if (field === 2) {
      expectWire(wire, VARINT, 'Blob.raw_size');
      rawSize = pbf.readVarint();
    } else if (COMPRESSIONS[field] !== undefined) {
      throw new LifecircleError(
        'PBF_UNSUPPORTED',
        `blob is ${COMPRESSIONS[field]}-compressed; only zlib and uncompressed blobs are supported ` +
          `(re-encode with: osmium cat IN -o OUT.osm.pbf)`,
      );
    } else {
      skipField(pbf, wire, end);
    }
  }
  if (pbf.pos !== end) throw new DecodeError('Blob message runs past its end');
  if (raw) return raw;
  if (!zlib) throw new DecodeError('Blob has neither raw nor zlib_data');
  if (rawSize > MAX_BLOB_BYTES) throw new DecodeError(`raw_size ${rawSize} exceeds ${MAX_BLOB_BYTES}`);
  let out: Buffer;
  try {
    // The cap stops a corrupt or hostile stream from inflating without bound.
    out = inflateSync(zlib, { maxOutputLength: rawSize >= 0 ? Math.max(rawSize, 1) : MAX_BLOB_BYTES });
  } catch (err) {
    throw new DecodeError(`zlib data does not inflate (${(err as Error).message})`);
  }
  if (rawSize >= 0 && out.length !== rawSize) {
    throw new DecodeError(`inflated to ${out.length} bytes, raw_size says ${rawSize}`);
  }
  return out;
}

/** Rejects files whose HeaderBlock requires features this reader cannot honour (history, ...). */
function checkHeaderBlock(buf: Buffer): void {
  const pbf = new PbfReader(buf);
  const end = buf.length;
  while (pbf.pos < end) {
    const tag = pbf.readVarint();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 4) {
      expectWire(wire, BYTES, 'HeaderBlock.required_features');
      const stop = lengthEnd(pbf, end);
      const feature = buf.toString('utf8', pbf.pos, stop);
      pbf.pos = stop;
      if (!SUPPORTED_FEATURES.has(feature)) {
        throw new LifecircleError(
          'PBF_UNSUPPORTED',
          `file requires PBF feature "${feature}", which is not supported (supported: ${[...SUPPORTED_FEATURES].join(', ')})`,
          { field: 'required_features' },
        );
      }
    } else {
      skipField(pbf, wire, end);
    }
  }
  if (pbf.pos !== end) throw new DecodeError('HeaderBlock runs past its end');
}

/** Decodes PrimitiveBlocks into sink calls; keeps its scratch arrays from block to block. */
class BlockDecoder {
  private buf: Buffer = Buffer.alloc(0);
  private pbf = new PbfReader(new Uint8Array(0));
  // String table entries as byte ranges into buf, decoded on first use (most blocks carry user names and
  // relation roles that node/way decoding never looks at).
  private strStart = new Int32Array(1024);
  private strEnd = new Int32Array(1024);
  private strCount = 0;
  private strings: (string | undefined)[] = [];
  private groupStart: number[] = [];
  private groupEnd: number[] = [];
  private granularity = 100;
  private latOffset = 0;
  private lonOffset = 0;

  constructor(
    private readonly file: string,
    private readonly sink: OsmSink,
    private readonly warnings: WarningLog | undefined,
    private readonly stats: OsmReadStats,
  ) {}

  decodePrimitiveBlock(buf: Buffer): void {
    this.buf = buf;
    const pbf = (this.pbf = new PbfReader(buf));
    const end = buf.length;
    this.strCount = 0;
    this.groupStart.length = 0;
    this.groupEnd.length = 0;
    this.granularity = 100;
    this.latOffset = 0;
    this.lonOffset = 0;
    // Granularity and offsets may follow the groups, so the groups are decoded after this first pass.
    while (pbf.pos < end) {
      const tag = pbf.readVarint();
      const field = tag >>> 3;
      const wire = tag & 7;
      if (field === 1) {
        expectWire(wire, BYTES, 'PrimitiveBlock.stringtable');
        const stop = lengthEnd(pbf, end);
        this.readStringTable(stop);
      } else if (field === 2) {
        expectWire(wire, BYTES, 'PrimitiveBlock.primitivegroup');
        const stop = lengthEnd(pbf, end);
        this.groupStart.push(pbf.pos);
        this.groupEnd.push(stop);
        pbf.pos = stop;
      } else if (field === 17) {
        expectWire(wire, VARINT, 'PrimitiveBlock.granularity');
        this.granularity = pbf.readVarint(true);
        if (this.granularity <= 0) throw new DecodeError(`granularity ${this.granularity} is not positive`);
      } else if (field === 19) {
        expectWire(wire, VARINT, 'PrimitiveBlock.lat_offset');
        this.latOffset = pbf.readVarint(true);
      } else if (field === 20) {
        expectWire(wire, VARINT, 'PrimitiveBlock.lon_offset');
        this.lonOffset = pbf.readVarint(true);
      } else {
        skipField(pbf, wire, end);
      }
    }
    if (pbf.pos !== end) throw new DecodeError('PrimitiveBlock runs past its end');
    this.strings = new Array<string | undefined>(this.strCount);
    for (let g = 0; g < this.groupStart.length; g++) this.decodeGroup(this.groupStart[g], this.groupEnd[g]);
  }

  private readStringTable(end: number): void {
    const pbf = this.pbf;
    while (pbf.pos < end) {
      const tag = pbf.readVarint();
      if (tag >>> 3 === 1) {
        expectWire(tag & 7, BYTES, 'StringTable.s');
        const stop = lengthEnd(pbf, end);
        if (this.strCount === this.strStart.length) {
          const start = new Int32Array(this.strCount * 2);
          const stopArr = new Int32Array(this.strCount * 2);
          start.set(this.strStart);
          stopArr.set(this.strEnd);
          this.strStart = start;
          this.strEnd = stopArr;
        }
        this.strStart[this.strCount] = pbf.pos;
        this.strEnd[this.strCount] = stop;
        this.strCount++;
        pbf.pos = stop;
      } else {
        skipField(pbf, tag & 7, end);
      }
    }
    if (pbf.pos !== end) throw new DecodeError('StringTable runs past its end');
  }

  private str(i: number): string {
    const s = this.strings[i];
    if (s !== undefined) return s;
    if (!(i >= 0 && i < this.strCount)) {
      throw new DecodeError(`string index ${i} outside the block's string table of ${this.strCount} entries`);
    }
    return (this.strings[i] = this.buf.toString('utf8', this.strStart[i], this.strEnd[i]));
  }

  private decodeGroup(start: number, end: number): void {
    const pbf = this.pbf;
    pbf.pos = start;
    while (pbf.pos < end) {
      const tag = pbf.readVarint();
      const field = tag >>> 3;
      const wire = tag & 7;
      if (field >= 1 && field <= 4) {
        expectWire(wire, BYTES, 'PrimitiveGroup element');
        const stop = lengthEnd(pbf, end);
        if (field === 1) this.decodeNode(pbf.pos, stop);
        else if (field === 2) this.decodeDense(pbf.pos, stop);
        else if (field === 3) this.decodeWay(pbf.pos, stop);
        else this.stats.relations++;
        pbf.pos = stop;
      } else {
        skipField(pbf, wire, end); // changesets
      }
    }
    if (pbf.pos !== end) throw new DecodeError('PrimitiveGroup runs past its end');
  }

  /** Tags from parallel packed keys/vals index lists (plain nodes and ways). */
  private packedTags(kStart: number, kEnd: number, vStart: number, vEnd: number, tags: Tags): void {
    const pbf = this.pbf;
    let kp = kStart;
    let vp = vStart;
    while (kp < kEnd) {
      if (vp >= vEnd) throw new DecodeError('more keys than vals');
      pbf.pos = kp;
      const k = pbf.readVarint();
      kp = pbf.pos;
      pbf.pos = vp;
      const v = pbf.readVarint();
      vp = pbf.pos;
      setTag(tags, this.str(k), this.str(v));
    }
    if (vp < vEnd) throw new DecodeError('more vals than keys');
    if (kp !== kEnd || vp !== vEnd) throw new DecodeError('keys/vals run past their field');
  }

  private decodeNode(start: number, end: number): void {
    const pbf = this.pbf;
    pbf.pos = start;
    let id: number | undefined;
    let lat: number | undefined;
    let lon: number | undefined;
    let kStart = 0, kEnd = 0, vStart = 0, vEnd = 0;
    while (pbf.pos < end) {
      const tag = pbf.readVarint();
      const field = tag >>> 3;
      const wire = tag & 7;
      if (field === 1 || field === 8 || field === 9) {
        expectWire(wire, VARINT, 'Node.id/lat/lon');
        const v = pbf.readSVarint();
        if (field === 1) id = v;
        else if (field === 8) lat = v;
        else lon = v;
      } else if (field === 2 || field === 3) {
        expectWire(wire, BYTES, 'Node.keys/vals (packed)');
        const stop = lengthEnd(pbf, end);
        if (field === 2) (kStart = pbf.pos), (kEnd = stop);
        else (vStart = pbf.pos), (vEnd = stop);
        pbf.pos = stop;
      } else {
        skipField(pbf, wire, end);
      }
    }
    if (pbf.pos !== end) throw new DecodeError('Node runs past its end');
    if (id === undefined || lat === undefined || lon === undefined) throw new DecodeError('Node lacks id, lat or lon');
    let tags: Tags | null = null;
    if (kEnd > kStart || vEnd > vStart) this.packedTags(kStart, kEnd, vStart, vEnd, (tags = {}));
    this.emitNode(id, (this.lonOffset + this.granularity * lon) / 1e9, (this.latOffset + this.granularity * lat) / 1e9, tags);
  }

  private decodeDense(start: number, end: number): void {
    const pbf = this.pbf;
    const buf = this.buf;
    pbf.pos = start;
    let idStart = 0, idEnd = 0, latStart = 0, latEnd = 0, lonStart = 0, lonEnd = 0, kvStart = 0, kvEnd = 0;
    while (pbf.pos < end) {
      const tag = pbf.readVarint();
      const field = tag >>> 3;
      const wire = tag & 7;
      if (field === 1 || field === 8 || field === 9 || field === 10) {
        expectWire(wire, BYTES, 'DenseNodes packed field');
        const stop = lengthEnd(pbf, end);
        if (field === 1) (idStart = pbf.pos), (idEnd = stop);
        else if (field === 8) (latStart = pbf.pos), (latEnd = stop);
        else if (field === 9) (lonStart = pbf.pos), (lonEnd = stop);
        else (kvStart = pbf.pos), (kvEnd = stop);
        pbf.pos = stop;
      } else {
        skipField(pbf, wire, end); // denseinfo
      }
    }
    if (pbf.pos !== end) throw new DecodeError('DenseNodes runs past its end');
    // Checked up front so the lockstep loop below can read the three columns without bounds checks.
    const n = countVarints(buf, idStart, idEnd);
    if (countVarints(buf, latStart, latEnd) !== n || countVarints(buf, lonStart, lonEnd) !== n) {
      throw new DecodeError('DenseNodes id, lat and lon columns differ in length');
    }
    const hasKv = kvEnd > kvStart;
    if (hasKv && buf[kvEnd - 1] >= 0x80) throw new DecodeError('DenseNodes keys_vals ends inside a varint');

    const gran = this.granularity;
    const latOff = this.latOffset;
    const lonOff = this.lonOffset;
    let ip = idStart, ap = latStart, op = lonStart, kp = kvStart;
    let id = 0, lat = 0, lon = 0;
    for (let i = 0; i < n; i++) {
      pbf.pos = ip;
      id += pbf.readSVarint();
      ip = pbf.pos;
      pbf.pos = ap;
      lat += pbf.readSVarint();
      ap = pbf.pos;
      pbf.pos = op;
      lon += pbf.readSVarint();
      op = pbf.pos;
      let tags: Tags | null = null;
      if (hasKv) {
        // keys_vals: (key, val)* 0 per node; a lone 0 (the common case) means no tags.
        if (kp >= kvEnd) throw new DecodeError('DenseNodes keys_vals ends before the last node');
        pbf.pos = kp;
        let k = pbf.readVarint();
        if (k !== 0) {
          tags = {};
          do {
            if (pbf.pos >= kvEnd) throw new DecodeError('DenseNodes keys_vals ends inside a node');
            const v = pbf.readVarint();
            setTag(tags, this.str(k), this.str(v));
            if (pbf.pos >= kvEnd) throw new DecodeError('DenseNodes keys_vals ends inside a node');
            k = pbf.readVarint();
          } while (k !== 0);
        }
        kp = pbf.pos;
      }
      this.emitNode(id, (lonOff + gran * lon) / 1e9, (latOff + gran * lat) / 1e9, tags);
    }
  }

  private decodeWay(start: number, end: number): void {
    const pbf = this.pbf;
    pbf.pos = start;
    let id: number | undefined;
    let kStart = 0, kEnd = 0, vStart = 0, vEnd = 0, rStart = 0, rEnd = 0;
    while (pbf.pos < end) {
      const tag = pbf.readVarint();
      const field = tag >>> 3;
      const wire = tag & 7;
      if (field === 1) {
        expectWire(wire, VARINT, 'Way.id');
        id = pbf.readVarint(true);
      } else if (field === 2 || field === 3 || field === 8) {
        expectWire(wire, BYTES, 'Way.keys/vals/refs (packed)');
        const stop = lengthEnd(pbf, end);
        if (field === 2) (kStart = pbf.pos), (kEnd = stop);
        else if (field === 3) (vStart = pbf.pos), (vEnd = stop);
        else (rStart = pbf.pos), (rEnd = stop);
        pbf.pos = stop;
      } else {
        skipField(pbf, wire, end); // info, LocationsOnWays lat/lon
      }
    }
    if (pbf.pos !== end) throw new DecodeError('Way runs past its end');
    if (id === undefined) throw new DecodeError('Way lacks id');
    const tags: Tags = {};
    if (kEnd > kStart || vEnd > vStart) this.packedTags(kStart, kEnd, vStart, vEnd, tags);
    // A fresh array per way: reusing one measured no faster and would bite sinks that keep refs.
    const refs: number[] = [];
    let ref = 0;
    pbf.pos = rStart;
    while (pbf.pos < rEnd) {
      ref += pbf.readSVarint();
      refs.push(ref);
    }
    if (pbf.pos !== rEnd) throw new DecodeError('Way refs run past their field');
    this.stats.ways++;
    try {
      this.sink.way(id, refs, tags);
    } catch (err) {
      throw new SinkFailure(err);
    }
  }

  private emitNode(id: number, lon: number, lat: number, tags: Tags | null): void {
    if (!(lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90)) {
      this.rejectNode(id, lon, lat);
      return;
    }
    this.stats.nodes++;
    try {
      this.sink.node(id, lon, lat, tags);
    } catch (err) {
      throw new SinkFailure(err);
    }
  }

  private rejectNode(id: number, lon: number, lat: number): void {
    this.stats.nodesRejected++;
    // Same wording as the XML reader, so both formats report alike.
    this.warnings?.add(
      'coordinate-out-of-range',
      `${this.file}: node ${id}: lon ${lon}, lat ${lat} outside WGS84 range (lon -180..180, lat -90..90); node skipped`,
      { file: this.file, record: `node ${id}`, field: lon >= -180 && lon <= 180 ? 'lat' : 'lon' },
    );
  }
}

/** Number of varints in buf[start, end); throws if the last one is cut off. */
function countVarints(buf: Uint8Array, start: number, end: number): number {
  let n = 0;
  for (let p = start; p < end; p++) if (buf[p] < 0x80) n++;
  if (end > start && buf[end - 1] >= 0x80) throw new DecodeError('packed field ends inside a varint');
  return n;
}

/** Assigns a tag without letting a "__proto__" key reach the prototype setter. */
function setTag(tags: Tags, key: string, value: string): void {
  if (key === '__proto__') Object.defineProperty(tags, key, { value, enumerable: true, writable: true, configurable: true });
  else tags[key] = value;
}

/**
 * readOsmPbf against real fixtures (counts from `osmium fileinfo -e`, content cross-checked element by element
 * with osmium-tool's OPL output), hand-built PBFs whose numbers are known by construction, and bad input.
 *
 *   node --import tsx --test test/import/osm-pbf.test.ts
 *
 * Real fixtures come from ../shared/data/osm-fixtures-real (override the data folder with LIFECIRCLE_DATA).
 * Tests needing osmium-tool (/usr/bin/osmium) are skipped with the reason when it is absent, except with
 * CI=true, where they fail.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { PbfReader, PbfWriter } from 'pbf';
import { readOsmPbf } from '../../src/import/osm-pbf.ts';
import type { OsmReadOptions, Tags } from '../../src/import/osm-types.ts';
import { LifecircleError, WarningLog, type ErrorKey } from '../../src/errors.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DATA = process.env.LIFECIRCLE_DATA ?? path.resolve(HERE, '../../../shared/data');
const HELSINKI = path.join(DATA, 'osm-fixtures-real', 'helsinki_centre_2019-04.osm.pbf');
const LIECHTENSTEIN = path.join(DATA, 'osm-fixtures-real', 'liechtenstein_2013-08-03.osm.pbf');
const CI = process.env.CI === 'true';
const HAVE_OSMIUM = !spawnSync('osmium', ['--version']).error;
const NO_OSMIUM = 'osmium-tool not installed (apt-get install osmium-tool); cross-check with an independent decoder skipped';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lifecircle-osm-pbf-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface NodeRec {
  id: number;
  lon: number;
  lat: number;
  tags: Tags | null;
}
interface WayRec {
  id: number;
  refs: number[];
  tags: Tags;
}

/** Reads a whole file into arrays (fine for test fixtures; the reader itself never does this). */
async function collect(file: string, options?: OsmReadOptions) {
  const nodes: NodeRec[] = [];
  const ways: WayRec[] = [];
  const stats = await readOsmPbf(
    file,
    {
      node: (id, lon, lat, tags) => void nodes.push({ id, lon, lat, tags }),
      way: (id, refs, tags) => void ways.push({ id, refs: [...refs], tags }),
    },
    options,
  );
  return { nodes, ways, stats };
}

const nullSink = { node() {}, way() {} };

async function expectError(promise: Promise<unknown>, key: ErrorKey, file: string, ...mentions: string[]) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof LifecircleError, `expected LifecircleError, got ${String(err)}`);
    assert.equal(err.key, key, err.message);
    assert.ok(err.message.includes(file), `message names the file: ${err.message}`);
    for (const m of mentions) assert.ok(err.message.includes(m), `message mentions "${m}": ${err.message}`);
    assert.equal(err.file, file);
    return true;
  });
}

/** Independent blob walker: byte offset, header length and data size of every blob. */
function blobLayout(buf: Buffer): { offset: number; headerLen: number; datasize: number }[] {
  const out = [];
  let offset = 0;
  while (offset < buf.length) {
    const headerLen = buf.readUInt32BE(offset);
    const h = new PbfReader(buf.subarray(offset + 4, offset + 4 + headerLen));
    let datasize = -1;
    while (h.pos < headerLen) {
      const tag = h.readVarint();
      if (tag >>> 3 === 3) datasize = h.readVarint();
      else h.skip(tag);
    }
    out.push({ offset, headerLen, datasize });
    offset += 4 + headerLen + datasize;
  }
  return out;
}

/** Parses `osmium cat -f opl` output; OPL escapes space , = @ % and non-printables as %hex%. */
function parseOpl(text: string) {
  const unescape = (s: string) => s.replace(/%([0-9a-fA-F]+)%/g, (_, hex) => String.fromCodePoint(parseInt(hex, 16)));
  const tagsOf = (field: string): Tags => {
    const tags: Tags = {};
    if (field.length > 1) {
      for (const kv of field.slice(1).split(',')) {
        const eq = kv.indexOf('=');
        tags[unescape(kv.slice(0, eq))] = unescape(kv.slice(eq + 1));
      }
    }
    return tags;
  };
  const nodes: NodeRec[] = [];
  const ways: WayRec[] = [];
  let relations = 0;
  for (const line of text.split('\n')) {
    if (!line) continue;
    const fields = line.split(' ');
    const get = (c: string) => fields.find((f) => f.startsWith(c)) ?? c;
    const id = Number(fields[0].slice(1));
    if (line[0] === 'n') {
      const tags = tagsOf(get('T'));
      nodes.push({ id, lon: Number(get('x').slice(1)), lat: Number(get('y').slice(1)), tags: Object.keys(tags).length ? tags : null });
    } else if (line[0] === 'w') {
      const nd = get('N').slice(1);
      ways.push({ id, refs: nd ? nd.split(',').map((r) => Number(r.slice(1))) : [], tags: tagsOf(get('T')) });
    } else if (line[0] === 'r') {
      relations++;
    }
  }
  return { nodes, ways, relations };
}

/** Frames one block as BlobHeader + Blob, the way a PBF writer does. */
function frame(type: string, block: Uint8Array, compression: 'zlib' | 'raw' | 'lzma' = 'zlib'): Buffer {
  const blob = new PbfWriter();
  if (compression === 'raw') {
    blob.writeBytesField(1, block);
  } else {
    blob.writeVarintField(2, block.length);
    blob.writeBytesField(compression === 'zlib' ? 3 : 4, compression === 'zlib' ? deflateSync(block) : block);
  }
  const blobBytes = blob.finish();
  const header = new PbfWriter();
  header.writeStringField(1, type);
  header.writeVarintField(3, blobBytes.length);
  const headerBytes = header.finish();
  const len = Buffer.alloc(4);
  len.writeUInt32BE(headerBytes.length);
  return Buffer.concat([len, headerBytes, blobBytes]);
}

function headerBlock(features = ['OsmSchema-V0.6', 'DenseNodes']): Uint8Array {
  const w = new PbfWriter();
  for (const f of features) w.writeStringField(4, f);
  w.writeStringField(16, 'lifecircle osm-pbf.test');
  return w.finish();
}

interface BlockSpec {
  strings: string[];
  granularity?: number;
  latOffset?: number;
  lonOffset?: number;
  /** Absolute values; delta-coded here. */
  dense?: { ids: number[]; lats: number[]; lons: number[]; keysVals?: number[] };
  nodes?: { id: number; lat: number; lon: number; keys: number[]; vals: number[] }[];
  ways?: { id: number; keys: number[]; vals: number[]; refs: number[] }[];
  relations?: number;
}

const deltas = (xs: number[]) => xs.map((x, i) => x - (i > 0 ? xs[i - 1] : 0));

function primitiveBlock(spec: BlockSpec): Uint8Array {
  const w = new PbfWriter();
  w.writeMessage(1, (strings: string[], sw) => strings.forEach((s) => sw.writeStringField(1, s)), spec.strings);
  w.writeMessage(
    2,
    (s: BlockSpec, g) => {
      for (const n of s.nodes ?? []) {
        g.writeMessage(
          1,
          (_: unknown, nw) => {
            nw.writeSVarintField(1, n.id);
            nw.writePackedVarint(2, n.keys);
            nw.writePackedVarint(3, n.vals);
            nw.writeSVarintField(8, n.lat);
            nw.writeSVarintField(9, n.lon);
          },
          null,
        );
      }
      if (s.dense) {
        const d = s.dense;
        g.writeMessage(
          2,
          (_: unknown, dw) => {
            dw.writePackedSVarint(1, deltas(d.ids));
            dw.writePackedSVarint(8, deltas(d.lats));
            dw.writePackedSVarint(9, deltas(d.lons));
            if (d.keysVals) dw.writePackedVarint(10, d.keysVals);
          },
          null,
        );
      }
      for (const way of s.ways ?? []) {
        g.writeMessage(
          3,
          (_: unknown, ww) => {
            ww.writeVarintField(1, way.id);
            ww.writePackedVarint(2, way.keys);
            ww.writePackedVarint(3, way.vals);
            ww.writePackedSVarint(8, deltas(way.refs));
          },
          null,
        );
      }
      for (let r = 0; r < (s.relations ?? 0); r++) g.writeMessage(4, (_: unknown, rw) => rw.writeVarintField(1, r + 1), null);
    },
    spec,
  );
  // Written after the groups on purpose: the reader must not assume they come first.
  if (spec.granularity !== undefined) w.writeVarintField(17, spec.granularity);
  if (spec.latOffset !== undefined) w.writeVarintField(19, spec.latOffset);
  if (spec.lonOffset !== undefined) w.writeVarintField(20, spec.lonOffset);
  return w.finish();
}

function writeTmp(name: string, content: Uint8Array | string): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, content);
  return file;
}

// ---------------------------------------------------------------------------
// real fixtures
// ---------------------------------------------------------------------------

test('real fixtures: element counts match osmium fileinfo -e', async () => {
  for (const [file, nodes, ways, relations] of [
    [HELSINKI, 24_260, 5_130, 620],
    [LIECHTENSTEIN, 65_733, 7_121, 113],
  ] as const) {
    assert.ok(fs.existsSync(file), `fixture ${file} missing (set LIFECIRCLE_DATA to the shared data folder)`);
    const size = fs.statSync(file).size;
    const progress: [number, number][] = [];
    const seen = { nodes: 0, ways: 0, taggedNodes: 0 };
    const stats = await readOsmPbf(
      file,
      {
        node: (_id, _lon, _lat, tags) => {
          seen.nodes++;
          if (tags) seen.taggedNodes++;
        },
        way: () => void seen.ways++,
      },
      { onProgress: (done, total) => void progress.push([done, total]) },
    );
    assert.deepEqual(stats, { format: 'pbf', bytes: size, nodes, ways, relations, nodesRejected: 0 });
    assert.equal(seen.nodes, nodes);
    assert.equal(seen.ways, ways);
    assert.ok(seen.taggedNodes > 0 && seen.taggedNodes < nodes / 2, `most nodes untagged (${seen.taggedNodes})`);
    // One progress call per blob, increasing, ending at the file size.
    assert.equal(progress.length, blobLayout(fs.readFileSync(file)).length);
    assert.ok(progress.every(([d, t], i) => t === size && (i === 0 || d > progress[i - 1][0])));
    assert.deepEqual(progress.at(-1), [size, size]);
  }
});

for (const [name, file] of [
  ['Helsinki', HELSINKI],
  ['Liechtenstein', LIECHTENSTEIN],
] as const) {
  test(`${name}: every node and way agrees with osmium's OPL output`, async (t) => {
    if (!HAVE_OSMIUM && !CI) return t.skip(NO_OSMIUM);
    const opl = parseOpl(execFileSync('osmium', ['cat', '-f', 'opl', file], { encoding: 'utf8', maxBuffer: 1 << 28 }));
    const ours = await collect(file);
    assert.equal(ours.nodes.length, opl.nodes.length);
    assert.equal(ours.ways.length, opl.ways.length);
    assert.equal(ours.stats.relations, opl.relations);
    let exactCoords = 0;
    for (let i = 0; i < opl.nodes.length; i++) {
      const a = ours.nodes[i];
      const b = opl.nodes[i];
      assert.equal(a.id, b.id, `node #${i}`);
      assert.ok(Math.abs(a.lon - b.lon) <= 1e-7 && Math.abs(a.lat - b.lat) <= 1e-7, `node ${a.id}: ${a.lon},${a.lat} vs ${b.lon},${b.lat}`);
      if (a.lon === b.lon && a.lat === b.lat) exactCoords++;
      assert.deepEqual(a.tags, b.tags, `node ${a.id} tags`);
    }
    // Dividing nanodegrees by 1e9 gives the same doubles as parsing osmium's 7-decimal text.
    assert.equal(exactCoords, opl.nodes.length);
    for (let i = 0; i < opl.ways.length; i++) {
      const a = ours.ways[i];
      const b = opl.ways[i];
      assert.equal(a.id, b.id, `way #${i}`);
      assert.deepEqual(a.refs, b.refs, `way ${a.id} refs`);
      assert.deepEqual(a.tags, b.tags, `way ${a.id} tags`);
    }
  });
}

test('Helsinki rewritten with plain (non-dense) nodes and uncompressed blobs decodes to the same elements', async (t) => {
  if (!HAVE_OSMIUM && !CI) return t.skip(NO_OSMIUM);
  const plain = path.join(tmp, 'helsinki-plain.osm.pbf');
  execFileSync('osmium', ['cat', HELSINKI, '-O', '-o', plain, '-f', 'pbf,pbf_dense_nodes=false,pbf_compression=none']);
  const a = await collect(HELSINKI);
  const b = await collect(plain);
  assert.ok(b.stats.bytes > a.stats.bytes * 2, 'the rewrite is uncompressed');
  assert.deepEqual({ ...b.stats, bytes: 0 }, { ...a.stats, bytes: 0 });
  assert.deepEqual(b.nodes, a.nodes);
  assert.deepEqual(b.ways, a.ways);
});

// ---------------------------------------------------------------------------
// hand-built files: numbers known by construction
// ---------------------------------------------------------------------------

test('hand-built PBF: granularity, offsets, dense and plain nodes, tags, ways, relations', async () => {
  //                0    1          2         3       4    5            6
  const strings = ['', 'amenity', 'school', 'name', 'A', '__proto__', 'x'];
  const block = primitiveBlock({
    strings,
    granularity: 1000, // 1 unit = 1e-6 degree
    latOffset: 500_000_000, // +0.5 degree
    lonOffset: -1_000_000_000, // -1 degree (a negative int64: 10-byte varint)
    dense: {
      ids: [10, 11, 5_000_000_000], // the last one needs more than 32 bits
      lats: [60_000_000, 60_000_001, -89_000_000],
      lons: [25_000_000, 25_000_002, 180_000_000],
      // node 10: amenity=school; node 11: none; node 5e9: __proto__=x, name=A
      keysVals: [1, 2, 0, 0, 5, 6, 3, 4, 0],
    },
    nodes: [{ id: -7, lat: 0, lon: 0, keys: [3], vals: [4] }],
    ways: [
      { id: 3, keys: [1], vals: [2], refs: [10, 11, 5_000_000_000, 10] },
      { id: 4, keys: [], vals: [], refs: [11, 10] },
    ],
    relations: 2,
  });
  const file = writeTmp('handmade.osm.pbf', Buffer.concat([frame('OSMHeader', headerBlock()), frame('OSMData', block), frame('OSMData', block, 'raw')]));
  const { nodes, ways, stats } = await collect(file);
  assert.deepEqual(stats, { format: 'pbf', bytes: fs.statSync(file).size, nodes: 8, ways: 4, relations: 4, nodesRejected: 0 });
  // lon = (lonOffset + granularity * value) / 1e9, e.g. (-1e9 + 1000 * 25e6) / 1e9 = 24
  const protoTags: Tags = { name: 'A' };
  Object.defineProperty(protoTags, '__proto__', { value: 'x', enumerable: true, writable: true, configurable: true });
  const expectedNodes = [
    { id: -7, lon: -1, lat: 0.5, tags: { name: 'A' } }, // plain nodes come first in the group as written
    { id: 10, lon: 24, lat: 60.5, tags: { amenity: 'school' } },
    { id: 11, lon: 24.000002, lat: 60.500001, tags: null },
    { id: 5_000_000_000, lon: 179, lat: -88.5, tags: protoTags },
  ];
  assert.equal(nodes.length, 8);
  for (const [i, n] of nodes.entries()) {
    const e = expectedNodes[i % 4];
    assert.equal(n.id, e.id);
    assert.ok(Math.abs(n.lon - e.lon) < 1e-12 && Math.abs(n.lat - e.lat) < 1e-12, `node ${n.id}: ${n.lon},${n.lat}`);
    assert.deepEqual(n.tags, e.tags);
  }
  assert.equal(Object.getPrototypeOf(nodes[3].tags), Object.prototype, '"__proto__" key stays a plain property');
  assert.deepEqual(ways.slice(0, 2), [
    { id: 3, refs: [10, 11, 5_000_000_000, 10], tags: { amenity: 'school' } },
    { id: 4, refs: [11, 10], tags: {} },
  ]);
});

test('out-of-range coordinates are dropped, counted and reported (osmium-built file)', async (t) => {
  if (!HAVE_OSMIUM && !CI) return t.skip(NO_OSMIUM);
  // osmium accepts x200 / y95 in OPL but stores them as its "undefined location" (int32 max, i.e.
  // 214.7483647 degrees on both axes), which is exactly what a reader meets in the wild.
  const opl = writeTmp('bad-coords.opl', 'n1 v1 x200 y10\nn2 v1 x10 y95 Tname=a\nn3 v1 x10.5 y-10.25\nw1 v1 Thighway=footway Nn1,n2,n3\n');
  const file = path.join(tmp, 'bad-coords.osm.pbf');
  execFileSync('osmium', ['cat', opl, '-O', '-o', file]);
  const warnings = new WarningLog();
  const { nodes, ways, stats } = await collect(file, { warnings });
  assert.deepEqual(stats, { format: 'pbf', bytes: fs.statSync(file).size, nodes: 1, ways: 1, relations: 0, nodesRejected: 2 });
  assert.deepEqual(nodes, [{ id: 3, lon: 10.5, lat: -10.25, tags: null }]);
  assert.deepEqual(ways, [{ id: 1, refs: [1, 2, 3], tags: { highway: 'footway' } }]);
  assert.deepEqual(warnings.countsByKind(), { 'coordinate-out-of-range': 2 });
  const [w1, w2] = warnings.list();
  assert.deepEqual([w1.file, w1.record, w1.field, w2.record], [file, 'node 1', 'lon', 'node 2']);
  assert.ok(w1.message.startsWith(`${file}: node 1: lon 214.7483647, lat 214.7483647 outside`), w1.message);
});

test('required features other than OsmSchema-V0.6 and DenseNodes → PBF_UNSUPPORTED naming the feature', async () => {
  const file = writeTmp('history.osh.pbf', frame('OSMHeader', headerBlock(['OsmSchema-V0.6', 'DenseNodes', 'HistoricalInformation'])));
  await expectError(readOsmPbf(file, nullSink), 'PBF_UNSUPPORTED', file, '"HistoricalInformation"');
});

test('lzma-compressed blob → PBF_UNSUPPORTED naming the compression', async () => {
  const block = primitiveBlock({ strings: [''], dense: { ids: [1], lats: [0], lons: [0] } });
  const file = writeTmp('lzma.osm.pbf', Buffer.concat([frame('OSMHeader', headerBlock()), frame('OSMData', block, 'lzma')]));
  await expectError(readOsmPbf(file, nullSink), 'PBF_UNSUPPORTED', file, 'lzma', 'block 1');
});

test('string index outside the string table → PBF_CORRUPT_BLOCK', async () => {
  const block = primitiveBlock({ strings: ['', 'k'], dense: { ids: [1, 2], lats: [0, 0], lons: [0, 0], keysVals: [0, 1, 9, 0] } });
  const file = writeTmp('bad-string.osm.pbf', Buffer.concat([frame('OSMHeader', headerBlock()), frame('OSMData', block)]));
  await expectError(readOsmPbf(file, nullSink), 'PBF_CORRUPT_BLOCK', file, 'block 1', 'string index 9');
});

test('a file whose first blob is not OSMHeader → FILE_NOT_OSM', async () => {
  const block = primitiveBlock({ strings: [''], dense: { ids: [1], lats: [0], lons: [0] } });
  const file = writeTmp('no-header.osm.pbf', frame('OSMData', block));
  await expectError(readOsmPbf(file, nullSink), 'FILE_NOT_OSM', file, '"OSMData"');
});

test('errors thrown by the sink propagate unchanged', async () => {
  const boom = new Error('sink full');
  await assert.rejects(
    readOsmPbf(HELSINKI, {
      node() {},
      way() {
        throw boom;
      },
    }),
    (err) => err === boom,
  );
});

// ---------------------------------------------------------------------------
// bad input
// ---------------------------------------------------------------------------

test('missing file → FILE_NOT_FOUND', async () => {
  const file = path.join(tmp, 'does-not-exist.osm.pbf');
  await expectError(readOsmPbf(file, nullSink), 'FILE_NOT_FOUND', file);
});

test('empty file → FILE_EMPTY', async () => {
  const file = writeTmp('empty.osm.pbf', '');
  await expectError(readOsmPbf(file, nullSink), 'FILE_EMPTY', file);
});

test('OSM XML given to the PBF reader → FILE_NOT_OSM', async () => {
  const file = writeTmp('really-xml.osm.pbf', '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n <node id="1" lat="60.1" lon="24.9"/>\n</osm>\n');
  await expectError(readOsmPbf(file, nullSink), 'FILE_NOT_OSM', file, 'block 0');
});

test('truncated copies → FILE_TRUNCATED with block index and offset', async () => {
  const original = fs.readFileSync(HELSINKI);
  const blobs = blobLayout(original);
  assert.ok(blobs.length >= 3);
  const b2 = blobs[2];
  const cuts = [
    ['mid-blob', b2.offset + 4 + b2.headerLen + Math.floor(b2.datasize / 2)],
    ['mid-header', b2.offset + 4 + Math.floor(b2.headerLen / 2)],
    ['mid-length', b2.offset + 2],
  ] as const;
  for (const [label, cut] of cuts) {
    const file = writeTmp(`truncated-${label}.osm.pbf`, original.subarray(0, cut));
    let nodes = 0;
    await expectError(
      readOsmPbf(file, { node: () => void nodes++, way() {} }),
      'FILE_TRUNCATED',
      file,
      'block 2',
      `byte offset ${b2.offset}`,
    );
    assert.ok(nodes > 0, `${label}: blocks before the cut were read`);
  }
});

test('corrupted zlib data in the 3rd blob → PBF_CORRUPT_BLOCK naming block 2 and its offset', async () => {
  const copy = Buffer.from(fs.readFileSync(HELSINKI));
  const b2 = blobLayout(copy)[2];
  // Find zlib_data (Blob field 3) inside the blob and scramble 64 bytes in its middle.
  const blobStart = b2.offset + 4 + b2.headerLen;
  const blob = new PbfReader(copy.subarray(blobStart, blobStart + b2.datasize));
  let zStart = -1;
  let zLen = 0;
  while (blob.pos < b2.datasize) {
    const tag = blob.readVarint();
    if (tag >>> 3 === 3) {
      zLen = blob.readVarint();
      zStart = blobStart + blob.pos;
      blob.pos += zLen;
    } else blob.skip(tag);
  }
  assert.ok(zStart > 0 && zLen > 1000, 'blob 2 is zlib-compressed');
  const mid = zStart + Math.floor(zLen / 2);
  for (let i = mid; i < mid + 64; i++) copy[i] ^= 0x5a;
  const file = writeTmp('corrupt-block2.osm.pbf', copy);
  await expectError(readOsmPbf(file, nullSink), 'PBF_CORRUPT_BLOCK', file, 'block 2', `byte offset ${b2.offset}`);
});

test('blob header claiming more than 64 MiB → PBF_CORRUPT_BLOCK', async () => {
  const header = new PbfWriter();
  header.writeStringField(1, 'OSMData');
  header.writeVarintField(3, 65 * 1024 * 1024);
  const h = header.finish();
  const len = Buffer.alloc(4);
  len.writeUInt32BE(h.length);
  const file = writeTmp('huge-blob.osm.pbf', Buffer.concat([frame('OSMHeader', headerBlock()), len, h, Buffer.alloc(100)]));
  await expectError(readOsmPbf(file, nullSink), 'PBF_CORRUPT_BLOCK', file, 'block 1');
});

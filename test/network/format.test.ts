/**
 * The binary graph file (src/network/format.ts): save → load gives identical arrays and identical answers
 * (reach, snapping, spatial index), and damaged files fail with a LifecircleError that names the file.
 *
 *   node --import tsx --test test/network/format.test.ts
 *
 * Real fixture: Helsinki centre (../shared/data/osm-fixtures-real, or $LIFECIRCLE_DATA).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ReachEngine } from '../../src/analysis/dijkstra.ts';
import { LifecircleError, type ErrorKey } from '../../src/errors.ts';
import { GRAPH_FORMAT_VERSION, graphFromBuffer, isSnap, loadGraph, saveGraph, snapPoint, writeArcsCsv, type Graph, type ModeName } from '../../src/network/index.ts';
import { sharedDataDir } from '../../src/util/data-dir.ts';
import { writeAsciiOsm } from '../helpers/ascii-network.ts';
import { buildFromOsm } from '../helpers/graph.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lifecircle-format-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const HELSINKI = path.join(sharedDataDir(), 'osm-fixtures-real', 'helsinki_centre_2019-04.osm.pbf');
const MODES: ModeName[] = ['walk', 'elderly', 'bike'];

const helsinki = (await buildFromOsm(HELSINKI, MODES, 50)).graph;
const ascii = (
  await buildFromOsm(
    writeAsciiOsm(
      `
      A-B-C
      | | |
      D-E-F
      `,
      { ABC: { highway: 'residential', oneway: 'yes' }, DEF: { highway: 'footway' }, AD: { highway: 'steps' }, BE: { highway: 'residential' }, CF: { highway: 'residential' } },
    ).path,
    MODES,
  )
).graph;

/** Every array a Graph carries, by name (listed here, independently of format.ts's own list). */
function arraysOf(g: Graph): Record<string, ArrayLike<number>> {
  const out: Record<string, ArrayLike<number>> = {
    nodeLon: g.nodeLon,
    nodeLat: g.nodeLat,
    nodeOsmId: g.nodeOsmId,
    chainFrom: g.chainFrom,
    chainTo: g.chainTo,
    chainLengthM: g.chainLengthM,
    chainWayId: g.chainWayId,
    chainGeomStart: g.chainGeomStart,
    geomLon: g.geomLon,
    geomLat: g.geomLat,
  };
  for (const [mode, m] of g.modes) {
    out[`${mode}.arcOffsets`] = m.arcOffsets;
    out[`${mode}.arcTarget`] = m.arcTarget;
    out[`${mode}.arcChain`] = m.arcChain;
    out[`${mode}.arcTimeS`] = m.arcTimeS;
    out[`${mode}.chainUsable`] = m.chainUsable;
    out[`${mode}.chainSecPerMFwd`] = m.chainSecPerMFwd;
    out[`${mode}.chainSecPerMBack`] = m.chainSecPerMBack;
    out[`${mode}.nodeComponent`] = m.nodeComponent;
  }
  return out;
}

function assertSameGraph(a: Graph, b: Graph, label: string): void {
  assert.deepEqual(b.info, a.info, `${label}: info`);
  const x = arraysOf(a);
  const y = arraysOf(b);
  assert.deepEqual(Object.keys(y).sort(), Object.keys(x).sort(), `${label}: array names`);
  for (const name of Object.keys(x)) {
    assert.equal(y[name].constructor, x[name].constructor, `${label}: ${name} type`);
    assert.deepEqual(y[name], x[name], `${label}: ${name}`);
  }
  for (const mode of a.modes.keys()) {
    assert.equal(b.mode(mode).mode, mode);
    assert.equal(b.mode(mode).speedMps, a.mode(mode).speedMps);
  }
  assert.equal(b.projection.lon0, a.projection.lon0);
  assert.equal(b.projection.lat0, a.projection.lat0);
}

/** Same answers: reach fields from several nodes, snaps of seeded random points, spatial-index searches. */
function assertSameAnswers(a: Graph, b: Graph, label: string): void {
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
  for (const mode of a.modes.keys()) {
    const ea = new ReachEngine(a.mode(mode));
    const eb = new ReachEngine(b.mode(mode));
    for (let q = 0; q < 5; q++) {
      const n = Math.floor(rand() * a.nodeCount);
      const budget = q === 0 ? Infinity : 900;
      assert.equal(eb.run([n], [0], budget), ea.run([n], [0], budget), `${label} ${mode}: reached count from ${n}`);
      assert.deepEqual(eb.timeS, ea.timeS, `${label} ${mode}: times from ${n}`);
    }
    const [minLon, minLat, maxLon, maxLat] = a.info.bbox;
    for (let k = 0; k < 50; k++) {
      const lon = minLon + rand() * (maxLon - minLon);
      const lat = minLat + rand() * (maxLat - minLat);
      assert.deepEqual(snapPoint(b, b.mode(mode), lon, lat), snapPoint(a, a.mode(mode), lon, lat), `${label} ${mode}: snap ${lon},${lat}`);
    }
  }
  for (let k = 0; k < 20; k++) {
    const x = (rand() - 0.5) * 2000;
    const y = (rand() - 0.5) * 2000;
    assert.deepEqual(b.chainIndex.search(x, y, x + 300, y + 300), a.chainIndex.search(x, y, x + 300, y + 300), `${label}: chainIndex.search`);
    assert.deepEqual(b.chainIndex.neighbors(x, y, 5), a.chainIndex.neighbors(x, y, 5), `${label}: chainIndex.neighbors`);
  }
}

function expectError(fn: () => unknown, key: ErrorKey, file: string, extra?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof LifecircleError, `expected a LifecircleError ${key}, got ${err instanceof Error ? `${err.constructor.name}: ${err.message}` : String(err)}`);
    assert.equal(err.key, key, `key (message: ${err.message})`);
    assert.ok(err.message.includes(file), `message names the file: ${err.message}`);
    assert.equal(err.file, file);
    if (extra) assert.match(err.message, extra);
    return true;
  });
}

test('save → load round trip: identical arrays, info and answers (ASCII network, 3 modes)', () => {
  const file = path.join(tmp, 'ascii.lcgraph');
  const bytes = saveGraph(ascii, file);
  assert.equal(fs.statSync(file).size, bytes);
  assert.equal(fs.existsSync(`${file}.tmp-${process.pid}`), false, 'the temporary file is renamed away');
  const loaded = loadGraph(file);
  assertSameGraph(ascii, loaded, 'ascii');
  assertSameAnswers(ascii, loaded, 'ascii');
});

test('save → load round trip: identical arrays, info and answers (Helsinki, 3 modes)', () => {
  const file = path.join(tmp, 'helsinki.lcgraph');
  saveGraph(helsinki, file);
  const loaded = loadGraph(file);
  assertSameGraph(helsinki, loaded, 'helsinki');
  assertSameAnswers(helsinki, loaded, 'helsinki');
  // file layout: magic, version, header length, then 8-byte aligned sections
  const buf = fs.readFileSync(file);
  assert.equal(buf.toString('latin1', 0, 4), 'LCGR');
  assert.equal(buf.readUInt32LE(4), GRAPH_FORMAT_VERSION);
  const header = JSON.parse(buf.toString('utf8', 16, 16 + buf.readUInt32LE(8)));
  for (const s of header.sections) assert.equal(s.offset % 8, 0, `section ${s.name} aligned`);
});

test('a loaded graph can be saved again and reloaded (save → load → save → load)', () => {
  // A graph loaded from a file keeps its spatial index as a view into the whole file buffer
  // (Flatbush.from(buffer, byteOffset)); saving it again must write the index's own bytes only.
  // Regression: format.ts once wrote `new Uint8Array(index.data)`, which for a loaded graph is the whole old
  // file, so the re-saved file did not load ("Data does not appear to be in a Flatbush format.").
  const first = path.join(tmp, 'resave-1.lcgraph');
  const second = path.join(tmp, 'resave-2.lcgraph');
  saveGraph(helsinki, first);
  const loaded = loadGraph(first);
  saveGraph(loaded, second);
  let reloaded: Graph;
  try {
    reloaded = loadGraph(second);
  } catch (e) {
    assert.fail(`reloading the re-saved file failed: ${(e as Error).message}; sizes: first ${fs.statSync(first).size} B, second ${fs.statSync(second).size} B`);
  }
  assert.equal(fs.statSync(second).size, fs.statSync(first).size, 'the second file has the size of the first');
  assertSameGraph(helsinki, reloaded, 'resaved');
  assertSameAnswers(helsinki, reloaded, 'resaved');
});

test('graphFromBuffer accepts a buffer at an odd byte offset (copies to align)', () => {
  const file = path.join(tmp, 'odd.lcgraph');
  saveGraph(ascii, file);
  const bytes = fs.readFileSync(file);
  const backing = new Uint8Array(bytes.length + 3);
  backing.set(bytes, 3);
  const g = graphFromBuffer(backing.subarray(3), file);
  assertSameGraph(ascii, g, 'odd offset');
});

test('missing graph file: FILE_NOT_FOUND naming the file', () => {
  const file = path.join(tmp, 'nope.lcgraph');
  expectError(() => loadGraph(file), 'FILE_NOT_FOUND', file);
});

test('truncated graph files: GRAPH_FILE_INVALID naming the file', () => {
  const good = path.join(tmp, 'good.lcgraph');
  saveGraph(helsinki, good);
  const bytes = fs.readFileSync(good);
  const headerEnd = 16 + bytes.readUInt32LE(8);
  const cuts: Array<[string, number, RegExp]> = [
    ['inside the preamble', 10, /only 10 bytes/],
    ['inside the header', 16 + 40, /truncated/],
    ['just after the header', headerEnd, /truncated/],
    ['half way', Math.floor(bytes.length / 2), /truncated/],
    ['one byte short', bytes.length - 1, /truncated/],
  ];
  for (const [what, len, re] of cuts) {
    const file = path.join(tmp, `truncated-${len}.lcgraph`);
    fs.writeFileSync(file, bytes.subarray(0, len));
    expectError(() => loadGraph(file), 'GRAPH_FILE_INVALID', file, re);
    assert.ok(what);
  }
  const empty = path.join(tmp, 'empty.lcgraph');
  fs.writeFileSync(empty, '');
  expectError(() => loadGraph(empty), 'GRAPH_FILE_INVALID', empty, /only 0 bytes/);
});

test('wrong magic: GRAPH_FILE_INVALID; wrong version: GRAPH_VERSION_UNSUPPORTED; both name the file', () => {
  const good = path.join(tmp, 'good2.lcgraph');
  saveGraph(ascii, good);
  const bytes = fs.readFileSync(good);

  const magic = Buffer.from(bytes);
  magic.write('PK\x03\x04', 0, 'latin1'); // e.g. a zip handed over instead
  const magicFile = path.join(tmp, 'magic.lcgraph');
  fs.writeFileSync(magicFile, magic);
  expectError(() => loadGraph(magicFile), 'GRAPH_FILE_INVALID', magicFile, /magic/);

  const osm = path.join(tmp, 'not-a-graph.osm');
  fs.writeFileSync(osm, '<?xml version="1.0"?>\n<osm version="0.6"></osm>\n');
  expectError(() => loadGraph(osm), 'GRAPH_FILE_INVALID', osm, /magic/);

  for (const version of [0, GRAPH_FORMAT_VERSION + 1, 0xffffffff]) {
    const v = Buffer.from(bytes);
    v.writeUInt32LE(version, 4);
    const file = path.join(tmp, `version-${version}.lcgraph`);
    fs.writeFileSync(file, v);
    expectError(() => loadGraph(file), 'GRAPH_VERSION_UNSUPPORTED', file, new RegExp(`version ${version}`));
  }
});

function damaged() {
  const good = path.join(tmp, 'good3.lcgraph');
  saveGraph(ascii, good);
  const bytes = fs.readFileSync(good);
  const headerBytes = bytes.readUInt32LE(8);
  const header = JSON.parse(bytes.toString('utf8', 16, 16 + headerBytes)) as { info: unknown; sections: Array<{ name: string; offset: number }> };
  const writeWithHeader = (name: string, json: string) => {
    const b = Buffer.from(bytes);
    b.fill(0x20, 16, 16 + headerBytes);
    b.write(json, 16, 'utf8');
    const file = path.join(tmp, name);
    fs.writeFileSync(file, b);
    return file;
  };
  return { bytes, header, writeWithHeader };
}

test('damaged header or sections: GRAPH_FILE_INVALID naming the file and what is wrong', () => {
  const { header, writeWithHeader } = damaged();
  const notJson = writeWithHeader('header-not-json.lcgraph', '{"info": ');
  expectError(() => loadGraph(notJson), 'GRAPH_FILE_INVALID', notJson, /not JSON/);
  const missing = writeWithHeader('section-missing.lcgraph', JSON.stringify({ info: header.info, sections: header.sections.filter((s) => s.name !== 'walk.arcTarget') }));
  expectError(() => loadGraph(missing), 'GRAPH_FILE_INVALID', missing, /walk\.arcTarget/);
  const unaligned = writeWithHeader(
    'section-unaligned.lcgraph',
    JSON.stringify({ info: header.info, sections: header.sections.map((s) => (s.name === 'nodeLon' ? { ...s, offset: s.offset + 4 } : s)) }),
  );
  expectError(() => loadGraph(unaligned), 'GRAPH_FILE_INVALID', unaligned, /nodeLon/);
});

test('header that is JSON but not a graph header (no sections list): GRAPH_FILE_INVALID, not a TypeError', () => {
  const { header, writeWithHeader } = damaged();
  // Regression (src/network/format.ts graphFromBuffer, `for (const s of header.sections)`): was a TypeError.
  const noSections = writeWithHeader('header-no-sections.lcgraph', JSON.stringify({ info: header.info }));
  expectError(() => loadGraph(noSections), 'GRAPH_FILE_INVALID', noSections);
  const notObject = writeWithHeader('header-null.lcgraph', 'null');
  expectError(() => loadGraph(notObject), 'GRAPH_FILE_INVALID', notObject);
});

test('spatial index section damaged (flatbush magic byte overwritten): GRAPH_FILE_INVALID, not a bare Error', () => {
  const { bytes, header } = damaged();
  // Regression: flatbush's own Error used to escape from graphFromBuffer.
  const seg = header.sections.find((s) => s.name === 'chainIndex')!;
  const b = Buffer.from(bytes);
  b[seg.offset] = 0;
  const badIndex = path.join(tmp, 'segindex-damaged.lcgraph');
  fs.writeFileSync(badIndex, b);
  expectError(() => loadGraph(badIndex), 'GRAPH_FILE_INVALID', badIndex);
});

test('a loaded graph built without a mode says so: MODE_NOT_IN_GRAPH', async () => {
  const file = path.join(tmp, 'walk-only.lcgraph');
  saveGraph((await buildFromOsm(HELSINKI, ['walk'], 50)).graph, file);
  const loaded = loadGraph(file);
  assert.deepEqual([...loaded.modes.keys()], ['walk']);
  assert.throws(
    () => loaded.mode('bike'),
    (err: unknown) => err instanceof LifecircleError && err.key === 'MODE_NOT_IN_GRAPH' && /bike/.test(err.message) && /walk/.test(err.message),
  );
});

test('a loaded graph snaps a point in central Helsinki (Senate Square area) within 100 m', () => {
  const file = path.join(tmp, 'smoke.lcgraph');
  saveGraph(helsinki, file);
  const g = loadGraph(file);
  const s = snapPoint(g, g.mode('walk'), 24.9442, 60.1699);
  assert.ok(isSnap(s));
  assert.ok(s.legM < 100);
});

test('writeArcsCsv: one line per arc (source,target,time_s), times round-trip exactly', async () => {
  for (const mode of MODES) {
    const file = path.join(tmp, `arcs-${mode}.csv`);
    const n = await writeArcsCsv(helsinki, mode, file);
    const m = helsinki.mode(mode);
    assert.equal(n, m.arcTarget.length);
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    assert.equal(lines[0], 'source,target,time_s');
    assert.equal(lines.length - 1, n);
    let i = 1;
    for (let u = 0; u < helsinki.nodeCount; u++) {
      for (let a = m.arcOffsets[u]; a < m.arcOffsets[u + 1]; a++, i++) {
        const [s, t, time] = lines[i].split(',').map(Number);
        assert.equal(s, u);
        assert.equal(t, m.arcTarget[a]);
        assert.equal(time, m.arcTimeS[a], `arc ${a}: ${lines[i]}`);
      }
    }
  }
});

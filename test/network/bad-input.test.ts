/**
 * Bad OSM input through the network entry point (readOsmNetwork → buildGraph, as `lifecircle network build`
 * does): every failure is a LifecircleError with the right stable key and the file path in its message;
 * per-element problems are warnings that name the element, and the graph is still built from the rest.
 *
 *   node --import tsx --test test/network/bad-input.test.ts
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { LifecircleError, WarningLog, type ErrorKey } from '../../src/errors.ts';
import { buildGraph, readOsmNetwork } from '../../src/network/index.ts';
import { sharedDataDir } from '../../src/util/data-dir.ts';
import { writeAsciiOsm } from '../helpers/ascii-network.ts';
import { mustNode } from '../helpers/graph.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lifecircle-bad-input-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const write = (name: string, content: string | Uint8Array) => {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, content);
  return file;
};

/** readOsmNetwork then buildGraph, the CLI's path. */
async function build(file: string, warnings = new WarningLog()) {
  const result = await readOsmNetwork(file, { modes: ['walk', 'bike'], warnings });
  const graph = buildGraph(result.raw, { minComponentNodes: 1 });
  return { result, graph, warnings };
}

async function expectError(file: string, key: ErrorKey, extra?: RegExp): Promise<LifecircleError> {
  let caught: unknown;
  try {
    await build(file);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught !== undefined, `${file}: expected ${key}, but the network was built`);
  assert.ok(caught instanceof LifecircleError, `${file}: expected a LifecircleError ${key}, got ${caught instanceof Error ? `${caught.constructor.name}: ${caught.message}` : String(caught)}`);
  assert.equal(caught.key, key, `key (message: ${caught.message})`);
  assert.ok(caught.message.includes(file), `message names the file: ${caught.message}`);
  assert.equal(caught.file, file);
  if (extra) assert.match(caught.message, extra);
  return caught;
}

const NET = `
  A-B-C
    |
    D
`;
const good = () => writeAsciiOsm(NET, { ABC: { highway: 'residential' }, BD: { highway: 'footway' } }, { dir: tmp });

test('missing file: FILE_NOT_FOUND', async () => {
  await expectError(path.join(tmp, 'does-not-exist.osm'), 'FILE_NOT_FOUND', /not found/);
  await expectError(path.join(tmp, 'no-such-dir', 'x.osm.pbf'), 'FILE_NOT_FOUND');
});

test('empty file: FILE_EMPTY', async () => {
  await expectError(write('empty.osm', ''), 'FILE_EMPTY', /empty/);
  await expectError(write('empty.osm.pbf', ''), 'FILE_EMPTY', /empty/);
});

test('a directory instead of a file: a LifecircleError naming it, not a raw EISDIR', async () => {
  // Regression (src/import/osm.ts detectOsmFormat): statSync succeeds on a directory, readSync throws EISDIR.
  const dir = path.join(tmp, 'a-directory.osm');
  fs.mkdirSync(dir, { recursive: true });
  let caught: unknown;
  try {
    await build(dir);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof LifecircleError, `got ${caught instanceof Error ? `${caught.constructor.name}: ${caught.message}` : String(caught)}`);
  assert.ok(caught.message.includes(dir));
});

test('truncated XML (cut mid-way, inside a tag and between elements): FILE_TRUNCATED', async () => {
  const xml = fs.readFileSync(good().path, 'utf8');
  const midTag = xml.indexOf('<way') + 3;
  await expectError(write('cut-mid-tag.osm', xml.slice(0, midTag)), 'FILE_TRUNCATED', /truncated/);
  const betweenElements = xml.indexOf('<way');
  await expectError(write('cut-between.osm', xml.slice(0, betweenElements)), 'FILE_TRUNCATED', /before <\/osm>/);
  await expectError(write('cut-half.osm', xml.slice(0, Math.floor(xml.length / 2))), 'FILE_TRUNCATED');
});

test('truncated PBF (real extract cut in half): a LifecircleError naming the file', async () => {
  const pbf = fs.readFileSync(path.join(sharedDataDir(), 'osm-fixtures-real', 'liechtenstein_2013-08-03.osm.pbf'));
  const file = write('cut.osm.pbf', pbf.subarray(0, Math.floor(pbf.length / 2)));
  let caught: unknown;
  try {
    await build(file);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof LifecircleError, String(caught));
  assert.ok((['FILE_TRUNCATED', 'PBF_CORRUPT_BLOCK'] as string[]).includes(caught.key), caught.key);
  assert.ok(caught.message.includes(file));
});

test('not OSM: HTML (a failed download), plain text, JSON: FILE_NOT_OSM', async () => {
  await expectError(write('download.osm.pbf', '<!DOCTYPE html>\n<html><head><title>429 Too Many Requests</title></head><body></body></html>\n'), 'FILE_NOT_OSM', /<html>/);
  await expectError(write('page.osm', '<html><body>not a map</body></html>'), 'FILE_NOT_OSM', /expected <osm>/);
  await expectError(write('notes.osm', 'this is not xml at all\n'), 'FILE_NOT_OSM');
  await expectError(write('data.osm', '{"type":"FeatureCollection","features":[]}'), 'FILE_NOT_OSM');
});

test('compressed XML: gzip and bzip2 are refused with a hint', async () => {
  const xml = fs.readFileSync(good().path);
  await expectError(write('map.osm.gz', gzipSync(xml)), 'FILE_NOT_OSM', /gunzip/);
  await expectError(write('map.osm.bz2', Buffer.concat([Buffer.from('BZh91AY&SY'), Buffer.alloc(40)])), 'FILE_NOT_OSM', /bunzip2/);
});

test('malformed XML in the middle: XML_MALFORMED with the line', async () => {
  const xml = [
    '<?xml version="1.0"?>',
    '<osm version="0.6">',
    '  <node id="1" lat="31.2" lon="121.4"/>',
    '  <node id="2" lat="31.2" lon="121.401">',
    '    <tag k="a" v="b">',
    '  </node>',
    '</osm>',
  ].join('\n');
  const e = await expectError(write('mismatched.osm', xml), 'XML_MALFORMED', /line \d+/);
  assert.ok(/line [56]/.test(e.message), e.message);
});

test('a way referencing missing nodes: warnings name the way and the node; the graph is built from the rest', async () => {
  const xml = `<?xml version="1.0"?>
<osm version="0.6">
  <node id="1" lat="31.2" lon="121.4"/>
  <node id="2" lat="31.2" lon="121.401"/>
  <node id="3" lat="31.2" lon="121.402"/>
  <node id="5" lat="31.2" lon="121.404"/>
  <node id="6" lat="31.2" lon="121.405"/>
  <way id="77">
    <nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="5"/><nd ref="6"/><nd ref="99"/>
    <tag k="highway" v="residential"/>
  </way>
</osm>
`;
  const file = write('missing-refs.osm', xml);
  const { result, graph, warnings } = await build(file);
  assert.equal(warnings.countsByKind()['missing-node'], 2);
  assert.equal(result.missingNodeRefs, 2);
  const msgs = warnings.list().filter((w) => w.kind === 'missing-node');
  assert.ok(msgs[0].message.includes('way 77') && msgs[0].message.includes('node 4') && msgs[0].message.includes(file), msgs[0].message);
  assert.ok(msgs[1].message.includes('way 77') && msgs[1].message.includes('node 99'), msgs[1].message);
  assert.equal(msgs[0].record, 'way 77');
  // split at node 4: pieces 1-2-3 and 5-6 (the trailing missing 99 leaves 5-6 as it is)
  assert.equal(graph.chainCount, 2);
  assert.deepEqual([...graph.nodeOsmId].sort((a, b) => a - b), [1, 3, 5, 6]);
  assert.ok(result.raw.notes.some((n) => n.includes('2 way node references were missing')));
  // a way whose refs are all missing gives no line at all, and the rest still builds
  const xml2 = xml.replace('</osm>', '  <way id="78"><nd ref="100"/><nd ref="101"/><tag k="highway" v="footway"/></way>\n</osm>');
  const b = await build(write('missing-refs-2.osm', xml2));
  assert.equal(b.warnings.countsByKind()['missing-node'], 4);
  assert.equal(b.graph.chainCount, 2);
});

test('nodes with lat 95 / lon 200 / non-numbers: warnings naming the node, node skipped, graph built', async () => {
  const xml = `<?xml version="1.0"?>
<osm version="0.6">
  <node id="1" lat="31.2" lon="121.4"/>
  <node id="2" lat="95" lon="121.401"/>
  <node id="3" lat="31.2" lon="200"/>
  <node id="4" lat="31.2" lon="121.403"/>
  <node id="5" lat="abc" lon="121.404"/>
  <node id="6" lat="31.2" lon="121.405"/>
  <way id="10"><nd ref="1"/><nd ref="4"/><nd ref="6"/><tag k="highway" v="residential"/></way>
  <way id="11"><nd ref="4"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="footway"/></way>
</osm>
`;
  const file = write('out-of-range.osm', xml);
  const { result, graph, warnings } = await build(file);
  assert.equal(result.read.nodes, 3);
  assert.equal(result.read.nodesRejected, 3);
  assert.equal(warnings.countsByKind()['coordinate-out-of-range'], 3);
  const byNode = new Map(warnings.list().filter((w) => w.kind === 'coordinate-out-of-range').map((w) => [w.record, w]));
  assert.deepEqual(new Set(byNode.keys()), new Set(['node 2', 'node 3', 'node 5']));
  assert.ok(byNode.get('node 2')!.message.includes('lat 95') && byNode.get('node 2')!.message.includes(file));
  assert.equal(byNode.get('node 2')!.field, 'lat');
  assert.ok(byNode.get('node 3')!.message.includes('lon 200'));
  assert.equal(byNode.get('node 3')!.field, 'lon');
  assert.ok(byNode.has('node 5'));
  // way 11 (4-2-3) lost nodes 2 and 3: two missing refs, and its one-vertex remainder [4] is dropped;
  // way 10 (1-4-6) builds as one chain (4 is a pass-through vertex)
  assert.equal(warnings.countsByKind()['missing-node'], 2);
  assert.equal(graph.chainCount, 1);
  mustNode(graph, 1);
  mustNode(graph, 6);
});

test('nodes but no usable ways: GRAPH_EMPTY naming the file', async () => {
  const nodesOnly = `<?xml version="1.0"?>
<osm version="0.6">
  <node id="1" lat="31.2" lon="121.4"/>
  <node id="2" lat="31.2" lon="121.401"/>
  <node id="3" lat="31.201" lon="121.401"/>
</osm>
`;
  await expectError(write('nodes-only.osm', nodesOnly), 'GRAPH_EMPTY', /empty|no usable way/);
  const unusable = nodesOnly.replace(
    '</osm>',
    [
      '  <way id="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="1"/><tag k="building" v="yes"/></way>',
      '  <way id="2"><nd ref="1"/><nd ref="2"/><tag k="highway" v="motorway"/></way>',
      '  <way id="3"><nd ref="2"/><nd ref="3"/><tag k="highway" v="residential"/><tag k="access" v="private"/></way>',
      '  <way id="4"><nd ref="3"/><tag k="highway" v="residential"/></way>',
      '</osm>',
    ].join('\n'),
  );
  await expectError(write('no-usable-ways.osm', unusable), 'GRAPH_EMPTY', /walk, bike/);
  await expectError(write('bare-osm.osm', '<?xml version="1.0"?>\n<osm version="0.6"></osm>\n'), 'GRAPH_EMPTY');
});

test('ways whose nodes are all out of range: GRAPH_EMPTY naming the file', async () => {
  const xml = `<?xml version="1.0"?>
<osm version="0.6">
  <node id="1" lat="91" lon="121.4"/>
  <node id="2" lat="92" lon="121.401"/>
  <way id="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/></way>
</osm>
`;
  await expectError(write('all-out-of-range.osm', xml), 'GRAPH_EMPTY');
});

test('duplicate and unsorted node ids: warned, first occurrence used', async () => {
  const xml = `<?xml version="1.0"?>
<osm version="0.6">
  <node id="3" lat="31.2" lon="121.402"/>
  <node id="1" lat="31.2" lon="121.4"/>
  <node id="2" lat="31.2" lon="121.401"/>
  <node id="2" lat="31.3" lon="121.5"/>
  <way id="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="residential"/></way>
</osm>
`;
  const file = write('duplicates.osm', xml);
  const { graph, warnings } = await build(file);
  assert.equal(warnings.countsByKind()['duplicate-node'], 1);
  assert.ok(warnings.list().some((w) => w.kind === 'duplicate-node' && w.message.includes('node 2') && w.message.includes(file)));
  // first occurrence of node 2 (lon 121.401): the street 1-2-3 is straight, ~190 m long
  assert.equal(graph.chainCount, 1);
  assert.ok(Math.abs(graph.chainLengthM[0] - 2 * 0.001 * 111_195 * Math.cos((31.2 * Math.PI) / 180)) < 1, `length ${graph.chainLengthM[0]}`);
});

test('unparsable element ids: warned and skipped', async () => {
  const xml = `<?xml version="1.0"?>
<osm version="0.6">
  <node id="1" lat="31.2" lon="121.4"/>
  <node id="x2" lat="31.2" lon="121.401"/>
  <node id="3" lat="31.2" lon="121.402"/>
  <way id="1"><nd ref="1"/><nd ref="3"/><tag k="highway" v="residential"/></way>
</osm>
`;
  const { result, warnings } = await build(write('bad-id.osm', xml));
  assert.equal(warnings.countsByKind()['invalid-id'], 1);
  assert.equal(result.read.nodes, 2);
});

test('a node id given three times: the first occurrence is used, as the warning says', async () => {
  // ids sorted [1, 2, 2, 2, 5, 6, 7, 8]: a binary search lands on the middle copy of node 2; stepping back
  // one place is not enough to reach the first copy. Regression (src/network/osm-network.ts indexOf:
  // `while (mid > 0 && ids[mid - 1] === id) return ...` returns after one step instead of looping).
  const xml = `<?xml version="1.0"?>
<osm version="0.6">
  <node id="1" lat="31.2" lon="121.4"/>
  <node id="2" lat="31.2" lon="121.401"/>
  <node id="2" lat="31.2" lon="121.5"/>
  <node id="2" lat="31.2" lon="121.6"/>
  <node id="5" lat="31.2" lon="121.402"/>
  <node id="6" lat="31.21" lon="121.41"/>
  <node id="7" lat="31.21" lon="121.411"/>
  <node id="8" lat="31.21" lon="121.412"/>
  <way id="1"><nd ref="1"/><nd ref="2"/><nd ref="5"/><tag k="highway" v="residential"/></way>
  <way id="2"><nd ref="6"/><nd ref="7"/><nd ref="8"/><tag k="highway" v="residential"/></way>
</osm>
`;
  const file = write('triplicate.osm', xml);
  const { graph, warnings } = await build(file);
  assert.equal(warnings.countsByKind()['duplicate-node'], 2);
  assert.ok(warnings.list().some((w) => w.kind === 'duplicate-node' && /first occurrence is used/.test(w.message)));
  // with the first node 2 (lon 121.401) way 1 is a straight 0.002° street of ~190 m; with a later copy it
  // would run out to lon 121.5 or 121.6 and back (~19 km or ~38 km)
  const way1 = [...graph.chainWayId].indexOf(1);
  const expectedM = 0.002 * 111_195 * Math.cos((31.2 * Math.PI) / 180);
  assert.ok(Math.abs(graph.chainLengthM[way1] - expectedM) < 1, `way 1 length ${graph.chainLengthM[way1].toFixed(1)} m, expected ${expectedM.toFixed(1)} m`);
});

/**
 * The `lifecircle` command end to end, as a user runs it (a child process on bin/lifecircle.mjs), on the real
 * central-Shanghai extract: build, info, reach (GeoJSON and JSON), field, export-arcs, --help everywhere, and
 * the exit codes and messages of bad input.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedDataDir, REPO_ROOT } from '../../src/util/data-dir.ts';

const work = mkdtempSync(join(tmpdir(), 'lifecircle-cli-'));
after(() => rmSync(work, { recursive: true, force: true }));
const osm = join(sharedDataDir(), 'osm-shanghai-center', 'shanghai_center.osm');
const graph = join(work, 'sh.lcg');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'lifecircle.mjs'), ...args], { encoding: 'utf8', cwd: work });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('network build → info: counts and attribution', () => {
  const b = cli('network', 'build', osm, '-o', graph, '--json');
  assert.equal(b.code, 0, b.stderr);
  const summary = JSON.parse(b.stdout);
  assert.equal(summary.ok, true);
  assert.equal(summary.read.nodes, 21786); // PROVENANCE.md: 21,786 nodes, 4,701 ways
  assert.equal(summary.read.ways, 4701);
  assert.deepEqual(summary.info.modes.map((m: { mode: string }) => m.mode), ['walk', 'elderly', 'bike']);
  assert.ok(existsSync(graph));
  const info = cli('network', 'info', graph);
  assert.equal(info.code, 0);
  assert.match(info.stdout, /© OpenStreetMap contributors/);
  assert.match(info.stdout, /streets stand in for sidewalks/);
});

test('reach: JSON summary and GeoJSON with service area, reached network, origin and reached points', () => {
  const pts = join(work, 'pts.csv');
  // one point next to the origin, one across the Huangpu in Lujiazui (not walkable in this data)
  writeFileSync(pts, 'id,lon,lat\nnear,121.4740,31.2306\nlujiazui,121.5050,31.2400\n');
  const j = cli('reach', '--graph', graph, '--at', '121.4737,31.2304', '--minutes', '10', '--format', 'json', '--points', pts);
  assert.equal(j.code, 0, j.stderr);
  const s = JSON.parse(j.stdout);
  assert.equal(s.budgetS, 600);
  assert.equal(s.cutoff, 'inclusive');
  assert.ok(s.reachedNodes > 30 && s.reachedStreetM > 5000, `reached ${s.reachedNodes} nodes, ${s.reachedStreetM} m`);
  assert.deepEqual(s.reachedPoints.map((p: { id: string }) => p.id), ['near']);
  assert.ok(s.reachedPoints[0].timeS < 120);
  const g = cli('reach', '--graph', graph, '--at', '121.4737,31.2304', '--minutes', '10');
  assert.equal(g.code, 0, g.stderr);
  const fc = JSON.parse(g.stdout);
  assert.equal(fc.type, 'FeatureCollection');
  assert.match(fc.attribution, /OpenStreetMap/);
  const kinds = fc.features.map((f: { properties: { kind: string } }) => f.properties.kind);
  assert.deepEqual(kinds.slice(0, 3), ['service-area', 'reached-network', 'origin']);
  assert.equal(fc.features[0].geometry.type, 'MultiPolygon');
  // RFC 7946 ring orientation: exteriors counter-clockwise (positive shoelace area), holes clockwise
  const signedArea = (ring: number[][]) => ring.reduce((a, [x, y], i) => a + (i ? (ring[i - 1][0] * y - x * ring[i - 1][1]) : 0), 0) / 2;
  for (const polygon of fc.features[0].geometry.coordinates as number[][][][]) {
    assert.ok(signedArea(polygon[0]) > 0, 'exterior ring counter-clockwise');
    for (const hole of polygon.slice(1)) assert.ok(signedArea(hole) < 0, 'hole clockwise');
  }
  assert.ok(fc.features[0].properties.areaKm2 > 0.3 && fc.features[0].properties.areaKm2 < 3);
});

test('field: nearest facility for points, with shares within 5/10/15 minutes', () => {
  const fac = join(work, 'fac.geojson');
  writeFileSync(fac, JSON.stringify({ type: 'FeatureCollection', features: [{ type: 'Feature', id: 'peoples-square', properties: {}, geometry: { type: 'Point', coordinates: [121.4737, 31.2304] } }] }));
  const homes = join(work, 'homes.csv');
  writeFileSync(homes, 'id,lon,lat\nh1,121.4740,31.2306\nh2,121.4900,31.2300\nh3,121.5050,31.2400\n');
  const outCsv = join(work, 'times.csv');
  const r = cli('field', '--graph', graph, '--facilities', fac, '--points', homes, '-o', outCsv);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.subject.total, 3);
  const rows = readFileSync(outCsv, 'utf8').trim().split('\n');
  assert.equal(rows[0], 'id,lon,lat,time_s,facility_id');
  assert.match(rows[1], /^h1,.*,peoples-square$/);
  assert.match(rows[3], /^h3,121.505,31.24,,$/); // across the river: not reached, no facility
});

test('export-arcs writes the CSV exchange format', () => {
  const csv = join(work, 'arcs.csv');
  const r = cli('network', 'export-arcs', graph, '--mode', 'bike', '-o', csv);
  assert.equal(r.code, 0, r.stderr);
  const lines = readFileSync(csv, 'utf8').trim().split('\n');
  assert.equal(lines[0], 'source,target,time_s');
  const info = JSON.parse(cli('network', 'info', graph, '--json').stdout);
  assert.equal(lines.length - 1, info.modes.find((m: { mode: string }) => m.mode === 'bike').arcs);
});

test('--help on every command', () => {
  for (const args of [[], ['network'], ['network', 'build'], ['network', 'info'], ['network', 'export-arcs'], ['reach'], ['field'], ['demo'], ['init'], ['import'], ['export'], ['status'], ['assess'], ['accessibility'], ['estimate-population']]) {
    const r = cli(...args, '--help');
    assert.equal(r.code, 0, `${args.join(' ')} --help`);
    assert.match(r.stdout, /Usage: lifecircle/);
  }
});

test('bad input: clear messages and exit codes', () => {
  const missing = cli('network', 'build', join(work, 'nope.osm'), '-o', join(work, 'x.lcg'));
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /error \[FILE_NOT_FOUND\] .*nope\.osm: file not found/);
  const swapped = cli('reach', '--graph', graph, '--at', '31.2304,121.4737');
  assert.equal(swapped.code, 1);
  assert.match(swapped.stderr, /did you give lat,lon\?/);
  const far = cli('reach', '--graph', graph, '--at', '121.30,31.05');
  assert.equal(far.code, 2);
  assert.match(far.stderr, /POINT_NOT_SNAPPED.*outside the network's extent/);
  const mode = cli('reach', '--graph', graph, '--at', '121.4737,31.2304', '--mode', 'car');
  assert.equal(mode.code, 2);
  assert.match(mode.stderr, /unknown mode "car"; expected one of walk, elderly, bike/);
  const json = cli('network', 'info', join(work, 'nope.lcg'), '--json');
  assert.equal(JSON.parse(json.stdout).error.key, 'FILE_NOT_FOUND');
});

test('accessibility on a user matrix: 2SFCA by hand (see test/analysis/accessibility.test.ts), cutoff inclusive or not', () => {
  const hand = new URL('../fixtures/accessibility/hand/', import.meta.url).pathname;
  const out = join(work, 'acc.csv');
  const r = cli('accessibility', '--matrix', join(hand, 'matrix.csv'), '--demand', join(hand, 'demand.csv'), '--supply', join(hand, 'supply.csv'), '--measure', '2sfca', '--cutoff', '15', '-o', out);
  assert.equal(r.code, 0, r.stderr);
  const access = readFileSync(out, 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',')[2]));
  // A = 9/140, 1/20, 1/70, 5/56 with t <= 15
  [9 / 140, 1 / 20, 1 / 70, 5 / 56].forEach((want, i) => assert.ok(Math.abs(access[i] - want) < 1e-15, `Z${i + 1}: ${access[i]}`));
  const ratios = readFileSync(join(work, 'acc.ratios.csv'), 'utf8');
  assert.match(ratios, /^destination,supply,ratio\nF1,20,0\.05\n/);
  const x = cli('accessibility', '--matrix', join(hand, 'matrix.csv'), '--demand', join(hand, 'demand.csv'), '--supply', join(hand, 'supply.csv'), '--cutoff', '15', '--exclusive', '-o', out);
  assert.equal(x.code, 0, x.stderr);
  assert.ok(Math.abs(Number(readFileSync(out, 'utf8').trim().split('\n')[1].split(',')[2]) - 1 / 12) < 1e-15, 'Z1 = 1/12 with t < 15');
  const bad = cli('accessibility', '--matrix', join(hand, 'matrix.csv'), '--demand', join(hand, 'demand.csv'), '--supply', join(hand, 'supply.csv'), '--measure', 'gravity', '-o', out);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--measure gravity needs --beta/);
});

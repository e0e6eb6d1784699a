/**
 * The synthetic Shanghai-like city generator (src/network/synthetic.ts), checked from the written file only:
 * a small line-based OSM XML reader here is the oracle, independent of the project's readers.
 *
 *   node --import tsx --test test/network/synthetic.test.ts
 *
 * Barriers are checked on the street graph (all highway ways except motorway/trunk): with the bridge=yes ways
 * removed, no connected piece of it has nodes on both banks of any river (banks told apart by the
 * waterway=river centre lines in the file), and with the street ways that pass under an expressway removed,
 * no piece has nodes on both sides of an expressway.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSyntheticCityOsm, type SyntheticCityOptions, type SyntheticCityStats } from '../../src/network/synthetic.ts';
import { LifecircleError } from '../../src/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'lifecircle-synthetic-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const made = new Map<string, Promise<{ path: string; stats: SyntheticCityStats }>>();
/** Generates each city once per run (several tests read the same file). */
function city(options: SyntheticCityOptions, tag = ''): Promise<{ path: string; stats: SyntheticCityStats }> {
  const key = `${JSON.stringify(options)}${tag}`;
  let p = made.get(key);
  if (!p) {
    const path = join(dir, `city-${made.size}.osm`);
    p = writeSyntheticCityOsm(path, options).then((stats) => ({ path, stats }));
    made.set(key, p);
  }
  return p;
}

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

// --- a minimal reader for the generator's line-per-element OSM XML ---------------------------------------

interface Way {
  id: number;
  refs: number[];
  tags: Record<string, string>;
}
interface Parsed {
  header: string[];
  bounds: { minlat: number; minlon: number; maxlat: number; maxlon: number };
  nodeIds: number[];
  lat: Map<number, number>;
  lon: Map<number, number>;
  ways: Way[];
  /** Line index of the first way, and of the last node. */
  firstWayLine: number;
  lastNodeLine: number;
  nodeLines: number;
  wayLines: number;
  badLines: string[];
}

const NODE_RE = /^ {2}<node id="(\d+)" lat="(-?\d+\.\d{7})" lon="(-?\d+\.\d{7})"\/>$/;
const WAY_RE = /^ {2}<way id="(\d+)">$/;
const ND_RE = /^ {4}<nd ref="(\d+)"\/>$/;
const TAG_RE = /^ {4}<tag k="([^"]+)" v="([^"]*)"\/>$/;
const BOUNDS_RE = /^ {2}<bounds minlat="(-?[\d.]+)" minlon="(-?[\d.]+)" maxlat="(-?[\d.]+)" maxlon="(-?[\d.]+)"\/>$/;

function parse(path: string): Parsed {
  const text = readFileSync(path, 'latin1');
  const lines = text.split('\n');
  const out: Parsed = {
    header: lines.slice(0, 2),
    bounds: { minlat: NaN, minlon: NaN, maxlat: NaN, maxlon: NaN },
    nodeIds: [],
    lat: new Map(),
    lon: new Map(),
    ways: [],
    firstWayLine: -1,
    lastNodeLine: -1,
    nodeLines: 0,
    wayLines: 0,
    badLines: [],
  };
  let way: Way | null = null;
  for (let i = 2; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith('  <node ')) {
      out.nodeLines++;
      out.lastNodeLine = i;
      const m = NODE_RE.exec(line);
      if (!m) {
        out.badLines.push(line);
        continue;
      }
      const id = Number(m[1]);
      out.nodeIds.push(id);
      out.lat.set(id, Number(m[2]));
      out.lon.set(id, Number(m[3]));
    } else if (line.startsWith('  <way ')) {
      out.wayLines++;
      if (out.firstWayLine < 0) out.firstWayLine = i;
      const m = WAY_RE.exec(line);
      if (!m) out.badLines.push(line);
      way = { id: m ? Number(m[1]) : NaN, refs: [], tags: {} };
    } else if (line.startsWith('    <nd ')) {
      const m = ND_RE.exec(line);
      if (!m || !way) out.badLines.push(line);
      else way.refs.push(Number(m[1]));
    } else if (line.startsWith('    <tag ')) {
      const m = TAG_RE.exec(line);
      if (!m || !way) out.badLines.push(line);
      else way.tags[m[1]] = m[2];
    } else if (line === '  </way>') {
      if (!way) out.badLines.push(line);
      else out.ways.push(way);
      way = null;
    } else if (line.startsWith('  <bounds ')) {
      const m = BOUNDS_RE.exec(line);
      if (!m) out.badLines.push(line);
      else out.bounds = { minlat: Number(m[1]), minlon: Number(m[2]), maxlat: Number(m[3]), maxlon: Number(m[4]) };
    } else if (line === '</osm>' || (line === '' && i === lines.length - 1)) {
      // end
    } else {
      out.badLines.push(line);
    }
  }
  return out;
}

// --- graph oracle --------------------------------------------------------------------------------------

const EXPRESSWAY = new Set(['motorway', 'trunk']);
const LINKS = new Set(['motorway_link', 'trunk_link']);

class UnionFind {
  private readonly parent = new Map<number, number>();
  find(a: number): number {
    let root = a;
    for (;;) {
      const p = this.parent.get(root);
      if (p === undefined) {
        this.parent.set(root, root);
        break;
      }
      if (p === root) break;
      root = p;
    }
    while (a !== root) {
      const next: number = this.parent.get(a)!;
      this.parent.set(a, root);
      a = next;
    }
    return root;
  }
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent.set(ra, rb);
  }
}

/** Union of the edges of the given ways; returns component root per node of those ways. */
function components(ways: Way[]): UnionFind {
  const uf = new UnionFind();
  for (const w of ways) for (let k = 1; k < w.refs.length; k++) uf.union(w.refs[k - 1], w.refs[k]);
  return uf;
}

/**
 * Which side of a polyline (a river centre line or an expressway carriageway) a point lies on. The polyline
 * is monotone in latitude (north–south) or longitude (east–west); the side is "east of it" or "north of it".
 */
function sideFunction(points: Array<[number, number]>): { northSouth: boolean; side: (lon: number, lat: number) => boolean; ok: (lon: number, lat: number) => boolean } {
  const lats = points.map((p) => p[1]);
  const lons = points.map((p) => p[0]);
  const increasing = (a: number[]): boolean => a.every((v, i) => i === 0 || v > a[i - 1]);
  const northSouth = increasing(lats);
  assert.ok(northSouth || increasing(lons), 'polyline is monotone in latitude or longitude');
  const along = northSouth ? lats : lons;
  const across = northSouth ? lons : lats;
  const at = (t: number): number => {
    let lo = 0;
    let hi = along.length - 1;
    if (t <= along[0]) return across[0];
    if (t >= along[hi]) return across[hi];
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (along[mid] <= t) lo = mid;
      else hi = mid;
    }
    const f = (t - along[lo]) / (along[hi] - along[lo]);
    return across[lo] + f * (across[hi] - across[lo]);
  };
  return {
    northSouth,
    side: (lon, lat) => (northSouth ? lon > at(lat) : lat > at(lon)),
    ok: (lon, lat) => {
      const t = northSouth ? lat : lon;
      return t >= along[0] && t <= along[along.length - 1];
    },
  };
}

/** For each component, whether it has nodes on the false side / true side; fails on a component with both. */
function assertNoComponentOnBothSides(uf: UnionFind, nodes: Iterable<number>, side: (id: number) => boolean, what: string): { falseSide: number; trueSide: number } {
  const seen = new Map<number, boolean>();
  let falseSide = 0;
  let trueSide = 0;
  for (const id of nodes) {
    const s = side(id);
    if (s) trueSide++;
    else falseSide++;
    const root = uf.find(id);
    const prev = seen.get(root);
    if (prev === undefined) seen.set(root, s);
    else assert.equal(s, prev, `${what}: node ${id} is connected to a node on the other side`);
  }
  return { falseSide, trueSide };
}

// --- tests ---------------------------------------------------------------------------------------------

test('same seed gives a byte-identical file; another seed a different one', async () => {
  const a = await city({ seed: 7, targetNodes: 20_000 }, 'a');
  const b = await city({ seed: 7, targetNodes: 20_000 }, 'b');
  const c = await city({ seed: 8, targetNodes: 20_000 });
  assert.notEqual(a.path, b.path);
  assert.equal(sha256(a.path), sha256(b.path));
  assert.deepEqual(a.stats, b.stats);
  assert.notEqual(sha256(a.path), sha256(c.path));
});

test('node count is within ±10% of the target', async () => {
  for (const targetNodes of [20_000, 200_000]) {
    const { path, stats } = await city({ seed: 1, targetNodes });
    const p = parse(path);
    assert.equal(p.nodeLines, stats.nodes);
    assert.equal(p.wayLines, stats.ways);
    assert.ok(Math.abs(stats.nodes / targetNodes - 1) <= 0.1, `${stats.nodes} nodes for a target of ${targetNodes}`);
    assert.equal(stats.bytes, statSync(path).size);
    // Shanghai-like density: 200,000 nodes make a city of roughly 14 × 12 km.
    const km2 = (stats.widthM * stats.heightM) / 1e6;
    assert.ok(stats.nodes / km2 > 700 && stats.nodes / km2 < 2000, `${(stats.nodes / km2).toFixed(0)} nodes/km²`);
  }
});

test('file structure: header, bounds, ascending ids, nodes before ways, every ref written', async () => {
  const { path, stats } = await city({ seed: 1, targetNodes: 20_000 });
  const p = parse(path);
  assert.deepEqual(p.badLines, []);
  assert.equal(p.header[0], '<?xml version="1.0" encoding="UTF-8"?>');
  assert.equal(p.header[1], '<osm version="0.6" generator="lifecircle synthetic">');
  assert.ok(p.lastNodeLine < p.firstWayLine, 'all nodes come before all ways');
  assert.deepEqual(p.nodeIds, Array.from({ length: p.nodeIds.length }, (_, i) => i + 1), 'node ids are 1..n');
  assert.deepEqual(p.ways.map((w) => w.id), Array.from({ length: p.ways.length }, (_, i) => i + 1), 'way ids are 1..m');
  assert.deepEqual([p.bounds.minlon, p.bounds.minlat, p.bounds.maxlon, p.bounds.maxlat], stats.bbox);
  assert.deepEqual(stats.bbox.slice(0, 2), [121.3, 31.05]);
  // Width and height agree with the bounds (local equirectangular metres).
  const mPerDegLat = (6_371_008.8 * Math.PI) / 180;
  assert.ok(Math.abs((stats.bbox[3] - stats.bbox[1]) * mPerDegLat - stats.heightM) < 0.1);
  assert.ok(Math.abs((stats.bbox[2] - stats.bbox[0]) * mPerDegLat * Math.cos((31.05 * Math.PI) / 180) - stats.widthM) < 0.1);

  const used = new Set<number>();
  for (const w of p.ways) {
    assert.ok(w.refs.length >= 2, `way ${w.id} has ${w.refs.length} nodes`);
    assert.ok(w.refs.length <= 2000, `way ${w.id} has ${w.refs.length} nodes`);
    assert.ok(w.tags.highway !== undefined || w.tags.waterway === 'river', `way ${w.id} is a highway or a river`);
    for (let k = 0; k < w.refs.length; k++) {
      const r = w.refs[k];
      assert.ok(p.lat.has(r), `way ${w.id} refers to node ${r}, which is not written`);
      if (k > 0) assert.notEqual(r, w.refs[k - 1], `way ${w.id} repeats node ${r}`);
      used.add(r);
    }
  }
  assert.equal(used.size, p.nodeIds.length, 'every node is used by a way');
  for (const id of p.nodeIds) {
    const lat = p.lat.get(id)!;
    const lon = p.lon.get(id)!;
    assert.ok(lat >= p.bounds.minlat && lat <= p.bounds.maxlat && lon >= p.bounds.minlon && lon <= p.bounds.maxlon,
      `node ${id} (${lat}, ${lon}) is inside the bounds`);
  }
});

test('Shanghai-like content: road classes, oneway pairs, footway crossings, steps, degree-2 chains, dead ends', async () => {
  const { path } = await city({ seed: 1, targetNodes: 20_000 });
  const p = parse(path);
  const highways = new Map<string, number>();
  for (const w of p.ways) if (w.tags.highway) highways.set(w.tags.highway, (highways.get(w.tags.highway) ?? 0) + 1);
  for (const h of ['primary', 'secondary', 'tertiary', 'residential', 'service', 'footway', 'steps', 'motorway', 'trunk']) {
    assert.ok((highways.get(h) ?? 0) > 0, `has highway=${h}`);
  }
  assert.ok(p.ways.some((w) => w.tags.footway === 'crossing'), 'has footway=crossing');
  assert.ok(p.ways.some((w) => w.tags.name?.startsWith('Synthetic Rd ')), 'arterials are named');
  // Oneway pairs: an arterial name with oneway ways running both ways.
  const onewayArterials = p.ways.filter((w) => (w.tags.highway === 'primary' || w.tags.highway === 'secondary') && w.tags.oneway === 'yes');
  assert.ok(onewayArterials.length > 0, 'has oneway arterial carriageways');
  for (const w of p.ways.filter((x) => EXPRESSWAY.has(x.tags.highway))) {
    assert.equal(w.tags.motorroad, 'yes');
    assert.equal(w.tags.foot, 'no');
    assert.equal(w.tags.oneway, 'yes');
  }
  // Degrees in the street graph: most nodes are shape nodes of degree 2; there are dead ends and junctions.
  const degree = new Map<number, number>();
  for (const w of p.ways) {
    if (!w.tags.highway || EXPRESSWAY.has(w.tags.highway)) continue;
    for (let k = 0; k < w.refs.length; k++) {
      const d = (k > 0 ? 1 : 0) + (k < w.refs.length - 1 ? 1 : 0);
      degree.set(w.refs[k], (degree.get(w.refs[k]) ?? 0) + d);
    }
  }
  const byDegree = [0, 0, 0, 0, 0, 0];
  for (const d of degree.values()) byDegree[Math.min(d, 5)]++;
  assert.ok(byDegree[2] > 0.5 * degree.size, `degree-2 nodes: ${byDegree[2]} of ${degree.size}`);
  assert.ok(byDegree[1] > 0.01 * degree.size, `dead ends: ${byDegree[1]}`);
  assert.ok(byDegree[3] + byDegree[4] > 0.05 * degree.size, `junctions: ${byDegree[3] + byDegree[4]}`);
});

test('rivers are barriers crossed only by the bridges', async () => {
  let riversSeen = 0;
  for (const seed of [1, 2, 3, 4]) {
    const { path, stats } = await city({ seed, targetNodes: seed === 1 ? 20_000 : 40_000 });
    const p = parse(path);
    const rivers = p.ways.filter((w) => w.tags.waterway === 'river');
    assert.ok(rivers.length >= 2 && rivers.length <= 3, `seed ${seed}: ${rivers.length} rivers`);
    riversSeen += rivers.length;
    const streets = p.ways.filter((w) => w.tags.highway !== undefined && !EXPRESSWAY.has(w.tags.highway));
    const bridges = streets.filter((w) => w.tags.bridge === 'yes');
    assert.equal(bridges.length, stats.riverCrossings, `seed ${seed}: bridge ways vs stats.riverCrossings`);
    for (const b of bridges) {
      assert.ok(b.tags.highway === 'primary' || b.tags.highway === 'secondary', `bridge ${b.id} is an arterial`);
      assert.equal(b.tags.layer, '1');
    }
    const streetNodes = new Set<number>();
    for (const w of streets) for (const r of w.refs) streetNodes.add(r);
    const withoutBridges = components(streets.filter((w) => w.tags.bridge !== 'yes'));
    const withBridges = components(streets);
    for (const river of rivers) {
      const f = sideFunction(river.refs.map((r) => [p.lon.get(r)!, p.lat.get(r)!]));
      const side = (id: number): boolean => f.side(p.lon.get(id)!, p.lat.get(id)!);
      const what = `seed ${seed}, ${river.tags.name}`;
      const { falseSide, trueSide } = assertNoComponentOnBothSides(withoutBridges, streetNodes, side, what);
      assert.ok(falseSide > 0 && trueSide > 0, `${what}: streets on both banks`);
      // The bridges over this river join its banks: their two ends are on opposite banks.
      const over = bridges.filter((b) => side(b.refs[0]) !== side(b.refs[b.refs.length - 1]));
      assert.ok(over.length >= 1, `${what}: has a bridge`);
      for (const b of over) {
        assert.equal(withBridges.find(b.refs[0]), withBridges.find(b.refs[b.refs.length - 1]));
      }
      // Bridges are sparse: at least ~1.4 km apart along the river on average.
      const lengthKm = (f.northSouth ? stats.heightM : stats.widthM) / 1000;
      const centres = new Set(over.map((b) => b.tags.name));
      assert.ok(centres.size <= lengthKm / 1.4 + 1, `${what}: ${centres.size} bridged roads over ${lengthKm.toFixed(1)} km`);
    }
    // Every bridge crosses exactly one river.
    for (const b of bridges) {
      const crossed = rivers.filter((river) => {
        const f = sideFunction(river.refs.map((r) => [p.lon.get(r)!, p.lat.get(r)!]));
        const [a, z] = [b.refs[0], b.refs[b.refs.length - 1]];
        return f.side(p.lon.get(a)!, p.lat.get(a)!) !== f.side(p.lon.get(z)!, p.lat.get(z)!);
      });
      assert.equal(crossed.length, 1, `seed ${seed}: bridge ${b.id} crosses ${crossed.length} rivers`);
    }
  }
  assert.ok(riversSeen > 8, 'some seeds have three rivers');
});

test('expressways: no shared nodes with streets, and crossed only at the few counted points', async () => {
  for (const seed of [1, 2]) {
    const { path, stats } = await city({ seed, targetNodes: seed === 1 ? 20_000 : 40_000 });
    const p = parse(path);
    const expressways = p.ways.filter((w) => EXPRESSWAY.has(w.tags.highway));
    const links = p.ways.filter((w) => LINKS.has(w.tags.highway));
    const streets = p.ways.filter((w) => w.tags.highway !== undefined && !EXPRESSWAY.has(w.tags.highway) && !LINKS.has(w.tags.highway));
    const streetNodes = new Set<number>();
    for (const w of streets) for (const r of w.refs) streetNodes.add(r);
    for (const w of expressways) for (const r of w.refs) assert.ok(!streetNodes.has(r), `expressway node ${r} is not a street node`);
    // Ramps join an expressway to a street and nothing else.
    for (const l of links) {
      assert.equal(l.refs.length, 2);
      assert.equal(l.tags.oneway, 'yes');
      assert.equal(l.tags.foot, 'no');
      assert.equal(l.refs.filter((r) => streetNodes.has(r)).length, 1, `link ${l.id} touches one street node`);
    }

    const names = [...new Set(expressways.map((w) => w.tags.name))];
    assert.equal(names.length, 2, `seed ${seed}: two expressways`);
    let crossings = 0;
    for (const name of names) {
      const ways = expressways.filter((w) => w.tags.name === name);
      // One carriageway: the ways running in increasing latitude (north–south road) or longitude (east–west).
      const all = ways.flatMap((w) => w.refs);
      const latSpan = Math.max(...all.map((r) => p.lat.get(r)!)) - Math.min(...all.map((r) => p.lat.get(r)!));
      const lonSpan = (Math.max(...all.map((r) => p.lon.get(r)!)) - Math.min(...all.map((r) => p.lon.get(r)!))) * Math.cos((31.05 * Math.PI) / 180);
      const northSouth = latSpan > lonSpan;
      const coord = (r: number): number => (northSouth ? p.lat.get(r)! : p.lon.get(r)!);
      const forward = ways.filter((w) => coord(w.refs[w.refs.length - 1]) > coord(w.refs[0]));
      assert.ok(forward.length > 0 && forward.length < ways.length, `${name}: two carriageways`);
      const pts = [...new Set(forward.flatMap((w) => w.refs))].sort((a, b) => coord(a) - coord(b));
      const f = sideFunction(pts.map((r) => [p.lon.get(r)!, p.lat.get(r)!]));
      assert.equal(f.northSouth, northSouth);
      const side = (id: number): boolean => f.side(p.lon.get(id)!, p.lat.get(id)!);
      // Street ways with an edge passing under the carriageway.
      const under = streets.filter((w) => w.refs.some((r, k) => k > 0 && side(r) !== side(w.refs[k - 1])));
      for (const w of under) {
        assert.ok(w.tags.highway === 'primary' || w.tags.highway === 'secondary', `${name}: way ${w.id} passing under is an arterial`);
        assert.equal(w.refs.filter((r, k) => k > 0 && side(r) !== side(w.refs[k - 1])).length, 1);
      }
      crossings += under.length;
      const lengthKm = (northSouth ? stats.heightM : stats.widthM) / 1000;
      const roads = new Set(under.map((w) => w.tags.name));
      assert.ok(roads.size >= 1 && roads.size <= lengthKm / 0.9 + 1, `${name}: ${roads.size} roads pass under in ${lengthKm.toFixed(1)} km`);
      // Without those ways, the expressway splits the street graph.
      const uf = components(streets.filter((w) => !under.includes(w)));
      const nodes = [...streetNodes].filter((id) => f.ok(p.lon.get(id)!, p.lat.get(id)!));
      const { falseSide, trueSide } = assertNoComponentOnBothSides(uf, nodes, side, `seed ${seed}, ${name}`);
      assert.ok(falseSide > 0 && trueSide > 0);
    }
    assert.equal(crossings, stats.expresswayCrossings, `seed ${seed}: street ways under expressways vs stats`);
  }
});

test('options are validated', async () => {
  await assert.rejects(writeSyntheticCityOsm(join(dir, 'x.osm'), { seed: 1, targetNodes: 10 }), (e: unknown) =>
    e instanceof LifecircleError && e.key === 'ARGUMENT_INVALID' && e.field === 'targetNodes');
  await assert.rejects(writeSyntheticCityOsm(join(dir, 'x.osm'), { seed: Number.NaN, targetNodes: 20_000 }), (e: unknown) =>
    e instanceof LifecircleError && e.key === 'ARGUMENT_INVALID' && e.field === 'seed');
  await assert.rejects(writeSyntheticCityOsm(join(dir, 'no-such-dir', 'x.osm'), { seed: 1, targetNodes: 5_000 }), /ENOENT/);
});

test('origin option moves the city', async () => {
  const { path, stats } = await city({ seed: 3, targetNodes: 5_000, originLon: -0.01, originLat: 51.45 });
  const p = parse(path);
  assert.deepEqual(stats.bbox.slice(0, 2), [-0.01, 51.45]);
  assert.ok(p.nodeIds.some((id) => p.lon.get(id)! < 0) && p.nodeIds.some((id) => p.lon.get(id)! > 0), 'straddles the prime meridian');
  assert.deepEqual(p.badLines, []);
});

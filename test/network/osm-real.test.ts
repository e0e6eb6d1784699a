/**
 * The OSM → network import on real extracts, checked against facts established independently with
 * osmium-tool (/usr/bin/osmium: `osmium cat -f opl` decoded here, `osmium check-refs`), never against
 * numbers read back from lifecircle.
 *
 *   node --import tsx --test test/network/osm-real.test.ts
 *
 * Data: ../shared/data (or $LIFECIRCLE_DATA): osm-fixtures-real/helsinki_centre_2019-04.osm.pbf (a bbox clip,
 * 4,525 missing way-node refs), osm-fixtures-real/liechtenstein_2013-08-03.osm.pbf (complete), and
 * osm-shanghai-center/shanghai_center.osm (car roads of central Shanghai, both banks of the Huangpu).
 * Tests needing osmium are skipped with the reason when it is absent, except with CI=true, where they fail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ReachEngine } from '../../src/analysis/dijkstra.ts';
import { arrivalTimeS, reachFrom } from '../../src/analysis/reach.ts';
import { isSnap, snapPoint, type Graph, type ModeName } from '../../src/network/index.ts';
import { sharedDataDir } from '../../src/util/data-dir.ts';
import { buildFromOsm, type Built } from '../helpers/graph.ts';
import { HAVE_OSMIUM, NO_OSMIUM, osmiumMissingWayNodes, readOpl, type OplData, type OplWay } from '../helpers/opl.ts';

const DATA = sharedDataDir();
const HELSINKI = path.join(DATA, 'osm-fixtures-real', 'helsinki_centre_2019-04.osm.pbf');
const LIECHTENSTEIN = path.join(DATA, 'osm-fixtures-real', 'liechtenstein_2013-08-03.osm.pbf');
const SHANGHAI = path.join(DATA, 'osm-shanghai-center', 'shanghai_center.osm');
const CI = process.env.CI === 'true';
const skip = !HAVE_OSMIUM && !CI ? NO_OSMIUM : false;
const MODES: ModeName[] = ['walk', 'elderly', 'bike'];

// Built once per file: with minComponentNodes 1 (every component kept, so "usable" below is about tag rules
// only) and with the default 50 (islands dropped and reported).
const cache = new Map<string, Promise<Built>>();
const built = (file: string, minComponentNodes: number) => {
  const key = `${file}#${minComponentNodes}`;
  if (!cache.has(key)) cache.set(key, buildFromOsm(file, MODES, minComponentNodes));
  return cache.get(key)!;
};
const oplCache = new Map<string, OplData>();
const opl = (file: string) => {
  if (!oplCache.has(file)) oplCache.set(file, readOpl(file));
  return oplCache.get(file)!;
};

const DENY = new Set(['no', 'private']);
/** Ways whose foot access is denied outright by their own tags (foot=no, or access=no/private without a foot permission). */
const footDenied = (t: Record<string, string>) => t.foot === 'no' || (DENY.has(t.access ?? '') && (t.foot === undefined || DENY.has(t.foot)));

/** A node a walker may not pass: a barrier with access=no/private and no foot permission (osmium's node tags). */
const lockedForFoot = (t: Record<string, string> | undefined) =>
  t !== undefined && t.barrier !== undefined && t.barrier !== 'no' && (DENY.has(t.foot ?? '') || (t.foot === undefined && DENY.has(t.access ?? '')));

/**
 * The walk direction bits a chain must have when its way is walkable both ways: both, minus the direction
 * leaving a locked gate at either end ("nothing leaves a blocked node").
 */
/**
 * Arcs the walk CSR must hold for chain c: bit 0 from→to, bit 1 to→from, except out of a node locked for
 * pedestrians (a locked gate can be walked up to, not through). chainUsable itself stays 3.
 */
function expectedWalkArcs(graph: Graph, data: OplData, c: number): number {
  const from = lockedForFoot(data.nodeTags.get(graph.nodeOsmId[graph.chainFrom[c]]));
  const to = lockedForFoot(data.nodeTags.get(graph.nodeOsmId[graph.chainTo[c]]));
  return (from ? 0 : 1) | (to ? 0 : 2);
}

function walkArcsOf(graph: Graph, c: number): number {
  const walk = graph.mode('walk');
  let bits = 0;
  for (const [node, code, bit] of [[graph.chainFrom[c], c * 2, 1], [graph.chainTo[c], c * 2 + 1, 2]] as const) {
    for (let a = walk.arcOffsets[node]; a < walk.arcOffsets[node + 1]; a++) if (walk.arcChain[a] === code) bits |= bit;
  }
  return bits;
}

/** Chains grouped by the OSM way they came from (chainWayId). */
function chainsByWay(graph: Graph): Map<number, number[]> {
  const m = new Map<number, number[]>();
  for (let c = 0; c < graph.chainCount; c++) {
    const w = graph.chainWayId[c];
    let list = m.get(w);
    if (!list) m.set(w, (list = []));
    list.push(c);
  }
  return m;
}

function waysWhere(data: OplData, pred: (w: OplWay) => boolean): OplWay[] {
  return data.ways.filter(pred);
}

// ---------------------------------------------------------------------------------------------------------
// Helsinki: missing references
// ---------------------------------------------------------------------------------------------------------

test('helsinki: osmium sees 4,525 missing way-node refs; the OPL decoding here agrees', { skip }, () => {
  assert.equal(osmiumMissingWayNodes(HELSINKI), 4525);
  const data = opl(HELSINKI);
  let missing = 0;
  for (const w of data.ways) for (const r of w.refs) if (!data.nodeIds.has(r)) missing++;
  assert.equal(missing, 4525);
  assert.equal(data.ways.length, 5130);
  assert.equal(data.nodeIds.size, 24260);
});

test('helsinki: missing-node warnings = osmium\'s missing refs on the routable highway ways', { skip }, async () => {
  const data = opl(HELSINKI);
  const { warnings, result } = await built(HELSINKI, 1);
  const missingOn = (ways: OplWay[]) => ways.reduce((n, w) => n + w.refs.filter((r) => !data.nodeIds.has(r)).length, 0);
  const highway = waysWhere(data, (w) => w.tags.highway !== undefined);
  // From osmium: 912 refs are missing on highway ways. 34 of them are on ways no mode may use at all and
  // that the importer therefore never resolves: highway=platform (19), highway=trail (2, not a routable
  // value) and access=private service roads without a foot/bicycle permission (13).
  assert.equal(missingOn(highway), 912);
  const platform = missingOn(highway.filter((w) => w.tags.highway === 'platform'));
  const trail = missingOn(highway.filter((w) => w.tags.highway === 'trail'));
  const privateService = missingOn(
    highway.filter((w) => w.tags.highway === 'service' && w.tags.access === 'private' && w.tags.foot === undefined && w.tags.bicycle === undefined),
  );
  assert.deepEqual([platform, trail, privateService], [19, 2, 13]);
  const expected = 912 - platform - trail - privateService;
  assert.equal(warnings.countsByKind()['missing-node'], expected);
  assert.equal(result.missingNodeRefs, expected);
  assert.ok(result.raw.notes.some((n) => n.startsWith(`${expected} way node references were missing`)), result.raw.notes.join(' | '));
  // each kept warning names the file, the way and the node, and osmium agrees the node is missing from that way
  const byId = new Map(data.ways.map((w) => [w.id, w]));
  const kept = warnings.list().filter((w) => w.kind === 'missing-node');
  assert.equal(kept.length, Math.min(expected, warnings.capPerKind));
  for (const w of kept) {
    const m = /way (\d+) references node (\d+)/.exec(w.message);
    assert.ok(m, w.message);
    assert.ok(w.message.includes(HELSINKI));
    const way = byId.get(Number(m[1]))!;
    assert.ok(way.refs.includes(Number(m[2])) && !data.nodeIds.has(Number(m[2])), w.message);
    assert.equal(w.record, `way ${m[1]}`);
  }
});

// ---------------------------------------------------------------------------------------------------------
// tag rules on real tagging (Helsinki and Liechtenstein)
// ---------------------------------------------------------------------------------------------------------

for (const [name, file] of [
  ['helsinki', HELSINKI],
  ['liechtenstein', LIECHTENSTEIN],
] as const) {
  test(`${name}: every chain of a highway=steps way is walkable (both ways, half speed) and not usable by elderly`, { skip }, async () => {
    const data = opl(file);
    const { graph } = await built(file, 1);
    const steps = waysWhere(data, (w) => w.tags.highway === 'steps');
    assert.ok(steps.length > 30, `${steps.length} steps ways`);
    assert.equal(steps.filter((w) => Object.keys(w.tags).some((k) => k.startsWith('ramp'))).length, 0, 'no steps with a ramp tag in this file');
    const byWay = chainsByWay(graph);
    const walk = graph.mode('walk');
    const elderly = graph.mode('elderly');
    let checked = 0;
    for (const w of steps) {
      for (const c of byWay.get(w.id) ?? []) {
        if (footDenied(w.tags)) {
          assert.equal(walk.chainUsable[c], 0, `way ${w.id} (steps, ${JSON.stringify(w.tags)}) must not be walkable`);
        } else {
          assert.equal(walk.chainUsable[c], 3, `way ${w.id} (steps): chain ${c} walkable both ways`);
          assert.equal(walkArcsOf(graph, c), expectedWalkArcs(graph, data, c), `way ${w.id} (steps): chain ${c} has arcs both ways, but none out of a locked gate`);
          assert.ok(Math.abs(walk.chainSecPerMFwd[c] - 1 / 0.625) < 1e-6, `way ${w.id}: steps at half walking speed (${walk.chainSecPerMFwd[c]} s/m)`);
          checked++;
        }
        assert.equal(elderly.chainUsable[c], 0, `way ${w.id} (steps): chain ${c} must not be usable by elderly`);
      }
    }
    assert.ok(checked > 20, `${checked} steps chains checked`);
    // conversely, every chain walked at the steps pace is on a steps way
    const stepsIds = new Set(steps.map((w) => w.id));
    for (let c = 0; c < graph.chainCount; c++) {
      if (Math.abs(walk.chainSecPerMFwd[c] - 1.6) < 1e-6) assert.ok(stepsIds.has(graph.chainWayId[c]), `chain ${c} (way ${graph.chainWayId[c]}) has the steps pace`);
    }
  });

  test(`${name}: footway=crossing ways are walkable`, { skip }, async () => {
    const data = opl(file);
    const { graph } = await built(file, 1);
    // Helsinki way 23788268 is highway=cycleway + footway=crossing + segregated=yes with no foot=* tag: a
    // crossing with a footway part (segregated=* only applies to ways shared with pedestrians); regression
    // for profiles.ts once walking cycleways only with foot=yes/... or a sidewalk.
    const crossings = waysWhere(data, (w) => w.tags.footway === 'crossing' && !footDenied(w.tags));
    const byWay = chainsByWay(graph);
    const walk = graph.mode('walk');
    const notWalkable: string[] = [];
    let checked = 0;
    for (const w of crossings) {
      for (const c of byWay.get(w.id) ?? []) {
        checked++;
        if (walk.chainUsable[c] !== 3 || walkArcsOf(graph, c) !== expectedWalkArcs(graph, data, c)) notWalkable.push(`way ${w.id} (highway=${w.tags.highway}${w.tags.segregated ? `, segregated=${w.tags.segregated}` : ''})`);
      }
      // a crossing way with all its nodes in the file must have produced a chain (or lie inside one)
    }
    if (name === 'helsinki') assert.ok(checked > 100, `${checked} crossing chains checked`);
    assert.deepEqual(notWalkable, [], `footway=crossing chains not walkable both ways: ${notWalkable.length}`);
  });
}

test('helsinki: no chain of a foot=no way is walkable (and there are such chains: cycleways kept for bikes)', { skip }, async () => {
  const data = opl(HELSINKI);
  const { graph } = await built(HELSINKI, 1);
  const byWay = chainsByWay(graph);
  const footNo = waysWhere(data, (w) => w.tags.highway !== undefined && w.tags.foot === 'no');
  assert.equal(footNo.length, 35);
  let chains = 0;
  for (const w of footNo) {
    for (const c of byWay.get(w.id) ?? []) {
      chains++;
      assert.equal(graph.mode('walk').chainUsable[c], 0, `way ${w.id} foot=no`);
      assert.equal(graph.mode('elderly').chainUsable[c], 0, `way ${w.id} foot=no`);
    }
  }
  assert.ok(chains > 10, `${chains} foot=no chains`);
  // no motorway in this extract (osmium): nothing to drop, but also no chain claims such a way
  assert.equal(waysWhere(data, (w) => /^motorway/.test(w.tags.highway ?? '')).length, 0);
});

test('helsinki: islands are reported (walk): counts match an independent union-find over walkable chains', { skip }, async () => {
  const { graph } = await built(HELSINKI, 50);
  const walk = graph.mode('walk');
  const info = graph.info.modes.find((m) => m.mode === 'walk')!;
  // union-find over chains the walk tag rules allow (pace finite either way), before island removal;
  // walking has no one-way chains in this extract (no oneway:foot), so strong = plain connectivity. Nodes
  // locked for pedestrians (per the OPL tags) join nothing: what lies behind a locked gate is its own part.
  const data = opl(HELSINKI);
  const locked = (n: number) => lockedForFoot(data.nodeTags.get(graph.nodeOsmId[n]));
  const parent = Int32Array.from({ length: graph.nodeCount }, (_, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) x = parent[x] = parent[parent[x]];
    return x;
  };
  const active = new Uint8Array(graph.nodeCount);
  for (let c = 0; c < graph.chainCount; c++) {
    if (!Number.isFinite(walk.chainSecPerMFwd[c]) && !Number.isFinite(walk.chainSecPerMBack[c])) continue;
    assert.ok(Number.isFinite(walk.chainSecPerMFwd[c]) && Number.isFinite(walk.chainSecPerMBack[c]), 'no one-way walking');
    const [a, b] = [graph.chainFrom[c], graph.chainTo[c]];
    if (!locked(a)) active[a] = 1;
    if (!locked(b)) active[b] = 1;
    if (!locked(a) && !locked(b)) parent[find(a)] = find(b);
  }
  const size = new Map<number, number>();
  for (let n = 0; n < graph.nodeCount; n++) if (active[n]) size.set(find(n), (size.get(find(n)) ?? 0) + 1);
  const sizes = [...size.values()].sort((a, b) => b - a);
  const small = sizes.filter((s, i) => i > 0 && s < 50);
  assert.ok(small.length > 0, 'this bbox clip has islands');
  assert.equal(info.components, sizes.length);
  assert.equal(info.islandCount, small.length);
  assert.equal(info.islandNodes, small.reduce((a, b) => a + b, 0));
  assert.deepEqual(info.islands.map((i) => i.nodes), small.slice(0, 100));
  assert.deepEqual(info.kept.map((k) => k.nodes), sizes.filter((s, i) => i === 0 || s >= 50));
  assert.equal(info.nodes, sizes.filter((s, i) => i === 0 || s >= 50).reduce((a, b) => a + b, 0));
  // island nodes are out of the walk network: nodeComponent -1, no arcs
  for (let n = 0; n < graph.nodeCount; n++) {
    if (!active[n] || size.get(find(n))! >= 50 || size.get(find(n)) === sizes[0]) continue;
    assert.equal(walk.nodeComponent[n], -1);
    assert.equal(walk.arcOffsets[n + 1] - walk.arcOffsets[n], 0);
  }
  // each reported island names a way of the file and a point inside the extract
  const [minLon, minLat, maxLon, maxLat] = graph.info.bbox;
  for (const i of info.islands) {
    assert.ok(graph.chainWayId.includes(i.wayId));
    assert.ok(i.lon >= minLon && i.lon <= maxLon && i.lat >= minLat && i.lat <= maxLat);
  }
});

test('liechtenstein: a complete file: 0 missing refs (osmium check-refs), no missing-node warnings, no note', { skip }, async () => {
  assert.equal(osmiumMissingWayNodes(LIECHTENSTEIN), 0);
  const { warnings, result, graph } = await built(LIECHTENSTEIN, 50);
  assert.equal(result.missingNodeRefs, 0);
  assert.equal(warnings.countsByKind()['missing-node'], undefined);
  assert.equal(result.raw.notes.filter((n) => /missing/.test(n)).length, 0);
  assert.equal(result.read.nodes, 65733);
  assert.equal(result.read.ways, 7121);
  for (const m of graph.info.modes) assert.ok(m.nodes > 3000, `${m.mode}: ${m.nodes} nodes kept`);
});

// ---------------------------------------------------------------------------------------------------------
// Shanghai: the Huangpu is not walkable
// ---------------------------------------------------------------------------------------------------------

// The Bund: Zhongshan East 1st Road (中山东一路) runs at lon ≈ 121.4856 at lat 31.24 (osmium OPL). NB the point
// (121.4900, 31.2400) is NOT on the Bund: it lies 110 m from Binjiang Avenue (滨江大道) on the Pudong bank.
const BUND: [number, number] = [121.486, 31.24];
const LUJIAZUI: [number, number] = [121.505, 31.24];
const PEOPLES_SQUARE: [number, number] = [121.4737, 31.2335];

test('shanghai: the walk graph has two large kept components (Puxi, Pudong); Bund cannot reach Lujiazui on foot', { skip }, async () => {
  const data = opl(SHANGHAI);
  const { graph, result } = await built(SHANGHAI, 50);
  const walk = graph.mode('walk');
  const info = graph.info.modes.find((m) => m.mode === 'walk')!;
  const large = info.kept.filter((k) => k.nodes >= 500);
  assert.equal(large.length, 2, `kept: ${info.kept.map((k) => k.nodes).join(', ')}`);
  // Puxi (west of the river) is the larger; Pudong's representative point lies east of the Bund
  assert.ok(large[0].lon < 121.49 && large[1].lon > 121.49, `${large[0].lon}, ${large[1].lon}`);

  const snapAt = ([lon, lat]: [number, number]) => {
    const s = snapPoint(graph, walk, lon, lat);
    assert.ok(isSnap(s), `${lon},${lat}: ${JSON.stringify(s)}`);
    return s;
  };
  const names = new Map(data.ways.map((w) => [w.id, w.tags.name]));
  const bund = snapAt(BUND);
  assert.equal(names.get(graph.chainWayId[bund.chain]), '中山东一路', 'snapped onto Zhongshan East 1st Road');
  assert.ok(bund.legM < 50);
  const lujiazui = snapAt(LUJIAZUI);
  const compOf = (s: { chain: number }) => walk.nodeComponent[graph.chainFrom[s.chain]];
  assert.notEqual(compOf(bund), compOf(lujiazui));
  // the literal (121.4900, 31.2400) is on the Pudong side: same component as Lujiazui
  assert.equal(compOf(snapAt([121.49, 31.24])), compOf(lujiazui));
  assert.equal(names.get(graph.chainWayId[snapAt([121.49, 31.24]).chain]), '滨江大道');

  const engine = new ReachEngine(walk);
  reachFrom(graph, engine, bund, Infinity);
  assert.equal(arrivalTimeS(graph, walk, engine, lujiazui.chain, lujiazui.offsetM, lujiazui.legM), Infinity, 'Lujiazui unreachable on foot');
  const ps = snapAt(PEOPLES_SQUARE);
  const tPs = arrivalTimeS(graph, walk, engine, ps.chain, ps.offsetM, ps.legM);
  // People's Square is ~1.4 km west as the crow flies: between 1.4 km and 3 km of streets at 1.25 m/s
  assert.ok(tPs > 1400 / 1.25 && tPs < 3000 / 1.25, `Bund → People's Square ${tPs} s`);
  // the network notes say streets stand in for sidewalks (osmium: no footway/path/pedestrian/service way)
  assert.equal(waysWhere(data, (w) => ['footway', 'path', 'pedestrian', 'steps', 'service', 'living_street'].includes(w.tags.highway)).length, 0);
  assert.ok(result.raw.notes.some((n) => n.includes('streets stand in for sidewalks')), result.raw.notes.join(' | '));
});

test('shanghai: no chain of a foot=no way (river tunnels, elevated roads) is walkable; motorroad ways are dropped', { skip }, async () => {
  const data = opl(SHANGHAI);
  const { graph } = await built(SHANGHAI, 1);
  const byWay = chainsByWay(graph);
  const footNo = waysWhere(data, (w) => w.tags.foot === 'no');
  assert.equal(footNo.length, 151);
  // the Huangpu tunnels are among them (osmium: tunnel=yes + foot=no)
  const tunnels = footNo.filter((w) => w.tags.tunnel === 'yes' && /隧道/.test(w.tags.name ?? ''));
  assert.ok(tunnels.length >= 8, `${tunnels.length} foot=no tunnels`);
  let chains = 0;
  for (const w of footNo) {
    for (const c of byWay.get(w.id) ?? []) {
      chains++;
      assert.equal(graph.mode('walk').chainUsable[c], 0, `way ${w.id} (${w.tags.name}) foot=no`);
    }
  }
  assert.ok(chains > 10, `${chains} foot=no chains`);
  const motorroad = waysWhere(data, (w) => w.tags.motorroad === 'yes');
  assert.equal(motorroad.length, 7);
  for (const w of motorroad) assert.equal(byWay.has(w.id), false, `motorroad way ${w.id} must not be in the network`);
});

/**
 * `npm run bench`: the network engine's figures on the shared central-Shanghai extract and on a synthetic
 * Shanghai-scale network (3.6 M OSM nodes → 1.03 M graph nodes by default), with the targets and the peers (networkx,
 * pgRouting) timed in the same run on the same graph and origins.
 *
 *   npm run bench                       # everything
 *   npm run bench -- --quick            # the real extract only
 *   npm run bench -- --synthetic-nodes 1200000 --peer-origins 1000
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readOsmFile } from '../src/import/osm.ts';
import { loadGraph, writeArcsCsv, type Graph } from '../src/network/index.ts';
import { ReachEngine, nearestFacilityField, reversedMode } from '../src/analysis/index.ts';
import { writeSyntheticCityOsm } from '../src/network/synthetic.ts';
import { sharedDataDir } from '../src/util/data-dir.ts';
import { pgroutingAvailable, pgroutingReach } from './peers/pgrouting.ts';
import { consume, fmtMs, fmtRate, machineLine, mb, mulberry32, row, section, time, timeAsync } from './lib.ts';

const args = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    // 3.6 M OSM nodes (shape points included) collapse to a graph of just over 1 M junction nodes
    'synthetic-nodes': { type: 'string', default: '3600000' },
    'peer-origins': { type: 'string', default: '500' },
    seed: { type: 'string', default: '42' },
  },
}).values;
const SEED = Number(args.seed);
const PEER_ORIGINS = Number(args['peer-origins']);
const BUDGET_S = 900;
const work = join(tmpdir(), 'lifecircle-bench');
mkdirSync(work, { recursive: true });
const PYTHON = '/usr/bin/python3';
const NX_SCRIPT = new URL('./peers/networkx_reach.py', import.meta.url).pathname;

process.stdout.write(`lifecircle network benchmark\nmachine: ${machineLine()}\nwork dir: ${work} (generated files are cached here)\n`);

async function parseRate(path: string): Promise<{ nodesPerS: number; mbPerS: number; t: string }> {
  let nodes = 0;
  let bytes = 0;
  const timing = await timeAsync(async () => {
    nodes = 0;
    const s = await readOsmFile(path, { node: () => void nodes++, way: () => {} });
    bytes = s.bytes;
  }, 3, 1);
  return { nodesPerS: nodes / (timing.minMs / 1000), mbPerS: bytes / 1048576 / (timing.minMs / 1000), t: fmtMs(timing) };
}

function toPbf(xml: string): string | null {
  const pbf = xml.replace(/\.osm$/, '') + '.osm.pbf';
  if (existsSync(pbf) && statSync(pbf).mtimeMs >= statSync(xml).mtimeMs) return pbf;
  const r = spawnSync('osmium', ['cat', '--overwrite', xml, '-o', pbf], { encoding: 'utf8' });
  return r.status === 0 ? pbf : null;
}

function buildInChild(input: string, output: string) {
  const out = execFileSync(process.execPath, ['--import', 'tsx', new URL('./build-child.ts', import.meta.url).pathname, input, output, 'walk,elderly,bike'], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  return JSON.parse(out) as {
    osmNodes: number;
    osmWays: number;
    graphNodes: number;
    chains: number;
    arcs: Record<string, number>;
    readSeconds: number;
    buildSeconds: number;
    saveSeconds: number;
    graphBytes: number;
    peakRssBytes: number;
  };
}

function seededOrigins(graph: Graph, count: number, seed: number): number[] {
  const rand = mulberry32(seed);
  const comp = graph.mode('walk').nodeComponent;
  const out: number[] = [];
  while (out.length < count) {
    const n = Math.floor(rand() * graph.nodeCount);
    if (comp[n] >= 0) out.push(n);
  }
  return out;
}

function queryRate(graph: Graph, origins: number[]): { qps: number; meanReached: number; t: string } {
  const engine = new ReachEngine(graph.mode('walk'));
  const one = [0];
  const zero = [0];
  let reached = 0;
  const timing = time(() => {
    reached = 0;
    for (const o of origins) {
      one[0] = o;
      reached += engine.run(one, zero, BUDGET_S);
    }
    consume(reached);
  }, 3, 1);
  return { qps: origins.length / (timing.minMs / 1000), meanReached: reached / origins.length, t: fmtMs(timing) };
}

async function peers(label: string, graph: Graph, origins: number[], opts: { pgVariant: 'per-origin' | 'multi-start'; pgOrigins: number }): Promise<void> {
  const edges = join(work, `${label}-walk-arcs.csv`);
  await writeArcsCsv(graph, 'walk', edges);
  const originsFile = join(work, `${label}-origins.json`);
  writeFileSync(originsFile, JSON.stringify(origins));
  const ourQps = queryRate(graph, origins).qps;
  row(`lifecircle, same ${origins.length} origins`, `${fmtRate(ourQps)} queries`);
  if (existsSync(PYTHON)) {
    const r = spawnSync(PYTHON, [NX_SCRIPT, '--edges', edges, '--origins', originsFile, '--budget', String(BUDGET_S), '--mode', 'bench'], { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (r.status === 0) {
      const nx = JSON.parse(r.stdout) as { queriesPerSecond: number; version: string; loadSeconds: number };
      row(`networkx ${nx.version} single_source_dijkstra`, `${fmtRate(nx.queriesPerSecond)} queries (load ${nx.loadSeconds.toFixed(1)} s)`);
      row('  ratio lifecircle / networkx', `${(ourQps / nx.queriesPerSecond).toFixed(0)} ×`);
    } else row('networkx', `failed: ${r.stderr.split('\n').slice(-3).join(' ')}`);
  } else row('networkx', `not run: ${PYTHON} missing (bash scripts/setup-system.sh)`);
  const avail = await pgroutingAvailable();
  if (avail.ok) {
    const pgOrigins = origins.slice(0, opts.pgOrigins);
    const pg = await pgroutingReach(edges, pgOrigins, BUDGET_S, { mode: 'bench', variant: opts.pgVariant });
    const ourSame = queryRate(graph, pgOrigins).qps;
    row(`pgRouting ${pg.version} pgr_drivingDistance (${opts.pgVariant}, ${pgOrigins.length} origins)`, `${fmtRate(pg.queriesPerSecond)} queries (load ${pg.loadSeconds.toFixed(1)} s)`);
    row('  ratio lifecircle / pgRouting', `${(ourSame / pg.queriesPerSecond).toFixed(0)} ×`);
  } else row('pgRouting', `not run: ${avail.why}`);
}

async function networkSection(label: string, osmXml: string, facilities: { lon: number[]; lat: number[] } | null, targets: boolean): Promise<void> {
  section(label);
  const xmlRate = await parseRate(osmXml);
  row('parse OSM XML', `${fmtRate(xmlRate.nodesPerS)} nodes, ${xmlRate.mbPerS.toFixed(1)} MB/s`);
  const pbf = toPbf(osmXml);
  let buildInput = osmXml;
  if (pbf) {
    const pbfRate = await parseRate(pbf);
    row('parse OSM PBF (same data, osmium cat)', `${fmtRate(pbfRate.nodesPerS)} nodes, ${pbfRate.mbPerS.toFixed(1)} MB/s`);
    buildInput = pbf;
  } else row('parse OSM PBF', 'not run: osmium not installed (bash scripts/setup-system.sh)');
  const graphPath = join(work, `${label.replace(/\W+/g, '-')}.lcg`);
  const b = buildInChild(buildInput, graphPath);
  const buildS = b.readSeconds + b.buildSeconds;
  row(`build from ${pbf ? 'PBF' : 'XML'}: read + topology + CSR`, `${buildS.toFixed(2)} s (read ${b.readSeconds.toFixed(2)}, build ${b.buildSeconds.toFixed(2)})`, targets ? { text: '≤ 20 s', ok: buildS <= 20 } : undefined);
  row('  peak RSS of the build process', mb(b.peakRssBytes), targets ? { text: '≤ 1.5 GB', ok: b.peakRssBytes <= 1.5 * 2 ** 30 } : undefined);
  row('  OSM nodes → graph nodes / chains', `${b.osmNodes.toLocaleString('en')} → ${b.graphNodes.toLocaleString('en')} / ${b.chains.toLocaleString('en')}`);
  row('  arcs per mode', Object.entries(b.arcs).map(([m, n]) => `${m} ${n.toLocaleString('en')}`).join(', '));
  row('graph file size', mb(b.graphBytes));
  let graph!: Graph;
  const loadWalk = time(() => loadGraph(graphPath).mode('walk'), 10, 1);
  row('graph load, shared part + walk (what a walk query reads)', fmtMs(loadWalk), { text: '≤ 200 ms', ok: loadWalk.minMs <= 200 });
  const loadAll = time(() => (graph = loadGraph(graphPath)).allModes(), 10, 1);
  row('graph load, all three modes', fmtMs(loadAll), { text: '≤ 200 ms', ok: loadAll.minMs <= 200 });

  const origins = seededOrigins(graph, 10_000, SEED);
  const q = queryRate(graph, origins);
  row('15-min walk reach, 10,000 seeded origins, 1 core', `${fmtRate(q.qps)} queries (${q.meanReached.toFixed(0)} nodes each)`, { text: '≥ 5,000/s', ok: q.qps >= 5000 });

  const walk = graph.mode('walk');
  let fac = facilities;
  if (!fac) {
    const rand = mulberry32(SEED + 1);
    const [minLon, minLat, maxLon, maxLat] = graph.info.bbox;
    fac = { lon: [], lat: [] };
    for (let i = 0; i < 3000; i++) {
      fac.lon.push(minLon + rand() * (maxLon - minLon));
      fac.lat.push(minLat + rand() * (maxLat - minLat));
    }
  }
  // times to the nearest facility: a search on the reversed graph (built once, outside the timing)
  const engine = new ReachEngine(reversedMode(walk));
  let reached = 0;
  const field = time(() => (reached = nearestFacilityField(graph, walk, fac!.lon, fac!.lat, Infinity, { engine }).reachedNodes), 3, 1);
  row(`nearest-facility field, ${fac.lon.length} facilities, all nodes`, `${fmtMs(field)}; ${reached.toLocaleString('en')} nodes`, { text: '≤ 1 s at 1 M nodes', ok: field.minMs <= 1000 });

  await peers(label.replace(/\W+/g, '-'), graph, origins.slice(0, PEER_ORIGINS), label.startsWith('synthetic') ? { pgVariant: 'multi-start', pgOrigins: 100 } : { pgVariant: 'per-origin', pgOrigins: PEER_ORIGINS });
}

// --- the shared real extract ----------------------------------------------------------------------------
const data = sharedDataDir();
const shanghai = join(data, 'osm-shanghai-center', 'shanghai_center.osm');
const stops = { lon: [] as number[], lat: [] as number[] };
await readOsmFile(shanghai, {
  node(_id, lon, lat, tags) {
    if (tags?.public_transport === 'stop_position') (stops.lon.push(lon), stops.lat.push(lat));
  },
  way() {},
});
// The extract is read-only in ../shared; work on a copy path-wise only for the PBF conversion.
const shanghaiCopy = join(work, 'shanghai_center.osm');
if (!existsSync(shanghaiCopy)) execFileSync('cp', [shanghai, shanghaiCopy]);
await networkSection('real extract: central Shanghai (OSM 2025-08, 21,786 nodes)', shanghaiCopy, stops, false);

// --- the synthetic Shanghai-scale network ---------------------------------------------------------------
if (!args.quick) {
  const nodes = Number(args['synthetic-nodes']);
  const synth = join(work, `synthetic-${nodes}-${SEED}.osm`);
  if (!existsSync(synth)) {
    const t = performance.now();
    const s = await writeSyntheticCityOsm(synth, { seed: SEED, targetNodes: nodes });
    process.stdout.write(`\ngenerated ${synth}: ${s.nodes.toLocaleString('en')} nodes, ${s.ways.toLocaleString('en')} ways, ${(s.widthM / 1000).toFixed(1)} × ${(s.heightM / 1000).toFixed(1)} km in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
  }
  await networkSection(`synthetic city: ${nodes.toLocaleString('en')} OSM nodes, seed ${SEED}`, synth, null, true);
}
process.stdout.write('\nTargets are the issue\'s, for this 2-core machine. Map data of the real extract © OpenStreetMap contributors, ODbL 1.0.\n');

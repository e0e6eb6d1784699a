import { writeFileSync } from 'node:fs';
import { Command, Option, InvalidArgumentError } from 'commander';
import { LifecircleError, WarningLog } from '../errors.ts';
import { buildGraph, loadGraph, saveGraph, readOsmNetwork, snapPoint, isSnap, parseModes, writeArcsCsv, DEFAULT_MAX_SNAP_M, type Graph, type ModeName } from '../network/index.ts';
import { readRoadLayer } from '../import/roads.ts';
import { readPoints } from '../import/points.ts';
import { ReachEngine, reachFrom, reachedPieces, piecesLengthM, serviceAreaPolygon, pieceCoordinates, arrivalTimeS, directTimeS, multiPolygonAreaM2, nearestFacilityField, pointTimesFromField, type Cutoff } from '../analysis/index.ts';
import { snapPoints } from '../network/snap.ts';
import { progressBar } from './progress.ts';
import { runDemo } from './demo.ts';
import { addProjectCommands } from './project.ts';
import { csvCell } from '../io/export.ts';

const VERSION = '0.1.0';

function parseNumber(name: string, min = 0) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min) throw new InvalidArgumentError(`${name} must be a number >= ${min}, got "${value}"`);
    return n;
  };
}

function parseLonLat(value: string): [number, number] {
  const parts = value.split(',').map((s) => Number(s.trim()));
  if (parts.length !== 2 || !parts.every(Number.isFinite)) throw new InvalidArgumentError(`expected lon,lat (e.g. 121.4737,31.2304), got "${value}"`);
  const [lon, lat] = parts;
  if (lon < -180 || lon > 180 || lat < -90 || lat > 90) {
    throw new InvalidArgumentError(`"${value}" is outside WGS84 range${Math.abs(lon) <= 90 && Math.abs(lat) <= 180 ? ' (did you give lat,lon? the order is lon,lat)' : ''}`);
  }
  return [lon, lat];
}

function budgetSeconds(opts: { minutes?: number; seconds?: number }): number {
  if (opts.seconds !== undefined) return opts.seconds;
  return (opts.minutes ?? 15) * 60;
}

function out(text: string, file?: string): void {
  if (file) writeFileSync(file, text);
  else process.stdout.write(text.endsWith('\n') ? text : text + '\n');
}

function logWarnings(warnings: WarningLog, quiet = false): void {
  if (quiet) return;
  for (const line of warnings.format()) process.stderr.write(line + '\n');
}

/** The network build, shared by the CLI and the demo. */
export async function buildNetworkFile(
  input: string,
  opts: { modes: ModeName[]; minIslandNodes: number; layer?: 'osm' | 'centreline'; fields?: Record<string, string | undefined>; encoding?: string; warnings: WarningLog },
): Promise<{ graph: Graph; parseSeconds: number; buildSeconds: number; readStats?: unknown }> {
  const layer = opts.layer ?? (/\.(geojson|json|shp)$/i.test(input) ? 'centreline' : 'osm');
  const t0 = performance.now();
  let raw;
  let readStats: unknown;
  if (layer === 'osm') {
    const bar = progressBar('reading OSM', 'bytes');
    try {
      const r = await readOsmNetwork(input, { modes: opts.modes, warnings: opts.warnings, onProgress: bar.update });
      raw = r.raw;
      readStats = { ...r.read, waysKept: r.waysKept, highways: r.highwayCounts, missingNodeRefs: r.missingNodeRefs, areaLinks: r.areaLinks };
    } finally {
      bar.stop();
    }
  } else {
    raw = await readRoadLayer(input, { modes: opts.modes, warnings: opts.warnings, encoding: opts.encoding, ...opts.fields });
  }
  const t1 = performance.now();
  const bar = progressBar('building graph');
  let graph: Graph;
  try {
    graph = buildGraph(raw, { minComponentNodes: opts.minIslandNodes, onProgress: (_s, d, t) => bar.update(d, t) });
  } finally {
    bar.stop();
  }
  return { graph, parseSeconds: (t1 - t0) / 1000, buildSeconds: (performance.now() - t1) / 1000, readStats };
}

export function graphSummaryLines(graph: Graph): string[] {
  const i = graph.info;
  const lines = [
    `source      ${i.source} (${i.sourceKind})`,
    `nodes       ${i.nodeCount.toLocaleString('en')}   chains ${i.chainCount.toLocaleString('en')}   geometry points ${i.geometryPointCount.toLocaleString('en')}`,
    `bbox        ${i.bbox.map((v) => v.toFixed(5)).join(', ')}`,
  ];
  for (const m of i.modes) {
    const comps = m.kept.map((k) => `${k.nodes.toLocaleString('en')} nodes/${(k.lengthM / 1000).toFixed(1)} km`).join(' + ');
    lines.push(
      `${m.mode.padEnd(8)}    ${m.nodes.toLocaleString('en')} nodes, ${m.arcs.toLocaleString('en')} arcs at ${(m.speedMps * 3.6).toFixed(1)} km/h; kept components: ${comps}; ` +
        `${m.islandCount} islands dropped (${m.islandNodes} nodes, < ${i.minComponentNodes} nodes each)${m.blockedNodes ? `; ${m.blockedNodes} barrier nodes` : ''}`,
    );
  }
  for (const n of i.notes) lines.push(`note        ${n}`);
  lines.push(`attribution ${i.attribution}`);
  return lines;
}

export function createProgram(): Command {
  const program = new Command();
  program
    .name('lifecircle')
    .description('Plan public services around the 15-minute community life circle: walking and cycling reach on real street networks.')
    .version(VERSION)
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  const network = program.command('network').description('build, inspect and export routable networks');

  network
    .command('build')
    .description('build a routable graph file from an OSM extract (.osm.pbf or .osm XML) or a road centreline layer (.geojson / .shp)')
    .argument('<input>', 'OSM PBF/XML file, or a GeoJSON/Shapefile of road centrelines (WGS84)')
    .requiredOption('-o, --output <graph>', 'graph file to write (e.g. shanghai.lcg)')
    .option('--modes <list>', 'comma-separated modes: walk, elderly, bike', 'walk,elderly,bike')
    .option('--min-island-nodes <n>', 'drop (and report) components smaller than this many nodes', parseNumber('--min-island-nodes', 1), 50)
    .addOption(new Option('--layer <kind>', 'input kind (default: by extension)').choices(['osm', 'centreline']))
    .option('--length-field <name>', 'centreline: edge length in metres')
    .option('--speed-field <name>', 'centreline: speed in km/h, capping each mode\'s own speed')
    .option('--cost-field <name>', 'centreline: time in seconds along the digitised direction (negative = closed)')
    .option('--reverse-cost-field <name>', 'centreline: time in seconds against the digitised direction (negative = closed)')
    .option('--oneway-field <name>', 'centreline: oneway flag (yes/1/FT forward, -1/TF backward) for bikes')
    .option('--id-field <name>', 'centreline: feature id field used in reports')
    .option('--encoding <enc>', 'centreline Shapefile .dbf text encoding (e.g. gbk); overrides the .cpg file')
    .option('--json', 'print the summary as JSON')
    .action(async (input: string, o) => {
      const warnings = new WarningLog();
      const modes = parseModes(o.modes);
      const { graph, parseSeconds, buildSeconds, readStats } = await buildNetworkFile(input, {
        modes,
        minIslandNodes: o.minIslandNodes,
        layer: o.layer,
        encoding: o.encoding,
        warnings,
        fields: { lengthField: o.lengthField, speedField: o.speedField, costField: o.costField, reverseCostField: o.reverseCostField, onewayField: o.onewayField, idField: o.idField },
      });
      const bytes = saveGraph(graph, o.output);
      logWarnings(warnings, o.json);
      if (o.json) {
        out(JSON.stringify({ ok: true, output: o.output, bytes, parseSeconds, buildSeconds, read: readStats, warnings: warnings.countsByKind(), info: graph.info }, null, 2));
      } else {
        out([...graphSummaryLines(graph), `wrote       ${o.output} (${(bytes / 1048576).toFixed(1)} MB) in ${(parseSeconds + buildSeconds).toFixed(2)} s`].join('\n'));
      }
    });

  network
    .command('info')
    .description('print what a graph file holds: modes, counts, islands, source and attribution')
    .argument('<graph>', 'graph file')
    .option('--json', 'print the header as JSON')
    .action((path: string, o) => {
      const graph = loadGraph(path);
      out(o.json ? JSON.stringify(graph.info, null, 2) : graphSummaryLines(graph).join('\n'));
    });

  network
    .command('export-arcs')
    .description('write one mode\'s arcs as CSV (source,target,time_s) for other tools (networkx, pgRouting)')
    .argument('<graph>', 'graph file')
    .requiredOption('--mode <mode>', 'walk, elderly or bike')
    .requiredOption('-o, --output <csv>', 'CSV file to write')
    .action(async (path: string, o) => {
      const graph = loadGraph(path);
      const arcs = await writeArcsCsv(graph, parseModes(o.mode)[0], o.output);
      process.stderr.write(`wrote ${arcs} arcs to ${o.output}\n`);
    });

  program
    .command('reach')
    .description('what can be reached from one point within a time budget: service area (reachable street pieces, buffered), reached points and nodes')
    .requiredOption('--graph <file>', 'graph file from `lifecircle network build`')
    .requiredOption('--at <lon,lat>', 'origin, WGS84 longitude,latitude', parseLonLat)
    .option('--minutes <n>', 'time budget in minutes', parseNumber('--minutes'), 15)
    .option('--seconds <n>', 'time budget in seconds (overrides --minutes)', parseNumber('--seconds'))
    .option('--mode <mode>', 'walk, elderly or bike', 'walk')
    .addOption(new Option('--cutoff <kind>', 'inclusive: reached when time <= budget; exclusive: time < budget').choices(['inclusive', 'exclusive']).default('inclusive'))
    .addOption(new Option('--format <fmt>', 'geojson (service area, reached network, origin, points) or json (summary)').choices(['geojson', 'json']).default('geojson'))
    .option('--points <file>', 'points (GeoJSON or CSV lon,lat) to time from the origin, e.g. facilities')
    .option('--buffer-m <m>', 'service-area buffer around reachable street, metres', parseNumber('--buffer-m'), 50)
    .option('--max-snap-m <m>', 'maximum distance from a point to the street it attaches to', parseNumber('--max-snap-m'), DEFAULT_MAX_SNAP_M)
    .option('--nodes', 'include every reached node with its time')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action((o) => {
      const graph = loadGraph(o.graph);
      const modeName = parseModes(o.mode)[0];
      const mode = graph.mode(modeName);
      const budgetS = budgetSeconds(o);
      const cutoff = o.cutoff as Cutoff;
      const [lon, lat] = o.at as [number, number];
      const origin = snapPoint(graph, mode, lon, lat, o.maxSnapM);
      if (!isSnap(origin)) throw new LifecircleError('POINT_NOT_SNAPPED', `origin ${lon},${lat}: ${origin.message}`, { field: 'at' });
      const engine = new ReachEngine(mode);
      const result = reachFrom(graph, engine, origin, budgetS, cutoff);
      const pieces = reachedPieces(graph, result);
      const area = serviceAreaPolygon(graph, pieces, o.bufferM);
      const areaKm2 = multiPolygonAreaM2(area) / 1e6;
      const within = (t: number) => (cutoff === 'inclusive' ? t <= budgetS : t < budgetS);

      const reachedPoints: Array<{ id: string; name: string | null; lon: number; lat: number; timeS: number }> = [];
      const unsnapped: Array<{ id: string; reason: string; message: string }> = [];
      let pointCount = 0;
      if (o.points) {
        const pts = readPoints(o.points);
        pointCount = pts.id.length;
        const snaps = snapPoints(graph, mode, pts.lon, pts.lat, o.maxSnapM);
        for (const f of snaps.failures) unsnapped.push({ id: pts.id[f.index], reason: f.reason, message: f.message });
        for (let i = 0; i < snaps.count; i++) {
          if (snaps.chain[i] < 0) continue;
          let t = arrivalTimeS(graph, mode, engine, snaps.chain[i], snaps.offsetM[i], snaps.legM[i]);
          t = Math.min(t, directTimeS(graph, mode, origin, { chain: snaps.chain[i], offsetM: snaps.offsetM[i], legM: snaps.legM[i], footLon: 0, footLat: 0 }));
          if (within(t)) reachedPoints.push({ id: pts.id[i], name: pts.name[i], lon: pts.lon[i], lat: pts.lat[i], timeS: round3(t) });
        }
        reachedPoints.sort((a, b) => a.timeS - b.timeS);
      }
      const nodes = o.nodes
        ? Array.from(engine.reached.subarray(0, engine.reachedCount), (n) => ({ node: n, osmId: graph.nodeOsmId[n], lon: graph.nodeLon[n], lat: graph.nodeLat[n], timeS: round3(engine.timeS[n]) }))
        : undefined;
      const summary = {
        mode: modeName,
        budgetS,
        cutoff,
        origin: { lon, lat, snappedTo: { lon: origin.footLon, lat: origin.footLat, chain: origin.chain, wayId: graph.chainWayId[origin.chain], accessLegM: round3(origin.legM) } },
        reachedNodes: result.reachedNodes,
        reachedStreetM: Math.round(piecesLengthM(pieces)),
        serviceAreaKm2: round3(areaKm2),
        bufferM: o.bufferM,
        points: o.points ? { file: o.points, total: pointCount, reached: reachedPoints.length, unsnapped: unsnapped.length } : undefined,
        notes: graph.info.notes,
        attribution: graph.info.attribution,
      };
      if (o.format === 'json') {
        out(JSON.stringify({ ...summary, reachedPoints: o.points ? reachedPoints : undefined, unsnappedPoints: o.points ? unsnapped : undefined, nodes }, null, 2), o.output);
        return;
      }
      const features: unknown[] = [
        { type: 'Feature', properties: { kind: 'service-area', mode: modeName, budgetS, cutoff, bufferM: o.bufferM, areaKm2: round3(areaKm2) }, geometry: area },
        {
          type: 'Feature',
          properties: { kind: 'reached-network', mode: modeName, budgetS, lengthM: summary.reachedStreetM },
          geometry: { type: 'MultiLineString', coordinates: pieces.map((p) => pieceCoordinates(graph, p.chain, p.startM, p.endM)) },
        },
        { type: 'Feature', properties: { kind: 'origin', ...summary.origin.snappedTo }, geometry: { type: 'Point', coordinates: [lon, lat] } },
        ...reachedPoints.map((p) => ({ type: 'Feature', properties: { kind: 'reached-point', id: p.id, name: p.name, timeS: p.timeS }, geometry: { type: 'Point', coordinates: [p.lon, p.lat] } })),
        ...(nodes ?? []).map((n) => ({ type: 'Feature', properties: { kind: 'reached-node', node: n.node, osmId: n.osmId, timeS: n.timeS }, geometry: { type: 'Point', coordinates: [n.lon, n.lat] } })),
      ];
      out(JSON.stringify({ type: 'FeatureCollection', attribution: graph.info.attribution, notes: graph.info.notes, summary, features }), o.output);
    });

  program
    .command('field')
    .description('nearest-facility time field: one multi-source run from all facilities; times for every node and for given points (homes)')
    .requiredOption('--graph <file>', 'graph file')
    .requiredOption('--facilities <file>', 'facility points (GeoJSON or CSV lon,lat)')
    .option('--points <file>', 'points to time (e.g. homes); default: report nodes only')
    .option('--minutes <n>', 'time budget in minutes', parseNumber('--minutes'), 15)
    .option('--seconds <n>', 'time budget in seconds (overrides --minutes)', parseNumber('--seconds'))
    .option('--mode <mode>', 'walk, elderly or bike', 'walk')
    .addOption(new Option('--cutoff <kind>', 'inclusive (<=) or exclusive (<)').choices(['inclusive', 'exclusive']).default('inclusive'))
    .option('--max-snap-m <m>', 'maximum snap distance, metres', parseNumber('--max-snap-m'), DEFAULT_MAX_SNAP_M)
    .addOption(new Option('--direction <dir>', 'to-facility: a resident\'s trip to the nearest facility; from-facility: from it outwards (differ on one-way streets)').choices(['to-facility', 'from-facility']).default('to-facility'))
    .option('-o, --output <file>', 'CSV of per-point (or per-node) times: id,lon,lat,time_s,facility_id')
    .action((o) => {
      const graph = loadGraph(o.graph);
      const mode = graph.mode(parseModes(o.mode)[0]);
      const budgetS = budgetSeconds(o);
      const fac = readPoints(o.facilities);
      const field = nearestFacilityField(graph, mode, fac.lon, fac.lat, budgetS, { maxSnapM: o.maxSnapM, cutoff: o.cutoff, direction: o.direction });
      const within = (t: number, limit: number) => (o.cutoff === 'inclusive' ? t <= limit : t < limit);
      for (const f of field.facilities.failures) process.stderr.write(`warning [facility-not-snapped] ${o.facilities}: facility ${fac.id[f.index]}: ${f.message}\n`);
      let rows = 'id,lon,lat,time_s,facility_id\n';
      const thresholds = [300, 600, 900].filter((t) => t <= budgetS);
      const counts = thresholds.map(() => 0);
      let total = 0;
      let unsnapped = 0;
      if (o.points) {
        const pts = readPoints(o.points);
        const snaps = snapPoints(graph, mode, pts.lon, pts.lat, o.maxSnapM);
        unsnapped = snaps.failures.length;
        for (const f of snaps.failures) process.stderr.write(`warning [point-not-snapped] ${o.points}: point ${pts.id[f.index]}: ${f.message}\n`);
        const { timeS, facility } = pointTimesFromField(graph, field, snaps);
        total = pts.id.length;
        for (let i = 0; i < total; i++) {
          thresholds.forEach((t, k) => (within(timeS[i], t) ? counts[k]++ : 0));
          rows += `${csvCell(pts.id[i])},${pts.lon[i]},${pts.lat[i]},${Number.isFinite(timeS[i]) ? round3(timeS[i]) : ''},${facility[i] >= 0 ? csvCell(fac.id[facility[i]]) : ''}\n`;
        }
      } else {
        for (let n = 0; n < graph.nodeCount; n++) {
          if (mode.nodeComponent[n] < 0) continue;
          total++;
          const t = field.engine.timeS[n];
          thresholds.forEach((th, k) => (within(t, th) ? counts[k]++ : 0));
          const entry = field.engine.source[n];
          rows += `${n},${graph.nodeLon[n]},${graph.nodeLat[n]},${Number.isFinite(t) ? round3(t) : ''},${entry >= 0 ? csvCell(fac.id[field.entryFacility[entry]]) : ''}\n`;
        }
      }
      if (o.output) writeFileSync(o.output, rows);
      out(
        JSON.stringify(
          {
            mode: mode.mode,
            budgetS,
            direction: o.direction,
            cutoff: o.cutoff,
            facilities: { file: o.facilities, total: fac.id.length, snapped: fac.id.length - field.facilities.failures.length },
            subject: o.points ? { file: o.points, total, unsnapped } : { nodes: total },
            within: Object.fromEntries(thresholds.map((t, k) => [`${t / 60}min`, { count: counts[k], share: total ? round3(counts[k] / total) : 0 }])),
            output: o.output,
            attribution: graph.info.attribution,
          },
          null,
          2,
        ),
      );
    });

  addProjectCommands(program);

  program
    .command('demo')
    .description('the main job on the shared Shanghai data: build the network and print a reach summary')
    .option('--data <dir>', 'shared data folder (default: $LIFECIRCLE_DATA or ../shared/data)')
    .option('--out <dir>', 'folder for the graph and GeoJSON outputs', 'out')
    .action(async (o) => {
      await runDemo({ dataDir: o.data, outDir: o.out });
    });

  return program;
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}


/** Runs the CLI; returns the process exit code (0 ok, 1 usage, 2 input error, 3 import refused for problems in the data). */
export async function main(argv: string[]): Promise<number> {
  const program = createProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
    // a command may set a non-zero code without throwing (e.g. 3: an import refused for its problems)
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof LifecircleError) {
      process.stderr.write(`error [${e.key}] ${e.message}\n`);
      if (argv.includes('--json')) process.stdout.write(JSON.stringify(e.toJSON()) + '\n');
      return 2;
    }
    const ce = e as { code?: string; exitCode?: number };
    if (typeof ce.code === 'string' && ce.code.startsWith('commander.')) {
      return ce.code === 'commander.helpDisplayed' || ce.code === 'commander.version' || ce.code === 'commander.help' ? 0 : (ce.exitCode ?? 1);
    }
    throw e;
  }
}

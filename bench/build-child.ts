/**
 * Builds one graph in a fresh process and prints JSON with the timings and the process's peak RSS, so the
 * benchmark measures the build's own memory high-water mark, not the bench harness's.
 *   node --import tsx bench/build-child.ts <osm file> <graph out> [modes]
 */
import { readOsmNetwork, buildGraph, saveGraph, parseModes } from '../src/network/index.ts';

const [input, output, modesArg] = process.argv.slice(2);
const modes = parseModes(modesArg ?? 'walk,elderly,bike');
const t0 = performance.now();
const r = await readOsmNetwork(input, { modes });
const t1 = performance.now();
const graph = buildGraph(r.raw);
const t2 = performance.now();
const bytes = saveGraph(graph, output);
const t3 = performance.now();
process.stdout.write(
  JSON.stringify({
    osmNodes: r.read.nodes,
    osmWays: r.read.ways,
    inputBytes: r.read.bytes,
    graphNodes: graph.nodeCount,
    chains: graph.chainCount,
    arcs: Object.fromEntries(graph.info.modes.map((m) => [m.mode, m.arcs])),
    readSeconds: (t1 - t0) / 1000,
    buildSeconds: (t2 - t1) / 1000,
    saveSeconds: (t3 - t2) / 1000,
    graphBytes: bytes,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  }) + '\n',
);

/**
 * Small helpers shared by the network tests: build a graph from an OSM file the way the CLI does, and find
 * graph nodes by OSM id.
 */
import { WarningLog } from '../../src/errors.ts';
import { buildGraph, readOsmNetwork, type Graph, type ModeName, type OsmNetworkResult } from '../../src/network/index.ts';

export interface Built {
  graph: Graph;
  result: OsmNetworkResult;
  warnings: WarningLog;
}

/** readOsmNetwork(path, { modes }) then buildGraph(result.raw, { minComponentNodes }) (see src/network/index.ts). */
export async function buildFromOsm(file: string, modes: ModeName[], minComponentNodes = 1): Promise<Built> {
  const warnings = new WarningLog();
  const result = await readOsmNetwork(file, { modes, warnings });
  const graph = buildGraph(result.raw, { minComponentNodes });
  return { graph, result, warnings };
}

/** Graph node index of an OSM node id, or -1 when the OSM node is not a graph node (collapsed or dropped). */
export function nodeOfOsmId(graph: Graph, osmId: number): number {
  return graph.nodeOsmId.indexOf(osmId);
}

/** Like nodeOfOsmId but throws when the OSM node is not a graph node. */
export function mustNode(graph: Graph, osmId: number): number {
  const n = nodeOfOsmId(graph, osmId);
  if (n < 0) throw new Error(`OSM node ${osmId} is not a graph node (collapsed into a chain, or not on a kept way)`);
  return n;
}

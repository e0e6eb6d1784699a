export { buildGraph, type BuildOptions, type RawNetwork } from './build.ts';
export { Graph, GRAPH_FORMAT_VERSION, BARRIER_NODE, type GraphInfo, type ModeGraph, type ModeInfo, type IslandReport } from './graph.ts';
export { loadGraph, saveGraph, graphFromBuffer } from './format.ts';
export { readOsmNetwork, OSM_ATTRIBUTION, type OsmNetworkResult } from './osm-network.ts';
export { snapPoint, snapPoints, isSnap, DEFAULT_MAX_SNAP_M, type Snap, type SnapFailure, type SnappedPoints } from './snap.ts';
export { MODE_NAMES, MODE_PROFILES, parseModes, wayAccess, nodeBlocks, type ModeName } from './profiles.ts';
export { writeArcsCsv } from './export.ts';

import type Flatbush from 'flatbush';
import type { ModeName } from './profiles.ts';
import { LifecircleError } from '../errors.ts';
import { LocalProjection } from '../geo.ts';

/**
 * The routable network as a column store (after R5's EdgeStore): parallel typed arrays, no per-edge objects.
 *
 * Nodes are junctions and dead ends; degree-2 vertices of the source data are collapsed into "chains" (one
 * chain = one undirected street piece between two nodes, with its full geometry kept for output). Each mode
 * has its own CSR adjacency over the shared node and chain arrays: a mode only gets arcs on the chains it
 * may use, in the directions it may use them, and only inside the components kept for it (islands are
 * reported in `info.islands`, never silently linked).
 */
/** Version of the graph file layout (src/network/format.ts); bump on any change of sections or meaning. */
export const GRAPH_FORMAT_VERSION = 1;

/** nodeComponent value of a barrier node: reachable, never passed through. */
export const BARRIER_NODE = -2;

export interface ModeGraph {
  mode: ModeName;
  /** Speed in m/s on an ordinary way (steps, dismount etc. have their own per-chain speeds). */
  speedMps: number;
  /** CSR offsets, length nodeCount + 1: the arcs out of node n are arcOffsets[n] .. arcOffsets[n+1]-1. */
  arcOffsets: Uint32Array;
  /** Target node of each arc. */
  arcTarget: Uint32Array;
  /** chain index × 2 + 1 when the arc runs against the chain's geometry (to → from), + 0 along it. */
  arcChain: Uint32Array;
  /** Travel time of the whole arc in seconds. */
  arcTimeS: Float64Array;
  /**
   * Per chain: bit 0 = the mode may travel from→to, bit 1 = to→from (within a kept component). Barrier nodes
   * do not clear these bits: they only lose their outgoing arcs.
   */
  chainUsable: Uint8Array;
  /** Per chain: seconds per metre from→to and to→from (Infinity when not usable), for cutting arcs. */
  chainSecPerMFwd: Float64Array;
  chainSecPerMBack: Float64Array;
  /**
   * Per node: index of its kept component; BARRIER_NODE (-2) for a node this mode may reach but not pass
   * (a locked gate: a dead end of each component it touches); -1 when the node is not in this mode's network.
   */
  nodeComponent: Int32Array;
}

export interface IslandReport {
  /** Nodes and total chain length of the component. */
  nodes: number;
  lengthM: number;
  /** A representative point (the component's first node) and an OSM way id on it, to find it on a map. */
  lon: number;
  lat: number;
  wayId: number;
}

export interface ModeInfo {
  mode: ModeName;
  speedMps: number;
  nodes: number;
  arcs: number;
  components: number;
  /** Kept components, largest first. */
  kept: IslandReport[];
  /** Components dropped because they are smaller than minComponentNodes (largest first, capped at 100). */
  islands: IslandReport[];
  islandCount: number;
  islandNodes: number;
  blockedNodes: number;
}

export interface GraphInfo {
  formatVersion: number;
  source: string;
  sourceKind: 'osm' | 'centreline';
  builtAt: string;
  attribution: string;
  notes: string[];
  nodeCount: number;
  chainCount: number;
  geometryPointCount: number;
  bbox: [number, number, number, number];
  projection: { lon0: number; lat0: number };
  minComponentNodes: number;
  modes: ModeInfo[];
}

export class Graph {
  readonly info: GraphInfo;
  readonly nodeLon: Float64Array;
  readonly nodeLat: Float64Array;
  /** OSM node id of each node, or -1 when the node came from a centreline layer. */
  readonly nodeOsmId: Float64Array;
  readonly chainFrom: Uint32Array;
  readonly chainTo: Uint32Array;
  readonly chainLengthM: Float64Array;
  /** OSM way id (or centreline feature id) the chain came from. */
  readonly chainWayId: Float64Array;
  /** Geometry of chain c: points chainGeomStart[c] .. chainGeomStart[c+1]-1 of geomLon/geomLat. */
  readonly chainGeomStart: Uint32Array;
  readonly geomLon: Float64Array;
  readonly geomLat: Float64Array;
  /** Spatial index of chain bounding boxes in the local projection's metres (item i = chain i). */
  readonly chainIndex: Flatbush;
  private readonly loadedModes: Map<ModeName, ModeGraph>;
  private readonly loadMode?: (mode: ModeName) => ModeGraph;
  readonly projection: LocalProjection;

  constructor(parts: {
    info: GraphInfo;
    nodeLon: Float64Array;
    nodeLat: Float64Array;
    nodeOsmId: Float64Array;
    chainFrom: Uint32Array;
    chainTo: Uint32Array;
    chainLengthM: Float64Array;
    chainWayId: Float64Array;
    chainGeomStart: Uint32Array;
    geomLon: Float64Array;
    geomLat: Float64Array;
    chainIndex: Flatbush;
    modes: Map<ModeName, ModeGraph>;
    /** Reads a mode's arrays on first use (graphs loaded from a file); built graphs hold all modes. */
    loadMode?: (mode: ModeName) => ModeGraph;
  }) {
    this.info = parts.info;
    this.nodeLon = parts.nodeLon;
    this.nodeLat = parts.nodeLat;
    this.nodeOsmId = parts.nodeOsmId;
    this.chainFrom = parts.chainFrom;
    this.chainTo = parts.chainTo;
    this.chainLengthM = parts.chainLengthM;
    this.chainWayId = parts.chainWayId;
    this.chainGeomStart = parts.chainGeomStart;
    this.geomLon = parts.geomLon;
    this.geomLat = parts.geomLat;
    this.chainIndex = parts.chainIndex;
    this.loadedModes = parts.modes;
    this.loadMode = parts.loadMode;
    this.projection = new LocalProjection(parts.info.projection.lon0, parts.info.projection.lat0);
  }

  get nodeCount(): number {
    return this.nodeLon.length;
  }

  get chainCount(): number {
    return this.chainFrom.length;
  }

  /** Names of the modes this graph has (loaded or not). */
  get modeNames(): ModeName[] {
    return this.info.modes.map((m) => m.mode);
  }

  /** Every mode's adjacency, reading any not yet loaded. */
  allModes(): Map<ModeName, ModeGraph> {
    for (const name of this.modeNames) this.mode(name);
    return this.loadedModes;
  }

  /** Same as allModes(): kept as a property for callers that iterate every mode. */
  get modes(): Map<ModeName, ModeGraph> {
    return this.allModes();
  }

  /** The mode's adjacency (read from the file on first use); a clear error when the graph lacks it. */
  mode(name: ModeName): ModeGraph {
    let g = this.loadedModes.get(name);
    if (!g && this.loadMode && this.modeNames.includes(name)) {
      g = this.loadMode(name);
      this.loadedModes.set(name, g);
    }
    if (!g) {
      throw new LifecircleError('MODE_NOT_IN_GRAPH', `mode "${name}" is not in this graph (built with: ${this.modeNames.join(', ')}); rebuild with --modes`, {
        field: 'mode',
      });
    }
    return g;
  }
}

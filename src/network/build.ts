import Flatbush from 'flatbush';
import { LifecircleError } from '../errors.ts';
import { haversineM, LocalProjection } from '../geo.ts';
import { GrowableArray } from '../util/growable.ts';
import { BARRIER_NODE, GRAPH_FORMAT_VERSION, Graph, type GraphInfo, type IslandReport, type ModeGraph, type ModeInfo } from './graph.ts';
import { MODE_PROFILES, type ModeName } from './profiles.ts';


/**
 * The source network before topology work: vertices (OSM nodes or centreline vertices) and lines (OSM ways
 * or centreline features) over them, with per-mode pace. Both the OSM and the centreline importers produce
 * this; `buildGraph` turns it into the compact routable Graph.
 */
export interface RawNetwork {
  source: string;
  sourceKind: 'osm' | 'centreline';
  attribution: string;
  notes: string[];
  modes: ModeName[];
  vertexLon: Float64Array;
  vertexLat: Float64Array;
  /** OSM node id, or -1 for centreline vertices. */
  vertexOsmId: Float64Array;
  /** Bit m set when the vertex blocks modes[m] (a locked gate...). */
  vertexBlocked: Uint8Array;
  /** Line l runs through vertices lineVertices[lineStart[l] .. lineStart[l+1]-1]. */
  lineStart: Uint32Array;
  lineVertices: Uint32Array;
  lineWayId: Float64Array;
  /**
   * Pace in seconds per metre, line-major: [l * modes.length + m]. Forward = along the line's vertex order.
   * Infinity = the mode may not use the line in that direction.
   */
  lineSecPerMFwd: Float64Array;
  lineSecPerMBack: Float64Array;
}

export interface BuildOptions {
  /** Components with fewer nodes than this are dropped (and reported) per mode. Default 50. */
  minComponentNodes?: number;
  onProgress?: (stage: string, done: number, total: number) => void;
}

/**
 * Topology: split lines at shared vertices, collapse degree-2 vertices whose two sides have the same pace
 * (so a chain has one pace per mode and direction, which keeps cutting an arc at a time budget exact), find
 * each mode's strongly connected components, drop small islands, and lay out per-mode CSR arrays.
 */
export function buildGraph(raw: RawNetwork, options: BuildOptions = {}): Graph {
  const minComponentNodes = options.minComponentNodes ?? 50;
  const progress = options.onProgress ?? (() => {});
  const modeCount = raw.modes.length;
  const vertexCount = raw.vertexLon.length;
  const lineCount = raw.lineWayId.length;

  // --- segments: consecutive distinct vertex pairs of every line -------------------------------------------
  let segmentCount = 0;
  for (let l = 0; l < lineCount; l++) {
    for (let k = raw.lineStart[l] + 1; k < raw.lineStart[l + 1]; k++) if (raw.lineVertices[k] !== raw.lineVertices[k - 1]) segmentCount++;
  }
  if (segmentCount === 0) throw new LifecircleError('GRAPH_EMPTY', `${raw.source}: no usable way for modes ${raw.modes.join(', ')}: the network is empty`, { file: raw.source });
  const segA = new Uint32Array(segmentCount);
  const segB = new Uint32Array(segmentCount);
  const segLine = new Uint32Array(segmentCount);
  const vertexDegree = new Uint32Array(vertexCount);
  {
    let s = 0;
    for (let l = 0; l < lineCount; l++) {
      for (let k = raw.lineStart[l] + 1; k < raw.lineStart[l + 1]; k++) {
        const a = raw.lineVertices[k - 1];
        const b = raw.lineVertices[k];
        if (a === b) continue;
        segA[s] = a;
        segB[s] = b;
        segLine[s] = l;
        vertexDegree[a]++;
        vertexDegree[b]++;
        s++;
      }
    }
  }
  progress('topology', 1, 4);

  // vertex → incident segments (CSR)
  const incStart = new Uint32Array(vertexCount + 1);
  for (let v = 0; v < vertexCount; v++) incStart[v + 1] = incStart[v] + vertexDegree[v];
  const incSeg = new Uint32Array(segmentCount * 2);
  {
    const fill = incStart.slice(0, vertexCount);
    for (let s = 0; s < segmentCount; s++) {
      incSeg[fill[segA[s]]++] = s;
      incSeg[fill[segB[s]]++] = s;
    }
  }

  // Pace of segment s when travelled starting from vertex v (so that "forward" means "away from v").
  const sameDirectedPace = (s1: number, fromV1: number, s2: number, fromV2: number): boolean => {
    const l1 = segLine[s1];
    const l2 = segLine[s2];
    const rev1 = segA[s1] !== fromV1;
    const rev2 = segA[s2] !== fromV2;
    for (let m = 0; m < modeCount; m++) {
      const f1 = rev1 ? raw.lineSecPerMBack[l1 * modeCount + m] : raw.lineSecPerMFwd[l1 * modeCount + m];
      const b1 = rev1 ? raw.lineSecPerMFwd[l1 * modeCount + m] : raw.lineSecPerMBack[l1 * modeCount + m];
      const f2 = rev2 ? raw.lineSecPerMBack[l2 * modeCount + m] : raw.lineSecPerMFwd[l2 * modeCount + m];
      const b2 = rev2 ? raw.lineSecPerMFwd[l2 * modeCount + m] : raw.lineSecPerMBack[l2 * modeCount + m];
      if (f1 !== f2 || b1 !== b2) return false;
    }
    return true;
  };

  // Junctions: every vertex that is not a plain pass-through (degree 2 with the same pace on both sides).
  const isJunction = new Uint8Array(vertexCount);
  for (let v = 0; v < vertexCount; v++) {
    const d = vertexDegree[v];
    if (d === 0) continue;
    if (d !== 2 || raw.vertexBlocked[v] !== 0) {
      isJunction[v] = 1;
      continue;
    }
    const s1 = incSeg[incStart[v]];
    const s2 = incSeg[incStart[v] + 1];
    // v passes through when walking s1 into v and then s2 out of v meets the same pace in both directions:
    // s1 travelled from its other end towards v must equal s2 travelled from v onwards.
    const other1 = segA[s1] === v ? segB[s1] : segA[s1];
    if (s1 === s2 || !sameDirectedPace(s1, other1, s2, v)) isJunction[v] = 1;
  }

  // --- chains: walk from junctions through pass-through vertices --------------------------------------------
  const chainFromV = new GrowableArray(Uint32Array, 1024);
  const chainToV = new GrowableArray(Uint32Array, 1024);
  const chainFirstSeg = new GrowableArray(Uint32Array, 1024);
  const chainFirstFromV = new GrowableArray(Uint32Array, 1024);
  const chainGeomStartG = new GrowableArray(Uint32Array, 1024);
  const chainVertexList = new GrowableArray(Uint32Array, 4096);
  const segVisited = new Uint8Array(segmentCount);

  const walkChain = (start: number, firstSeg: number) => {
    chainGeomStartG.push(chainVertexList.length);
    chainVertexList.push(start);
    chainFromV.push(start);
    chainFirstSeg.push(firstSeg);
    chainFirstFromV.push(start);
    let v = start;
    let s = firstSeg;
    for (;;) {
      segVisited[s] = 1;
      const next = segA[s] === v ? segB[s] : segA[s];
      chainVertexList.push(next);
      v = next;
      if (isJunction[v]) break;
      const i0 = incSeg[incStart[v]];
      const i1 = incSeg[incStart[v] + 1];
      s = i0 === s ? i1 : i0;
      if (segVisited[s]) break; // closed ring back to its start
    }
    chainToV.push(v);
  };

  for (let v = 0; v < vertexCount; v++) {
    if (!isJunction[v]) continue;
    for (let i = incStart[v]; i < incStart[v + 1]; i++) {
      const s = incSeg[i];
      if (!segVisited[s]) walkChain(v, s);
    }
  }
  // Rings made only of pass-through vertices (a closed footway around a pond): cut at their first vertex.
  for (let s = 0; s < segmentCount; s++) {
    if (segVisited[s]) continue;
    isJunction[segA[s]] = 1;
    walkChain(segA[s], s);
  }
  progress('topology', 2, 4);

  // --- nodes: junctions that end a chain ------------------------------------------------------------------
  const chainCount = chainFromV.length;
  const vertexNode = new Int32Array(vertexCount).fill(-1);
  const nodeVertex = new GrowableArray(Uint32Array, 1024);
  const nodeOf = (v: number) => {
    if (vertexNode[v] < 0) {
      vertexNode[v] = nodeVertex.length;
      nodeVertex.push(v);
    }
    return vertexNode[v];
  };
  const chainFrom = new Uint32Array(chainCount);
  const chainTo = new Uint32Array(chainCount);
  for (let c = 0; c < chainCount; c++) {
    chainFrom[c] = nodeOf(chainFromV.get(c));
    chainTo[c] = nodeOf(chainToV.get(c));
  }
  const nodeCount = nodeVertex.length;
  const nodeLon = new Float64Array(nodeCount);
  const nodeLat = new Float64Array(nodeCount);
  const nodeOsmId = new Float64Array(nodeCount);
  for (let n = 0; n < nodeCount; n++) {
    const v = nodeVertex.get(n);
    nodeLon[n] = raw.vertexLon[v];
    nodeLat[n] = raw.vertexLat[v];
    nodeOsmId[n] = raw.vertexOsmId[v];
  }

  // --- chain geometry, length and pace -------------------------------------------------------------------
  chainGeomStartG.push(chainVertexList.length);
  const chainGeomStart = chainGeomStartG.toArray();
  const geometryPointCount = chainVertexList.length;
  const geomLon = new Float64Array(geometryPointCount);
  const geomLat = new Float64Array(geometryPointCount);
  for (let g = 0; g < geometryPointCount; g++) {
    const v = chainVertexList.get(g);
    geomLon[g] = raw.vertexLon[v];
    geomLat[g] = raw.vertexLat[v];
  }
  const chainLengthM = new Float64Array(chainCount);
  const chainWayId = new Float64Array(chainCount);
  const chainSecFwd = new Float64Array(chainCount * modeCount);
  const chainSecBack = new Float64Array(chainCount * modeCount);
  for (let c = 0; c < chainCount; c++) {
    let len = 0;
    for (let g = chainGeomStart[c] + 1; g < chainGeomStart[c + 1]; g++) len += haversineM(geomLon[g - 1], geomLat[g - 1], geomLon[g], geomLat[g]);
    chainLengthM[c] = len;
    const s = chainFirstSeg.get(c);
    const l = segLine[s];
    chainWayId[c] = raw.lineWayId[l];
    const reversed = segA[s] !== chainFirstFromV.get(c);
    for (let m = 0; m < modeCount; m++) {
      const f = raw.lineSecPerMFwd[l * modeCount + m];
      const b = raw.lineSecPerMBack[l * modeCount + m];
      chainSecFwd[c * modeCount + m] = reversed ? b : f;
      chainSecBack[c * modeCount + m] = reversed ? f : b;
    }
  }
  progress('topology', 3, 4);

  // --- spatial index over geometry segments (for snapping) ---------------------------------------------
  let minLon = Infinity;
  let minLat = Infinity;
  let maxLon = -Infinity;
  let maxLat = -Infinity;
  for (let g = 0; g < geometryPointCount; g++) {
    if (geomLon[g] < minLon) minLon = geomLon[g];
    if (geomLon[g] > maxLon) maxLon = geomLon[g];
    if (geomLat[g] < minLat) minLat = geomLat[g];
    if (geomLat[g] > maxLat) maxLat = geomLat[g];
  }
  const projection = new LocalProjection((minLon + maxLon) / 2, (minLat + maxLat) / 2);
  // One box per chain (not per segment): chains average a few segments, so the index is several times
  // smaller and loads faster, while snapping still measures exact distances to every segment of a candidate.
  // Float32 boxes: metres within a city need no more (< 1 cm at 50 km) and halve the index again.
  const chainIndex = new Flatbush(Math.max(1, chainCount), 16, Float32Array);
  for (let c = 0; c < chainCount; c++) {
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    for (let g = chainGeomStart[c]; g < chainGeomStart[c + 1]; g++) {
      const x = projection.x(geomLon[g]);
      const y = projection.y(geomLat[g]);
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
    // widen by a millimetre so float rounding never shrinks a box below its true extent
    chainIndex.add(x0 - 1e-3, y0 - 1e-3, x1 + 1e-3, y1 + 1e-3);
  }
  if (chainCount === 0) chainIndex.add(0, 0, 0, 0);
  chainIndex.finish();
  progress('topology', 4, 4);

  // --- per mode: arcs, components, islands, CSR ------------------------------------------------------------
  const modes = new Map<ModeName, ModeGraph>();
  const modeInfos: ModeInfo[] = [];
  for (let m = 0; m < modeCount; m++) {
    const mode = raw.modes[m];
    progress(`mode ${mode}`, 0, 3);
    const blockedNode = new Uint8Array(nodeCount);
    let blockedNodes = 0;
    for (let n = 0; n < nodeCount; n++) {
      if (raw.vertexBlocked[nodeVertex.get(n)] & (1 << m)) {
        blockedNode[n] = 1;
        blockedNodes++;
      }
    }
    // Arcs for the component search: every usable direction, except arcs into or out of a blocked node, so
    // that a compound behind locked gates comes out as its own component (kept and listed, or reported as an
    // island), never silently part of the network it cannot reach.
    const open = (c: number) => !blockedNode[chainFrom[c]] && !blockedNode[chainTo[c]];
    const outDegree = new Uint32Array(nodeCount + 1);
    const hasArc = new Uint8Array(nodeCount);
    for (let c = 0; c < chainCount; c++) {
      if (!open(c)) continue;
      const f = Number.isFinite(chainSecFwd[c * modeCount + m]);
      const b = Number.isFinite(chainSecBack[c * modeCount + m]);
      if (f) outDegree[chainFrom[c]]++;
      if (b) outDegree[chainTo[c]]++;
      if (f || b) hasArc[chainFrom[c]] = hasArc[chainTo[c]] = 1;
    }
    // a street stub whose only way on is through a barrier is still a (small) component of its own
    for (let c = 0; c < chainCount; c++) {
      if (!Number.isFinite(chainSecFwd[c * modeCount + m]) && !Number.isFinite(chainSecBack[c * modeCount + m])) continue;
      if (!blockedNode[chainFrom[c]]) hasArc[chainFrom[c]] = 1;
      if (!blockedNode[chainTo[c]]) hasArc[chainTo[c]] = 1;
    }
    const allStart = new Uint32Array(nodeCount + 1);
    for (let n = 0; n < nodeCount; n++) allStart[n + 1] = allStart[n] + outDegree[n];
    const allTarget = new Uint32Array(allStart[nodeCount]);
    {
      const fill = allStart.slice(0, nodeCount);
      for (let c = 0; c < chainCount; c++) {
        if (!open(c)) continue;
        if (Number.isFinite(chainSecFwd[c * modeCount + m])) allTarget[fill[chainFrom[c]]++] = chainTo[c];
        if (Number.isFinite(chainSecBack[c * modeCount + m])) allTarget[fill[chainTo[c]]++] = chainFrom[c];
      }
    }
    const component = stronglyConnectedComponents(nodeCount, allStart, allTarget, hasArc);
    progress(`mode ${mode}`, 1, 3);

    // Component sizes (nodes, length) and which are kept.
    let componentCount = 0;
    for (let n = 0; n < nodeCount; n++) if (component[n] + 1 > componentCount) componentCount = component[n] + 1;
    const compNodes = new Uint32Array(componentCount);
    const compLength = new Float64Array(componentCount);
    const compFirstNode = new Int32Array(componentCount).fill(-1);
    const compWay = new Float64Array(componentCount);
    for (let n = 0; n < nodeCount; n++) {
      const k = component[n];
      if (k < 0) continue;
      compNodes[k]++;
      if (compFirstNode[k] < 0) compFirstNode[k] = n;
    }
    for (let c = 0; c < chainCount; c++) {
      const k = component[chainFrom[c]];
      if (k >= 0 && k === component[chainTo[c]] && (Number.isFinite(chainSecFwd[c * modeCount + m]) || Number.isFinite(chainSecBack[c * modeCount + m]))) {
        compLength[k] += chainLengthM[c];
        compWay[k] = chainWayId[c];
      }
    }
    const order = Array.from({ length: componentCount }, (_, k) => k).sort((a, b) => compNodes[b] - compNodes[a] || compLength[b] - compLength[a]);
    const keepComp = new Uint8Array(componentCount);
    const kept: IslandReport[] = [];
    const islands: IslandReport[] = [];
    let islandNodes = 0;
    let islandCount = 0;
    const keptIndex = new Int32Array(componentCount).fill(-1);
    order.forEach((k, rank) => {
      const report: IslandReport = {
        nodes: compNodes[k],
        lengthM: Math.round(compLength[k] * 10) / 10,
        lon: nodeLon[compFirstNode[k]],
        lat: nodeLat[compFirstNode[k]],
        wayId: compWay[k],
      };
      // The largest component is always kept, so a tiny but valid network is never emptied.
      if (rank === 0 || compNodes[k] >= minComponentNodes) {
        keepComp[k] = 1;
        keptIndex[k] = kept.length;
        kept.push(report);
      } else {
        islandCount++;
        islandNodes += compNodes[k];
        if (islands.length < 100) islands.push(report);
      }
    });
    const nodeComponent = new Int32Array(nodeCount);
    for (let n = 0; n < nodeCount; n++) nodeComponent[n] = component[n] >= 0 && keepComp[component[n]] ? keptIndex[component[n]] : -1;
    // A blocked node next to a kept component is a dead end of it: reachable, never passed through.
    for (let c = 0; c < chainCount; c++) {
      const a = chainFrom[c];
      const b = chainTo[c];
      if (blockedNode[a] && !blockedNode[b] && nodeComponent[b] >= 0) nodeComponent[a] = BARRIER_NODE;
      if (blockedNode[b] && !blockedNode[a] && nodeComponent[a] >= 0) nodeComponent[b] = BARRIER_NODE;
    }

    // Final CSR: arcs whose both ends are in the same kept component (SCC arcs between components are one-way
    // dead ends: following one could never lead back) or lead from one into a barrier node; none out of a
    // barrier node. chainUsable says which
    // directions the mode may travel on a chain, barriers aside: a point just past a locked gate may still
    // walk away from it, and one before it may walk up to it.
    const sameComponent = (a: number, b: number) =>
      (nodeComponent[a] >= 0 && nodeComponent[a] === nodeComponent[b]) ||
      (nodeComponent[a] === BARRIER_NODE && nodeComponent[b] >= 0) ||
      (nodeComponent[b] === BARRIER_NODE && nodeComponent[a] >= 0);
    const arcOffsets = new Uint32Array(nodeCount + 1);
    const chainUsable = new Uint8Array(chainCount);
    const chainSecPerMFwd = new Float64Array(chainCount);
    const chainSecPerMBack = new Float64Array(chainCount);
    for (let c = 0; c < chainCount; c++) {
      const f = chainSecFwd[c * modeCount + m];
      const b = chainSecBack[c * modeCount + m];
      chainSecPerMFwd[c] = f;
      chainSecPerMBack[c] = b;
      if (!sameComponent(chainFrom[c], chainTo[c])) continue;
      if (Number.isFinite(f)) {
        chainUsable[c] |= 1;
        if (!blockedNode[chainFrom[c]]) arcOffsets[chainFrom[c] + 1]++;
      }
      if (Number.isFinite(b)) {
        chainUsable[c] |= 2;
        if (!blockedNode[chainTo[c]]) arcOffsets[chainTo[c] + 1]++;
      }
    }
    for (let n = 0; n < nodeCount; n++) arcOffsets[n + 1] += arcOffsets[n];
    const arcCount = arcOffsets[nodeCount];
    const arcTarget = new Uint32Array(arcCount);
    const arcChain = new Uint32Array(arcCount);
    const arcTimeS = new Float64Array(arcCount);
    {
      const fill = arcOffsets.slice(0, nodeCount);
      for (let c = 0; c < chainCount; c++) {
        if (chainUsable[c] & 1 && !blockedNode[chainFrom[c]]) {
          const i = fill[chainFrom[c]]++;
          arcTarget[i] = chainTo[c];
          arcChain[i] = c * 2;
          arcTimeS[i] = chainLengthM[c] * chainSecFwd[c * modeCount + m];
        }
        if (chainUsable[c] & 2 && !blockedNode[chainTo[c]]) {
          const i = fill[chainTo[c]]++;
          arcTarget[i] = chainFrom[c];
          arcChain[i] = c * 2 + 1;
          arcTimeS[i] = chainLengthM[c] * chainSecBack[c * modeCount + m];
        }
      }
    }
    progress(`mode ${mode}`, 3, 3);

    let keptNodes = 0;
    for (let n = 0; n < nodeCount; n++) if (nodeComponent[n] >= 0) keptNodes++;
    const speedMps = MODE_PROFILES[mode].speedMps;
    modes.set(mode, { mode, speedMps, arcOffsets, arcTarget, arcChain, arcTimeS, chainUsable, chainSecPerMFwd, chainSecPerMBack, nodeComponent });
    modeInfos.push({ mode, speedMps, nodes: keptNodes, arcs: arcCount, components: componentCount, kept, islands, islandCount, islandNodes, blockedNodes });
  }

  const info: GraphInfo = {
    formatVersion: GRAPH_FORMAT_VERSION,
    source: raw.source,
    sourceKind: raw.sourceKind,
    builtAt: new Date().toISOString(),
    attribution: raw.attribution,
    notes: raw.notes,
    nodeCount,
    chainCount,
    geometryPointCount,
    bbox: [minLon, minLat, maxLon, maxLat],
    projection: { lon0: projection.lon0, lat0: projection.lat0 },
    minComponentNodes,
    modes: modeInfos,
  };
  return new Graph({ info, nodeLon, nodeLat, nodeOsmId, chainFrom, chainTo, chainLengthM, chainWayId, chainGeomStart, geomLon, geomLat, chainIndex, modes });
}

/**
 * Tarjan's strongly connected components, iterative (a recursive version overflows the stack on long
 * chains of a million-node network). Nodes without any arc get -1. Component ids are dense from 0.
 */
export function stronglyConnectedComponents(nodeCount: number, start: Uint32Array, target: Uint32Array, active: Uint8Array): Int32Array {
  const index = new Int32Array(nodeCount).fill(-1);
  const low = new Int32Array(nodeCount);
  const comp = new Int32Array(nodeCount).fill(-1);
  const onStack = new Uint8Array(nodeCount);
  const stack = new Uint32Array(nodeCount);
  let sp = 0;
  const callNode = new Uint32Array(nodeCount);
  const callArc = new Uint32Array(nodeCount);
  let counter = 0;
  let compCount = 0;
  for (let root = 0; root < nodeCount; root++) {
    if (!active[root] || index[root] >= 0) continue;
    let depth = 0;
    callNode[0] = root;
    callArc[0] = start[root];
    index[root] = low[root] = counter++;
    stack[sp++] = root;
    onStack[root] = 1;
    while (depth >= 0) {
      const v = callNode[depth];
      const i = callArc[depth];
      if (i < start[v + 1]) {
        callArc[depth] = i + 1;
        const w = target[i];
        if (index[w] < 0) {
          index[w] = low[w] = counter++;
          stack[sp++] = w;
          onStack[w] = 1;
          depth++;
          callNode[depth] = w;
          callArc[depth] = start[w];
        } else if (onStack[w] && index[w] < low[v]) {
          low[v] = index[w];
        }
      } else {
        if (low[v] === index[v]) {
          let w: number;
          do {
            w = stack[--sp];
            onStack[w] = 0;
            comp[w] = compCount;
          } while (w !== v);
          compCount++;
        }
        depth--;
        if (depth >= 0) {
          const parent = callNode[depth];
          if (low[v] < low[parent]) low[parent] = low[v];
        }
      }
    }
  }
  return comp;
}

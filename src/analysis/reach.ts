import type { MultiPolygon } from 'geojson';
import BufferOp from 'jsts/org/locationtech/jts/operation/buffer/BufferOp.js';
import BufferParameters from 'jsts/org/locationtech/jts/operation/buffer/BufferParameters.js';
import GeometryFactory from 'jsts/org/locationtech/jts/geom/GeometryFactory.js';
import Coordinate from 'jsts/org/locationtech/jts/geom/Coordinate.js';
import { haversineM } from '../geo.ts';
import { BARRIER_NODE, type Graph, type ModeGraph } from '../network/graph.ts';
import type { Snap } from '../network/snap.ts';
import type { Cutoff } from './dijkstra.ts';
import { ReachEngine } from './dijkstra.ts';

/**
 * Turning snapped points into Dijkstra sources, reading travel times to snapped points back from a node
 * field, and cutting the reached network into service-area pieces.
 *
 * A point snapped onto chain c at offset o (from its `from` node) with an access leg of L metres enters the
 * network at both ends of c, wherever the mode may travel: to `to` after (len - o) m forward, to `from` after
 * o m backward. A destination is reached from whichever end gives the earlier arrival, plus its own leg.
 */
export function accessTimeS(mode: ModeGraph, legM: number): number {
  return legM / mode.speedMps;
}

/**
 * Appends the (node, time) entries through which a snapped point enters the network; returns how many.
 * A point exactly on a node (offset 0 or the chain's length) enters at that node whatever the chain's
 * direction: moving 0 m against a oneway is no move.
 *
 * reverse = true gives the entries of a search on the reversed graph (times *to* the point): the last leg
 * runs along the chain into the point, and it may not start at a barrier node (that would pass the barrier).
 */
export function appendSources(graph: Graph, mode: ModeGraph, snap: Snap, nodes: number[], times: number[], startTimeS = 0, reverse = false): number {
  const c = snap.chain;
  const t0 = startTimeS + accessTimeS(mode, snap.legM);
  const usable = mode.chainUsable[c];
  const len = graph.chainLengthM[c];
  const from = graph.chainFrom[c];
  const to = graph.chainTo[c];
  const atFrom = snap.offsetM <= 0;
  const atTo = snap.offsetM >= len;
  let added = 0;
  const add = (node: number, t: number) => {
    nodes.push(node);
    times.push(t);
    added++;
  };
  if (!reverse) {
    if (usable & 1 || atTo) add(to, atTo ? t0 : t0 + (len - snap.offsetM) * mode.chainSecPerMFwd[c]);
    if (usable & 2 || atFrom) add(from, atFrom ? t0 : t0 + snap.offsetM * mode.chainSecPerMBack[c]);
  } else {
    if ((usable & 1 && mode.nodeComponent[from] !== BARRIER_NODE) || atFrom) add(from, atFrom ? t0 : t0 + snap.offsetM * mode.chainSecPerMFwd[c]);
    if ((usable & 2 && mode.nodeComponent[to] !== BARRIER_NODE) || atTo) add(to, atTo ? t0 : t0 + (len - snap.offsetM) * mode.chainSecPerMBack[c]);
  }
  return added;
}

/**
 * Travel time to a snapped destination from the engine's current field (Infinity when not reached), not
 * counting any direct run along a shared chain (see `directTimeS`).
 */
export function arrivalTimeS(graph: Graph, mode: ModeGraph, engine: ReachEngine, chain: number, offsetM: number, legM: number): number {
  return arrivalViaEnds(graph, mode, engine.timeS, chain, offsetM).timeS + accessTimeS(mode, legM);
}

/**
 * Earliest arrival at a point `offsetM` along `chain` through either end, from a node time field, and the
 * node it came through (-1 when neither end is reached). A point exactly on a node is that node.
 *
 * reverse = true reads a field of times *to* facilities (a search on the reversed graph): the point leaves
 * along the chain to one of its ends, then continues from there.
 */
export function arrivalViaEnds(graph: Graph, mode: ModeGraph, nodeTimeS: Float64Array, chain: number, offsetM: number, reverse = false): { timeS: number; via: number } {
  const usable = mode.chainUsable[chain];
  const len = graph.chainLengthM[chain];
  const from = graph.chainFrom[chain];
  const to = graph.chainTo[chain];
  let timeS = Infinity;
  let via = -1;
  // Two candidate ends, compared inline: a closure here is called ~30 M times in a city-wide assessment.
  let t: number;
  if (!reverse) {
    // Arriving through an end means passing that node, unless the point is the node itself: never through
    // a barrier (a locked gate is reached, not passed).
    if (mode.nodeComponent[from] !== BARRIER_NODE || offsetM <= 0) {
      t = offsetM <= 0 ? nodeTimeS[from] : usable & 1 ? nodeTimeS[from] + offsetM * mode.chainSecPerMFwd[chain] : Infinity;
      if (t < timeS) {
        timeS = t;
        via = from;
      }
    }
    if (mode.nodeComponent[to] !== BARRIER_NODE || offsetM >= len) {
      t = offsetM >= len ? nodeTimeS[to] : usable & 2 ? nodeTimeS[to] + (len - offsetM) * mode.chainSecPerMBack[chain] : Infinity;
      if (t < timeS) {
        timeS = t;
        via = to;
      }
    }
  } else {
    // a barrier end has a finite time only when the facility is that very node: no check needed
    t = offsetM >= len ? nodeTimeS[to] : usable & 1 ? nodeTimeS[to] + (len - offsetM) * mode.chainSecPerMFwd[chain] : Infinity;
    if (t < timeS) {
      timeS = t;
      via = to;
    }
    t = offsetM <= 0 ? nodeTimeS[from] : usable & 2 ? nodeTimeS[from] + offsetM * mode.chainSecPerMBack[chain] : Infinity;
    if (t < timeS) {
      timeS = t;
      via = from;
    }
  }
  return { timeS, via };
}

/** Seconds to travel along one chain from offset aM to offset bM (0 when equal); Infinity when not allowed. */
export function alongChainTimeS(mode: ModeGraph, chain: number, aM: number, bM: number): number {
  const d = bM - aM;
  if (d === 0) return 0;
  const usable = mode.chainUsable[chain];
  if (d > 0) return usable & 1 ? d * mode.chainSecPerMFwd[chain] : Infinity;
  return usable & 2 ? -d * mode.chainSecPerMBack[chain] : Infinity;
}

/** Time along one chain between two snapped points on it (legs included), when the mode may go that way. */
export function directTimeS(graph: Graph, mode: ModeGraph, from: Snap, to: Snap): number {
  if (from.chain !== to.chain) return Infinity;
  return alongChainTimeS(mode, from.chain, from.offsetM, to.offsetM) + accessTimeS(mode, from.legM) + accessTimeS(mode, to.legM);
}

export interface ReachResult {
  mode: ModeGraph;
  origin: Snap;
  budgetS: number;
  cutoff: Cutoff;
  engine: ReachEngine;
  reachedNodes: number;
}

/** Single-source reach from a snapped origin. The engine is reused across calls (allocate it once). */
export function reachFrom(graph: Graph, engine: ReachEngine, origin: Snap, budgetS: number, cutoff: Cutoff = 'inclusive'): ReachResult {
  const mode = engine.graph;
  const nodes: number[] = [];
  const times: number[] = [];
  appendSources(graph, mode, origin, nodes, times);
  const reachedNodes = engine.run(nodes, times, budgetS, cutoff);
  return { mode, origin, budgetS, cutoff, engine, reachedNodes };
}

/** One reached stretch of a chain, [startM, endM] metres from the chain's `from` end. */
export interface Piece {
  chain: number;
  startM: number;
  endM: number;
}

/**
 * The parts of the network reachable within the budget: every arc out of a reached node, cut where the
 * remaining time runs out, plus the stretch around the origin on its own chain. Overlapping stretches of a
 * chain are merged. No hull is drawn: only street that can really be reached is returned.
 */
export function reachedPieces(graph: Graph, result: ReachResult): Piece[] {
  const { mode, engine, budgetS, origin, cutoff } = result;
  const intervals = new Map<number, number[]>();
  const add = (chain: number, a: number, b: number) => {
    if (!(b > a) && !(b === a && cutoff === 'inclusive')) return;
    let list = intervals.get(chain);
    if (!list) intervals.set(chain, (list = []));
    list.push(a, b);
  };
  const { arcOffsets, arcChain } = mode;
  for (let i = 0; i < engine.reachedCount; i++) {
    const u = engine.reached[i];
    const left = budgetS - engine.timeS[u];
    for (let a = arcOffsets[u]; a < arcOffsets[u + 1]; a++) {
      const c = arcChain[a] >>> 1;
      const len = graph.chainLengthM[c];
      if ((arcChain[a] & 1) === 0) {
        const m = Math.min(len, left / mode.chainSecPerMFwd[c]);
        add(c, 0, m);
      } else {
        const m = Math.min(len, left / mode.chainSecPerMBack[c]);
        add(c, len - m, len);
      }
    }
  }
  // the origin's own chain, in whichever directions the mode may go from the foot point
  const c = origin.chain;
  const left = budgetS - accessTimeS(mode, origin.legM);
  if (left >= 0) {
    const len = graph.chainLengthM[c];
    const fwd = mode.chainUsable[c] & 1 ? Math.min(len, origin.offsetM + left / mode.chainSecPerMFwd[c]) : origin.offsetM;
    const back = mode.chainUsable[c] & 2 ? Math.max(0, origin.offsetM - left / mode.chainSecPerMBack[c]) : origin.offsetM;
    add(c, back, fwd);
  }
  const pieces: Piece[] = [];
  for (const [chain, list] of intervals) {
    const pairs: [number, number][] = [];
    for (let i = 0; i < list.length; i += 2) pairs.push([list[i], list[i + 1]]);
    pairs.sort((p, q) => p[0] - q[0]);
    let [s, e] = pairs[0];
    for (let i = 1; i < pairs.length; i++) {
      if (pairs[i][0] <= e) e = Math.max(e, pairs[i][1]);
      else {
        pieces.push({ chain, startM: s, endM: e });
        [s, e] = pairs[i];
      }
    }
    pieces.push({ chain, startM: s, endM: e });
  }
  pieces.sort((p, q) => p.chain - q.chain || p.startM - q.startM);
  return pieces;
}

/** The coordinates of chain c between startM and endM metres from its start, cut along its geometry. */
export function pieceCoordinates(graph: Graph, chain: number, startM: number, endM: number): [number, number][] {
  const { geomLon, geomLat } = graph;
  const g0 = graph.chainGeomStart[chain];
  const g1 = graph.chainGeomStart[chain + 1];
  const coords: [number, number][] = [];
  let walked = 0;
  const at = (g: number, f: number): [number, number] => [geomLon[g] + f * (geomLon[g + 1] - geomLon[g]), geomLat[g] + f * (geomLat[g + 1] - geomLat[g])];
  for (let g = g0; g < g1 - 1; g++) {
    const segM = haversineM(geomLon[g], geomLat[g], geomLon[g + 1], geomLat[g + 1]);
    const segStart = walked;
    const segEnd = walked + segM;
    if (segEnd >= startM && segStart <= endM) {
      if (coords.length === 0) coords.push(segM > 0 ? at(g, Math.max(0, (startM - segStart) / segM)) : [geomLon[g], geomLat[g]]);
      if (segEnd <= endM) coords.push([geomLon[g + 1], geomLat[g + 1]]);
      else {
        coords.push(at(g, segM > 0 ? (endM - segStart) / segM : 1));
        break;
      }
    }
    walked = segEnd;
  }
  if (coords.length === 1) coords.push(coords[0]);
  return coords;
}

/** Total length in metres of the pieces. */
export function piecesLengthM(pieces: Piece[]): number {
  let m = 0;
  for (const p of pieces) m += p.endM - p.startM;
  return m;
}

/**
 * The service area: the reached pieces buffered by bufferM metres (default 50 m, about the depth of a
 * street-front plot), dissolved into one MultiPolygon. A buffer of real reachable street, never a hull.
 * Buffered with JSTS in the graph's local metric projection (turf's buffer reprojects per call and was
 * 7× slower on a 15-minute walk); quadrant segments = 3 keeps round ends visibly round.
 */
export function serviceAreaPolygon(graph: Graph, pieces: Piece[], bufferM = 50): MultiPolygon {
  const proj = graph.projection;
  const factory = new GeometryFactory();
  const lines = pieces.map((p) =>
    factory.createLineString(pieceCoordinates(graph, p.chain, p.startM, p.endM).map(([lon, lat]) => new Coordinate(proj.x(lon), proj.y(lat)))),
  );
  const multi: MultiPolygon = { type: 'MultiPolygon', coordinates: [] };
  if (lines.length === 0) return multi;
  const buffered = BufferOp.bufferOp(factory.createMultiLineString(lines), bufferM, new BufferParameters(3));
  const ring = (g: { getCoordinates(): Coordinate[] }) =>
    g.getCoordinates().map((c) => [round7(proj.lon(c.x)), round7(proj.lat(c.y))]);
  for (let i = 0; i < buffered.getNumGeometries(); i++) {
    const poly = buffered.getGeometryN(i) as unknown as {
      getExteriorRing(): { getCoordinates(): Coordinate[] };
      getNumInteriorRing(): number;
      getInteriorRingN(k: number): { getCoordinates(): Coordinate[] };
      isEmpty(): boolean;
    };
    if (poly.isEmpty()) continue;
    // RFC 7946: exterior rings counter-clockwise, holes clockwise (JSTS gives the opposite)
    const rings = [orient(ring(poly.getExteriorRing()), true)];
    for (let k = 0; k < poly.getNumInteriorRing(); k++) rings.push(orient(ring(poly.getInteriorRingN(k)), false));
    multi.coordinates.push(rings);
  }
  return multi;
}

function orient(ring: number[][], counterClockwise: boolean): number[][] {
  // Σ (x_prev − x) (y_prev + y) is twice the signed area, positive for a counter-clockwise ring
  let twiceArea = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) twiceArea += (ring[j][0] - ring[i][0]) * (ring[j][1] + ring[i][1]);
  return twiceArea > 0 !== counterClockwise ? ring.reverse() : ring;
}

function round7(v: number): number {
  return Math.round(v * 1e7) / 1e7;
}

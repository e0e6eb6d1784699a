import { haversineM, isValidLonLat } from '../geo.ts';
import type { Graph, ModeGraph } from './graph.ts';

/**
 * Snapping attaches a point (a home, a facility, a committee centre) to the nearest edge that its mode may
 * use, at the foot of the perpendicular, not at the nearest node. Nearest-node snapping grants false access:
 * a home on the far bank of a river whose nearest node is a bridge-head would "reach" across. Here the point
 * sits on its own street and must travel along it; the access leg (point → foot point) is counted.
 */
export interface Snap {
  chain: number;
  /** Distance from the chain's start (its `from` node) to the foot point, metres along the geometry. */
  offsetM: number;
  /** Straight-line access leg from the point to the foot point, metres. */
  legM: number;
  footLon: number;
  footLat: number;
}

export type SnapFailureReason = 'invalid-coordinates' | 'no-usable-edge-within-max' | 'outside-network-extent';

export interface SnapFailure {
  reason: SnapFailureReason;
  message: string;
  /** Distance to the nearest edge of any mode, when one exists within 10 × maxSnapM. */
  nearestAnyM?: number;
}

export const DEFAULT_MAX_SNAP_M = 500;

/** Squared distance from (px, py) to segment (ax, ay)-(bx, by) and the parameter t ∈ [0, 1] of the foot. */
function footOnSegment(px: number, py: number, ax: number, ay: number, bx: number, by: number): { d2: number; t: number } {
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  let t = len2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0;
  if (t < 0) t = 0;
  else if (t > 1) t = 1;
  const fx = ax + t * dx - px;
  const fy = ay + t * dy - py;
  return { d2: fx * fx + fy * fy, t };
}

/**
 * Nearest usable edge of `mode` within maxSnapM of (lon, lat); a failure with a reason otherwise.
 * flatbush orders candidates by bounding-box distance, a lower bound of the true distance; we take k
 * candidates, and widen k until the best exact distance is no larger than the k-th box distance, which
 * proves no farther box can hold a closer segment.
 */
export function snapPoint(graph: Graph, mode: ModeGraph, lon: number, lat: number, maxSnapM = DEFAULT_MAX_SNAP_M): Snap | SnapFailure {
  if (!isValidLonLat(lon, lat)) {
    return { reason: 'invalid-coordinates', message: `coordinates ${lon},${lat} are not valid WGS84 longitude,latitude` };
  }
  const proj = graph.projection;
  const px = proj.x(lon);
  const py = proj.y(lat);
  const { geomLon, geomLat, segPoint, segChain } = graph;
  const usable = mode.chainUsable;
  const filter = (i: number) => usable[segChain[i]] !== 0;
  let best = -1;
  let bestD2 = Infinity;
  let bestT = 0;
  for (let k = 8; ; k *= 4) {
    const ids = graph.segIndex.neighbors(px, py, k, maxSnapM, filter);
    let lastBoxD2 = 0;
    for (const i of ids) {
      const g = segPoint[i];
      const ax = proj.x(geomLon[g]);
      const ay = proj.y(geomLat[g]);
      const bx = proj.x(geomLon[g + 1]);
      const by = proj.y(geomLat[g + 1]);
      const dxb = Math.max(Math.min(ax, bx) - px, px - Math.max(ax, bx), 0);
      const dyb = Math.max(Math.min(ay, by) - py, py - Math.max(ay, by), 0);
      lastBoxD2 = dxb * dxb + dyb * dyb;
      const f = footOnSegment(px, py, ax, ay, bx, by);
      if (f.d2 < bestD2 || (f.d2 === bestD2 && i < best)) {
        bestD2 = f.d2;
        best = i;
        bestT = f.t;
      }
    }
    if (ids.length < k || bestD2 <= lastBoxD2) break;
  }
  if (best < 0 || bestD2 > maxSnapM * maxSnapM) {
    const [minLon, minLat, maxLon, maxLat] = graph.info.bbox;
    const anyIds = graph.segIndex.neighbors(px, py, 1, maxSnapM * 10);
    let nearestAnyM: number | undefined;
    if (anyIds.length > 0) {
      const g = segPoint[anyIds[0]];
      const f = footOnSegment(px, py, proj.x(geomLon[g]), proj.y(geomLat[g]), proj.x(geomLon[g + 1]), proj.y(geomLat[g + 1]));
      nearestAnyM = Math.sqrt(f.d2);
    }
    const outside = lon < minLon || lon > maxLon || lat < minLat || lat > maxLat;
    const anyNote = nearestAnyM !== undefined ? `; the nearest way of any kind is ${nearestAnyM.toFixed(0)} m away` : '';
    return {
      reason: outside && nearestAnyM === undefined ? 'outside-network-extent' : 'no-usable-edge-within-max',
      message: outside && nearestAnyM === undefined
        ? `point ${lon},${lat} lies outside the network's extent [${graph.info.bbox.map((v) => v.toFixed(4)).join(', ')}]`
        : `no way usable by ${mode.mode} within ${maxSnapM} m of ${lon},${lat}${anyNote}`,
      nearestAnyM,
    };
  }
  const g = segPoint[best];
  const chain = segChain[best];
  const footLon = geomLon[g] + bestT * (geomLon[g + 1] - geomLon[g]);
  const footLat = geomLat[g] + bestT * (geomLat[g + 1] - geomLat[g]);
  // offset along the chain: whole segments before this one, then the part of this one up to the foot
  let offsetM = 0;
  for (let p = graph.chainGeomStart[chain] + 1; p <= g; p++) offsetM += haversineM(geomLon[p - 1], geomLat[p - 1], geomLon[p], geomLat[p]);
  offsetM += haversineM(geomLon[g], geomLat[g], footLon, footLat);
  offsetM = Math.min(offsetM, graph.chainLengthM[chain]);
  return { chain, offsetM, legM: haversineM(lon, lat, footLon, footLat), footLon, footLat };
}

export function isSnap(s: Snap | SnapFailure): s is Snap {
  return (s as Snap).chain !== undefined;
}

/** Column form of many snaps; chain = -1 where the point could not be attached (see failures). */
export interface SnappedPoints {
  count: number;
  chain: Int32Array;
  offsetM: Float64Array;
  legM: Float64Array;
  failures: Array<{ index: number } & SnapFailure>;
}

export function snapPoints(graph: Graph, mode: ModeGraph, lons: ArrayLike<number>, lats: ArrayLike<number>, maxSnapM = DEFAULT_MAX_SNAP_M): SnappedPoints {
  const count = lons.length;
  const chain = new Int32Array(count).fill(-1);
  const offsetM = new Float64Array(count);
  const legM = new Float64Array(count);
  const failures: SnappedPoints['failures'] = [];
  for (let i = 0; i < count; i++) {
    const s = snapPoint(graph, mode, lons[i], lats[i], maxSnapM);
    if (isSnap(s)) {
      chain[i] = s.chain;
      offsetM[i] = s.offsetM;
      legM[i] = s.legM;
    } else {
      failures.push({ index: i, ...s });
    }
  }
  return { count, chain, offsetM, legM, failures };
}

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
 * flatbush orders candidate chains by bounding-box distance, a lower bound of the true distance; we measure
 * every segment of k candidates exactly, and widen k until the best exact distance is no larger than the
 * k-th box distance, which proves no farther box can hold a closer segment (strictly smaller, so that ties
 * go to the lowest chain id).
 */
export function snapPoint(graph: Graph, mode: ModeGraph, lon: number, lat: number, maxSnapM = DEFAULT_MAX_SNAP_M): Snap | SnapFailure {
  if (!isValidLonLat(lon, lat)) {
    return { reason: 'invalid-coordinates', message: `coordinates ${lon},${lat} are not valid WGS84 longitude,latitude` };
  }
  const proj = graph.projection;
  const px = proj.x(lon);
  const py = proj.y(lat);
  const usable = mode.chainUsable;
  const best = nearestOnChains(graph, px, py, maxSnapM, (c) => usable[c] !== 0);
  if (best.chain < 0 || best.d2 > maxSnapM * maxSnapM) {
    const [minLon, minLat, maxLon, maxLat] = graph.info.bbox;
    const any = nearestOnChains(graph, px, py, maxSnapM * 10, () => true);
    const nearestAnyM = any.chain >= 0 ? Math.sqrt(any.d2) : undefined;
    const outside = lon < minLon || lon > maxLon || lat < minLat || lat > maxLat;
    const anyNote = nearestAnyM !== undefined ? `; the nearest way of any kind is ${nearestAnyM.toFixed(0)} m away` : '';
    return {
      reason: outside && nearestAnyM === undefined ? 'outside-network-extent' : 'no-usable-edge-within-max',
      message:
        outside && nearestAnyM === undefined
          ? `point ${lon},${lat} lies outside the network's extent [${graph.info.bbox.map((v) => v.toFixed(4)).join(', ')}]`
          : `no way usable by ${mode.mode} within ${maxSnapM} m of ${lon},${lat}${anyNote}`,
      nearestAnyM,
    };
  }
  const { geomLon, geomLat } = graph;
  const { chain, point: g, t } = best;
  const footLon = geomLon[g] + t * (geomLon[g + 1] - geomLon[g]);
  const footLat = geomLat[g] + t * (geomLat[g + 1] - geomLat[g]);
  // offset along the chain: whole segments before this one, then the part of this one up to the foot
  let offsetM = 0;
  for (let p = graph.chainGeomStart[chain] + 1; p <= g; p++) offsetM += haversineM(geomLon[p - 1], geomLat[p - 1], geomLon[p], geomLat[p]);
  offsetM += haversineM(geomLon[g], geomLat[g], footLon, footLat);
  offsetM = Math.min(offsetM, graph.chainLengthM[chain]);
  return { chain, offsetM, legM: haversineM(lon, lat, footLon, footLat), footLon, footLat };
}

/** The exact nearest segment among chains passing `accept`, within maxM (projected metres). */
function nearestOnChains(graph: Graph, px: number, py: number, maxM: number, accept: (chain: number) => boolean): { chain: number; point: number; t: number; d2: number } {
  const proj = graph.projection;
  const { geomLon, geomLat, chainGeomStart } = graph;
  let bestChain = -1;
  let bestPoint = 0;
  let bestT = 0;
  let bestD2 = Infinity;
  for (let k = 8; ; k *= 4) {
    const ids = graph.chainIndex.neighbors(px, py, k, maxM, accept);
    let lastBoxD2 = 0;
    for (const c of ids) {
      if (c >= graph.chainCount) continue; // the placeholder item of an empty graph
      let x0 = Infinity;
      let y0 = Infinity;
      let x1 = -Infinity;
      let y1 = -Infinity;
      let ax = proj.x(geomLon[chainGeomStart[c]]);
      let ay = proj.y(geomLat[chainGeomStart[c]]);
      for (let g = chainGeomStart[c]; g < chainGeomStart[c + 1] - 1; g++) {
        const bx = proj.x(geomLon[g + 1]);
        const by = proj.y(geomLat[g + 1]);
        const f = footOnSegment(px, py, ax, ay, bx, by);
        if (f.d2 < bestD2 || (f.d2 === bestD2 && c < bestChain)) {
          bestD2 = f.d2;
          bestChain = c;
          bestPoint = g;
          bestT = f.t;
        }
        x0 = Math.min(x0, ax, bx);
        x1 = Math.max(x1, ax, bx);
        y0 = Math.min(y0, ay, by);
        y1 = Math.max(y1, ay, by);
        ax = bx;
        ay = by;
      }
      const dx = Math.max(x0 - px, px - x1, 0);
      const dy = Math.max(y0 - py, py - y1, 0);
      lastBoxD2 = dx * dx + dy * dy;
    }
    // strictly nearer than the k-th box: a box exactly as far could still hold an equally near segment of a
    // lower chain id, which wins the tie
    if (ids.length < k || bestD2 < lastBoxD2) break;
  }
  return { chain: bestChain, point: bestPoint, t: bestT, d2: bestD2 };
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

/**
 * `snapPoints` for a second mode, reusing the snaps of a mode whose usable chains include all of this mode's
 * (elderly walking uses a subset of the walking chains). Exact: a point's nearest chain under the wider mode
 * (least distance, then least chain id, within maxSnapM) is, when this mode may use it, also its nearest
 * among this mode's chains, which are a subset; only the other points are snapped again. When the usable sets
 * are not nested this is plain `snapPoints`. Saves a spatial query per point (a city has millions).
 * `known` must hold snaps of the same points with the same maxSnapM.
 */
export function snapPointsLike(graph: Graph, mode: ModeGraph, lons: ArrayLike<number>, lats: ArrayLike<number>, known: { mode: ModeGraph; snaps: SnappedPoints }, maxSnapM = DEFAULT_MAX_SNAP_M): SnappedPoints {
  const usable = mode.chainUsable;
  const wider = known.mode.chainUsable;
  let nested = known.snaps.count === lons.length;
  for (let c = 0; nested && c < graph.chainCount; c++) if (usable[c] !== 0 && wider[c] === 0) nested = false;
  return snapEach(graph, mode, lons, lats, maxSnapM, nested ? known.snaps : null);
}

export function snapPoints(graph: Graph, mode: ModeGraph, lons: ArrayLike<number>, lats: ArrayLike<number>, maxSnapM = DEFAULT_MAX_SNAP_M): SnappedPoints {
  return snapEach(graph, mode, lons, lats, maxSnapM, null);
}

/** Snaps every point, taking a point's snap from `reuse` where it is on a chain this mode may use. */
function snapEach(graph: Graph, mode: ModeGraph, lons: ArrayLike<number>, lats: ArrayLike<number>, maxSnapM: number, reuse: SnappedPoints | null): SnappedPoints {
  const usable = mode.chainUsable;
  const count = lons.length;
  const chain = new Int32Array(count).fill(-1);
  const offsetM = new Float64Array(count);
  const legM = new Float64Array(count);
  const failures: SnappedPoints['failures'] = [];
  for (let i = 0; i < count; i++) {
    if (reuse !== null && reuse.chain[i] >= 0 && usable[reuse.chain[i]] !== 0) {
      chain[i] = reuse.chain[i];
      offsetM[i] = reuse.offsetM[i];
      legM[i] = reuse.legM[i];
      continue;
    }
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

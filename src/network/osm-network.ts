import { LifecircleError, WarningLog } from '../errors.ts';
import { LocalProjection } from '../geo.ts';
import { readOsmFile } from '../import/osm.ts';
import type { OsmReadStats, Tags } from '../import/osm-types.ts';
import { GrowableArray } from '../util/growable.ts';
import type { RawNetwork } from './build.ts';
import { nodeBlocks, wayAccess, type ModeName } from './profiles.ts';

export const OSM_ATTRIBUTION = 'Map data © OpenStreetMap contributors, ODbL 1.0';

export interface OsmNetworkOptions {
  modes: ModeName[];
  warnings?: WarningLog;
  onProgress?: (bytesRead: number, totalBytes: number) => void;
}

export interface OsmNetworkResult {
  raw: RawNetwork;
  read: OsmReadStats;
  /** Ways kept for at least one mode, by highway=* value. */
  highwayCounts: Record<string, number>;
  waysKept: number;
  missingNodeRefs: number;
  areaLinks: number;
}

const FOOT_WAY_TYPES = ['footway', 'path', 'pedestrian', 'steps', 'living_street', 'service', 'corridor'];

/**
 * Streams an OSM file (PBF or XML) into a RawNetwork: keeps node coordinates in typed arrays, keeps each way
 * that some mode may use with its per-mode pace, resolves node references (a way with a missing node is
 * split there and reported: bbox-clipped extracts have many), adds straight links across pedestrian areas
 * (area=yes) between the points where other ways enter them, and drops vertices no kept way uses.
 */
export async function readOsmNetwork(path: string, options: OsmNetworkOptions): Promise<OsmNetworkResult> {
  const { modes } = options;
  const modeCount = modes.length;
  const warnings = options.warnings ?? new WarningLog();
  const nodeId = new GrowableArray(Float64Array, 1 << 16);
  const nodeLon = new GrowableArray(Float64Array, 1 << 16);
  const nodeLat = new GrowableArray(Float64Array, 1 << 16);
  const blockedById = new Map<number, number>();
  let sorted = true;
  let lastId = -Infinity;

  const wayRefs = new GrowableArray(Float64Array, 1 << 16);
  const wayStart = new GrowableArray(Uint32Array, 1 << 12);
  const wayIds = new GrowableArray(Float64Array, 1 << 12);
  const waySecFwd = new GrowableArray(Float64Array, 1 << 12);
  const waySecBack = new GrowableArray(Float64Array, 1 << 12);
  const wayIsArea = new GrowableArray(Uint8Array, 1 << 12);
  const highwayCounts: Record<string, number> = {};

  const read = await readOsmFile(
    path,
    {
      node(id: number, lon: number, lat: number, tags: Tags | null) {
        if (id <= lastId) sorted = false;
        lastId = id;
        nodeId.push(id);
        nodeLon.push(lon);
        nodeLat.push(lat);
        if (tags !== null && tags.barrier !== undefined) {
          let mask = 0;
          for (let m = 0; m < modeCount; m++) if (nodeBlocks(tags, modes[m])) mask |= 1 << m;
          if (mask !== 0) blockedById.set(id, mask);
        }
      },
      way(id: number, refs: readonly number[], tags: Tags) {
        if (tags.highway === undefined || refs.length < 2) return;
        let any = false;
        const fwd: number[] = [];
        const back: number[] = [];
        for (let m = 0; m < modeCount; m++) {
          const a = wayAccess(tags, modes[m]);
          fwd.push(a && a.forward ? 1 / a.speedMps : Infinity);
          back.push(a && a.backward ? 1 / a.speedMps : Infinity);
          if (a && (a.forward || a.backward)) any = true;
        }
        if (!any) return;
        wayStart.push(wayRefs.length);
        for (const r of refs) wayRefs.push(r);
        wayIds.push(id);
        for (let m = 0; m < modeCount; m++) {
          waySecFwd.push(fwd[m]);
          waySecBack.push(back[m]);
        }
        wayIsArea.push(tags.area === 'yes' && refs[0] === refs[refs.length - 1] ? 1 : 0);
        highwayCounts[tags.highway] = (highwayCounts[tags.highway] ?? 0) + 1;
      },
    },
    { onProgress: options.onProgress, warnings },
  );
  wayStart.push(wayRefs.length);
  const waysKept = wayIds.length;
  if (read.nodes === 0 && read.ways === 0) {
    throw new LifecircleError('GRAPH_EMPTY', `${path}: the file holds no OSM nodes or ways`, { file: path });
  }

  // --- node id → index (binary search over ids sorted ascending, as OSM files normally are) -------------
  let ids = nodeId.view();
  let order: Uint32Array | null = null;
  if (!sorted) {
    order = new Uint32Array(ids.length);
    for (let i = 0; i < order.length; i++) order[i] = i;
    const idsCopy = ids;
    order.sort((a, b) => idsCopy[a] - idsCopy[b] || a - b);
    const sortedIds = new Float64Array(ids.length);
    for (let i = 0; i < order.length; i++) sortedIds[i] = ids[order[i]];
    ids = sortedIds;
    for (let i = 1; i < ids.length; i++) {
      if (ids[i] === ids[i - 1]) warnings.add('duplicate-node', `${path}: node ${ids[i]} appears more than once; the first occurrence is used`, { file: path, record: `node ${ids[i]}` });
    }
  }
  const indexOf = (id: number): number => {
    let lo = 0;
    let hi = ids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = ids[mid];
      if (v < id) lo = mid + 1;
      else if (v > id) hi = mid - 1;
      else {
        // duplicates sit side by side after the (stable) sort: the first occurrence in the file wins
        let first = mid;
        while (first > 0 && ids[first - 1] === id) first--;
        return order ? order[first] : first;
      }
    }
    return -1;
  };

  // --- resolve refs into lines over compact vertex indices ------------------------------------------------
  const vertexOfNode = new Int32Array(nodeId.length).fill(-1);
  const vertexNode = new GrowableArray(Uint32Array, 1 << 16);
  const lineStart = new GrowableArray(Uint32Array, 1 << 12);
  const lineVertices = new GrowableArray(Uint32Array, 1 << 16);
  const lineWayId = new GrowableArray(Float64Array, 1 << 12);
  const lineSecFwd = new GrowableArray(Float64Array, 1 << 12);
  const lineSecBack = new GrowableArray(Float64Array, 1 << 12);
  const areaLines: number[] = [];
  let missingNodeRefs = 0;
  const endLine = (way: number, pieceStart: number) => {
    if (lineVertices.length - pieceStart >= 2) {
      lineStart.push(pieceStart);
      lineWayId.push(wayIds.get(way));
      for (let m = 0; m < modeCount; m++) {
        lineSecFwd.push(waySecFwd.get(way * modeCount + m));
        lineSecBack.push(waySecBack.get(way * modeCount + m));
      }
      return true;
    }
    lineVertices.length = pieceStart; // drop a one-vertex piece
    return false;
  };
  for (let w = 0; w < waysKept; w++) {
    let pieceStart = lineVertices.length;
    let complete = true;
    for (let k = wayStart.get(w); k < wayStart.get(w + 1); k++) {
      const ref = wayRefs.get(k);
      const n = indexOf(ref);
      if (n < 0) {
        complete = false;
        missingNodeRefs++;
        warnings.add('missing-node', `${path}: way ${wayIds.get(w)} references node ${ref}, which is not in the file; the way is split there`, {
          file: path,
          record: `way ${wayIds.get(w)}`,
          field: 'nd',
        });
        endLine(w, pieceStart);
        pieceStart = lineVertices.length;
        continue;
      }
      if (vertexOfNode[n] < 0) {
        vertexOfNode[n] = vertexNode.length;
        vertexNode.push(n);
      }
      lineVertices.push(vertexOfNode[n]);
    }
    if (endLine(w, pieceStart) && complete && wayIsArea.get(w)) areaLines.push(lineStart.length - 1);
  }

  const vertexCount = vertexNode.length;
  const vertexLon = new Float64Array(vertexCount);
  const vertexLat = new Float64Array(vertexCount);
  const vertexOsmId = new Float64Array(vertexCount);
  const vertexBlocked = new Uint8Array(vertexCount);
  for (let v = 0; v < vertexCount; v++) {
    const n = vertexNode.get(v);
    vertexLon[v] = nodeLon.get(n);
    vertexLat[v] = nodeLat.get(n);
    vertexOsmId[v] = nodeId.get(n);
    vertexBlocked[v] = blockedById.get(vertexOsmId[v]) ?? 0;
  }

  const areaLinks = addAreaLinks(areaLines, { lineStart, lineVertices, lineWayId, lineSecFwd, lineSecBack }, vertexLon, vertexLat, modeCount);
  lineStart.push(lineVertices.length);

  const notes: string[] = [];
  const footTypes = FOOT_WAY_TYPES.reduce((n, t) => n + (highwayCounts[t] ?? 0), 0);
  if (footTypes === 0 && (modes.includes('walk') || modes.includes('elderly'))) {
    notes.push(
      'This network has no footways, paths, pedestrian streets or service roads: streets stand in for sidewalks, so walking reach inside large blocks and compounds is pessimistic.',
    );
  }
  if (missingNodeRefs > 0) notes.push(`${missingNodeRefs} way node references were missing from the file (a clipped extract); those ways were split at the gaps.`);

  return {
    raw: {
      source: path,
      sourceKind: 'osm',
      attribution: OSM_ATTRIBUTION,
      notes,
      modes,
      vertexLon,
      vertexLat,
      vertexOsmId,
      vertexBlocked,
      lineStart: lineStart.toArray(),
      lineVertices: lineVertices.toArray(),
      lineWayId: lineWayId.toArray(),
      lineSecPerMFwd: lineSecFwd.toArray(),
      lineSecPerMBack: lineSecBack.toArray(),
    },
    read,
    highwayCounts,
    waysKept,
    missingNodeRefs,
    areaLinks,
  };
}

interface LineColumns {
  lineStart: GrowableArray<Uint32Array>;
  lineVertices: GrowableArray<Uint32Array>;
  lineWayId: GrowableArray<Float64Array>;
  lineSecFwd: GrowableArray<Float64Array>;
  lineSecBack: GrowableArray<Float64Array>;
}

const MAX_AREA_ENTRIES = 40;

/**
 * A pedestrian square (highway=pedestrian + area=yes) is a polygon one may cross in any direction; routing
 * only along its outline would make people walk around it. Link every pair of points where other ways
 * touch the outline with a straight line, if that line stays inside the polygon (it crosses no outline edge
 * and its midpoint is inside), as Valhalla and GraphHopper do in spirit.
 */
function addAreaLinks(areaLines: number[], cols: LineColumns, lon: Float64Array, lat: Float64Array, modeCount: number): number {
  if (areaLines.length === 0) return 0;
  // Called before the closing offset is pushed: line l ends where line l+1 starts, the last at `vertexEnd`.
  const lineCount = cols.lineWayId.length;
  const vertexEnd = cols.lineVertices.length;
  const useCount = new Uint8Array(lon.length);
  for (let l = 0; l < lineCount; l++) {
    const s = cols.lineStart.get(l);
    const e = l + 1 < lineCount ? cols.lineStart.get(l + 1) : vertexEnd;
    for (let k = s; k < e; k++) {
      const v = cols.lineVertices.get(k);
      // a closed ring repeats its first vertex at the end: count it once
      if (k === e - 1 && v === cols.lineVertices.get(s)) continue;
      if (useCount[v] < 255) useCount[v]++;
    }
  }
  let added = 0;
  for (const l of areaLines) {
    const s = cols.lineStart.get(l);
    const e = l + 1 < lineCount ? cols.lineStart.get(l + 1) : vertexEnd;
    const ring: number[] = [];
    for (let k = s; k < e; k++) ring.push(cols.lineVertices.get(k));
    const proj = new LocalProjection(lon[ring[0]], lat[ring[0]]);
    const xs = ring.map((v) => proj.x(lon[v]));
    const ys = ring.map((v) => proj.y(lat[v]));
    const entries: number[] = [];
    for (let i = 0; i < ring.length - 1 && entries.length < MAX_AREA_ENTRIES; i++) if (useCount[ring[i]] >= 2) entries.push(i);
    for (let a = 0; a < entries.length; a++) {
      for (let b = a + 1; b < entries.length; b++) {
        const i = entries[a];
        const j = entries[b];
        if (j === i + 1 || (i === 0 && j === ring.length - 2)) continue; // neighbours on the ring: the outline already links them
        if (!segmentInsideRing(xs, ys, i, j)) continue;
        cols.lineStart.push(cols.lineVertices.length);
        cols.lineVertices.push(ring[i]);
        cols.lineVertices.push(ring[j]);
        cols.lineWayId.push(cols.lineWayId.get(l));
        for (let m = 0; m < modeCount; m++) {
          cols.lineSecFwd.push(cols.lineSecFwd.get(l * modeCount + m));
          cols.lineSecBack.push(cols.lineSecBack.get(l * modeCount + m));
        }
        added++;
      }
    }
  }
  return added;
}

/** Does the straight segment between ring points i and j stay inside the closed ring (xs, ys)? */
function segmentInsideRing(xs: number[], ys: number[], i: number, j: number): boolean {
  const ax = xs[i];
  const ay = ys[i];
  const bx = xs[j];
  const by = ys[j];
  const n = xs.length - 1; // ring is closed: last point repeats the first
  for (let k = 0; k < n; k++) {
    const k2 = k + 1;
    if (k === i || k2 === i || k === j || k2 === j || (k2 === n && (i === 0 || j === 0))) continue;
    if (segmentsCross(ax, ay, bx, by, xs[k], ys[k], xs[k2], ys[k2])) return false;
  }
  return pointInRing((ax + bx) / 2, (ay + by) / 2, xs, ys);
}

function orient(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): number {
  return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
}

function segmentsCross(ax: number, ay: number, bx: number, by: number, cx: number, cy: number, dx: number, dy: number): boolean {
  const d1 = orient(cx, cy, dx, dy, ax, ay);
  const d2 = orient(cx, cy, dx, dy, bx, by);
  const d3 = orient(ax, ay, bx, by, cx, cy);
  const d4 = orient(ax, ay, bx, by, dx, dy);
  return ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0));
}

function pointInRing(x: number, y: number, xs: number[], ys: number[]): boolean {
  let inside = false;
  for (let i = 0, j = xs.length - 1; i < xs.length; j = i++) {
    if (ys[i] > y !== ys[j] > y && x < ((xs[j] - xs[i]) * (y - ys[i])) / (ys[j] - ys[i]) + xs[i]) inside = !inside;
  }
  return inside;
}

import type { Graph, ModeGraph } from '../network/graph.ts';
import { snapPoints, type SnappedPoints } from '../network/snap.ts';
import { accessTimeS, alongChainTimeS, appendSources, arrivalViaEnds } from './reach.ts';
import { ReachEngine, type Cutoff } from './dijkstra.ts';
import { reversedMode } from './reverse.ts';

/**
 * Which way the times run: 'to-facility' (the default: how long a resident needs to get to the nearest
 * facility) searches the reversed graph; 'from-facility' (how far a facility's service reaches, e.g. a
 * home-care team going out) searches the graph as it is. They differ only where the mode meets one-way
 * streets or asymmetric costs; for walking they are the same.
 */
export type FieldDirection = 'to-facility' | 'from-facility';

/**
 * The nearest-facility time field: one multi-source Dijkstra from every facility of a set at once (each
 * entering the network through its snapped foot point), giving every node its time to (or from) the nearest
 * facility and which facility that is. Time for a home is then read off the field through the home's snap.
 */
export interface NearestFacilityField {
  mode: ModeGraph;
  direction: FieldDirection;
  budgetS: number;
  cutoff: Cutoff;
  engine: ReachEngine;
  facilities: SnappedPoints;
  /** Source entry → facility index (a facility enters through up to two entries, one per chain end). */
  entryFacility: Int32Array;
  reachedNodes: number;
}

export function nearestFacilityField(
  graph: Graph,
  mode: ModeGraph,
  facilityLon: ArrayLike<number>,
  facilityLat: ArrayLike<number>,
  budgetS: number,
  options: { maxSnapM?: number; cutoff?: Cutoff; engine?: ReachEngine; direction?: FieldDirection } = {},
): NearestFacilityField {
  return nearestFacilityFieldFromSnaps(graph, mode, snapPoints(graph, mode, facilityLon, facilityLat, options.maxSnapM), budgetS, options);
}

/** `nearestFacilityField` for facilities already snapped (kept by a caller that moves them one at a time). */
export function nearestFacilityFieldFromSnaps(
  graph: Graph,
  mode: ModeGraph,
  facilities: SnappedPoints,
  budgetS: number,
  options: { cutoff?: Cutoff; engine?: ReachEngine; direction?: FieldDirection } = {},
): NearestFacilityField {
  const direction = options.direction ?? 'to-facility';
  const reverse = direction === 'to-facility';
  const nodes: number[] = [];
  const times: number[] = [];
  const owner: number[] = [];
  for (let i = 0; i < facilities.count; i++) {
    const c = facilities.chain[i];
    if (c < 0) continue;
    const added = appendSources(graph, mode, { chain: c, offsetM: facilities.offsetM[i], legM: facilities.legM[i], footLon: NaN, footLat: NaN }, nodes, times, 0, reverse);
    for (let k = 0; k < added; k++) owner.push(i);
  }
  const searched = reverse ? reversedMode(mode) : mode;
  const engine = options.engine && options.engine.graph === searched ? options.engine : new ReachEngine(searched);
  const cutoff = options.cutoff ?? 'inclusive';
  const reachedNodes = engine.run(nodes, times, budgetS, cutoff);
  return { mode, direction, budgetS, cutoff, engine, facilities, entryFacility: Int32Array.from(owner), reachedNodes };
}

/**
 * Time between each snapped point and its nearest facility, in the field's direction (Infinity when none
 * within the budget), and that facility's index (-1).
 */
export function pointTimesFromField(graph: Graph, field: NearestFacilityField, points: SnappedPoints): { timeS: Float64Array; facility: Int32Array } {
  const timeS = new Float64Array(points.count).fill(Infinity);
  const facility = new Int32Array(points.count).fill(-1);
  const { mode, engine, budgetS, cutoff, facilities } = field;
  const reverse = field.direction === 'to-facility';
  // Facilities sharing a chain with a point reach it directly along the chain, not via the chain's ends.
  const onChain = new Map<number, number[]>();
  for (let f = 0; f < facilities.count; f++) {
    const c = facilities.chain[f];
    if (c < 0) continue;
    const list = onChain.get(c);
    if (list) list.push(f);
    else onChain.set(c, [f]);
  }
  for (let i = 0; i < points.count; i++) {
    const c = points.chain[i];
    if (c < 0) continue;
    const viaEnds = arrivalViaEnds(graph, mode, engine.timeS, c, points.offsetM[i], reverse);
    let t = viaEnds.timeS + accessTimeS(mode, points.legM[i]);
    const entry = viaEnds.via >= 0 ? engine.source[viaEnds.via] : -1;
    let best = entry >= 0 ? field.entryFacility[entry] : -1;
    for (const f of onChain.get(c) ?? []) {
      const along = reverse ? alongChainTimeS(mode, c, points.offsetM[i], facilities.offsetM[f]) : alongChainTimeS(mode, c, facilities.offsetM[f], points.offsetM[i]);
      const direct = along + accessTimeS(mode, facilities.legM[f]) + accessTimeS(mode, points.legM[i]);
      if (direct < t) {
        t = direct;
        best = f;
      }
    }
    if (!(cutoff === 'inclusive' ? t <= budgetS : t < budgetS)) continue;
    timeS[i] = t;
    facility[i] = best;
  }
  return { timeS, facility };
}

import type { Graph, ModeGraph } from '../network/graph.ts';
import { snapPoints, type SnappedPoints } from '../network/snap.ts';
import { accessTimeS, appendSources, arrivalViaEnds } from './reach.ts';
import { ReachEngine, type Cutoff } from './dijkstra.ts';

/**
 * The nearest-facility time field: one multi-source Dijkstra from every facility of a set at once (each
 * entering the network through its snapped foot point), giving every node its time to the nearest facility
 * and which facility that is. Time to a home is then read off the field through the home's own snap.
 */
export interface NearestFacilityField {
  mode: ModeGraph;
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
  options: { maxSnapM?: number; cutoff?: Cutoff; engine?: ReachEngine } = {},
): NearestFacilityField {
  const facilities = snapPoints(graph, mode, facilityLon, facilityLat, options.maxSnapM);
  const nodes: number[] = [];
  const times: number[] = [];
  const owner: number[] = [];
  for (let i = 0; i < facilities.count; i++) {
    const c = facilities.chain[i];
    if (c < 0) continue;
    const added = appendSources(graph, mode, { chain: c, offsetM: facilities.offsetM[i], legM: facilities.legM[i], footLon: NaN, footLat: NaN }, nodes, times);
    for (let k = 0; k < added; k++) owner.push(i);
  }
  const engine = options.engine ?? new ReachEngine(mode);
  const cutoff = options.cutoff ?? 'inclusive';
  const reachedNodes = engine.run(nodes, times, budgetS, cutoff);
  return { mode, budgetS, cutoff, engine, facilities, entryFacility: Int32Array.from(owner), reachedNodes };
}

/**
 * Time from each snapped point to its nearest facility (Infinity when none within the budget) and that
 * facility's index (-1). Travel direction: the field runs from facilities outwards, so this is the time
 * from the facility to the home; on a network where every mode may go both ways (walking) it equals the
 * home-to-facility time. For one-way-aware modes (bike) build the field on the reversed question if the
 * direction matters for the analysis.
 */
export function pointTimesFromField(graph: Graph, field: NearestFacilityField, points: SnappedPoints): { timeS: Float64Array; facility: Int32Array } {
  const timeS = new Float64Array(points.count).fill(Infinity);
  const facility = new Int32Array(points.count).fill(-1);
  const { mode, engine, budgetS, cutoff, facilities } = field;
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
    const viaEnds = arrivalViaEnds(graph, mode, engine.timeS, c, points.offsetM[i]);
    let t = viaEnds.timeS + accessTimeS(mode, points.legM[i]);
    const entry = viaEnds.via >= 0 ? engine.source[viaEnds.via] : -1;
    let best = entry >= 0 ? field.entryFacility[entry] : -1;
    for (const f of onChain.get(c) ?? []) {
      const d = points.offsetM[i] - facilities.offsetM[f];
      const along = d >= 0 ? (mode.chainUsable[c] & 1 ? d * mode.chainSecPerMFwd[c] : Infinity) : mode.chainUsable[c] & 2 ? -d * mode.chainSecPerMBack[c] : Infinity;
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

import type { MultiPolygon } from 'geojson';
import type { Graph } from '../network/graph.ts';
import type { ModeName } from '../network/profiles.ts';
import { isSnap, snapPoint, snapPoints, type SnappedPoints } from '../network/snap.ts';
import { ReachEngine } from './dijkstra.ts';
import { travelMatrixFromPairs, twoStepFca } from './accessibility.ts';
import { accessTimeS, alongChainTimeS, appendSources, arrivalViaEnds } from './reach.ts';
import { nearestFacilityField, pointTimesFromField } from './field.ts';
import type { AgeRange, EffectiveRule, UnitLevel } from '../standards/schema.ts';
import { ageBandRange, UNIT_CODE_LENGTH } from '../model/records.ts';
import { BoundaryIndex } from '../geo.ts';

/**
 * The assessment ("unified detection"): every enabled rule of the standards catalogue checked for every unit
 * of its level, with the residents it leaves unserved.
 *
 * - Homes are population zones (buildings, addresses, grid cells) with counts per stored age band. A rule's
 *   target ages are taken from the stored bands by overlap of whole years; a band that only partly overlaps
 *   contributes in proportion to the years it shares (open bands count to age 100), and the result is then
 *   flagged `agesApportioned` (an estimate).
 * - Reach: one multi-source nearest-facility field per (categories, mode), budget = the largest minutes any
 *   rule asks of it, read at every home through its snapped foot point. A home is served when its time is
 *   <= the rule's minutes (inclusive, like the network engine's default). Homes that could not be snapped
 *   are unserved and counted separately (`offNetwork`).
 * - Counts, areas and capacities: facilities belong to the unit whose code they carry, else the unit whose
 *   boundary holds them. Only facilities with status "existing" count unless `statuses` says otherwise (a
 *   plan is re-verified with planned ones included).
 * - Units: a home's unit at a level is the prefix of its unit code (committee 12 digits, sub-district 9,
 *   district 6) when its code is that fine, else the unit whose boundary holds it.
 */

export interface AssessHomes {
  ids: string[];
  lon: Float64Array;
  lat: Float64Array;
  /** The finest unit code known for each home ('' when none). */
  unitCode: string[];
  /** Residents per stored age band ("0-2", "60-79", "all" …), one array over homes per band. */
  bands: Map<string, Float64Array>;
  /** Whether the counts are estimates (disaggregated): flagged on every result that uses them. */
  estimated: boolean;
}

export interface AssessFacilities {
  ids: string[];
  names: (string | null)[];
  category: string[];
  status: string[];
  lon: Float64Array;
  lat: Float64Array;
  unitCode: (string | null)[];
  capacity: Float64Array; // NaN = unknown
  buildingAreaM2: Float64Array; // NaN = unknown
  landAreaM2: Float64Array; // NaN = unknown
}

export interface AssessUnit {
  code: string;
  level: UnitLevel;
  name: string;
  parentCode: string | null;
  boundary: MultiPolygon | null;
}

export interface AssessOptions {
  /** Facility statuses that count (default existing only). */
  statuses?: string[];
  maxSnapM?: number;
  /** Only these unit codes (and units inside them) are reported (default all with residents). */
  within?: string[];
}

export type Verdict = 'pass' | 'fail' | 'not-applicable';

export interface RuleResult {
  ruleId: string;
  kind: EffectiveRule['kind'];
  level: UnitLevel;
  unitCode: string;
  unitName: string;
  verdict: Verdict;
  /** What was measured, in the rule's terms (share 0–1, count, residents per facility, m² per 1,000 …). */
  value: number | null;
  threshold: number;
  /** Residents the rule is about in this unit (target ages), and how many of them it leaves unserved. */
  targetResidents: number;
  unservedResidents: number;
  offNetworkResidents: number;
  facilities: number;
  agesApportioned: boolean;
  estimatedPopulation: boolean;
  note: string | null;
}

export interface Gap {
  ruleId: string;
  unitCode: string;
  unitName: string;
  level: UnitLevel;
  shortfall: number;
  unservedResidents: number;
  /** Unserved homes (reach rules; the GAP_HOMES largest): id, residents of the target ages, time to the nearest facility (Infinity beyond the field's budget) and that facility. */
  homes: Array<{ id: string; lon: number; lat: number; residents: number; nearestTimeS: number; nearestFacility: string | null }>;
  en: string;
  zh: string;
}

export interface AssessmentResult {
  results: RuleResult[];
  gaps: Gap[];
  /** Per home and reach field ("categories|mode"): seconds to the nearest facility (Infinity beyond the budget). */
  homeTimes: Map<string, { budgetS: number; timeS: Float64Array; facility: Int32Array }>;
  /** Rules or parts not evaluated, and why (a rule whose categories no facility has, a catchment variant …). */
  skipped: Array<{ ruleId: string; reason: string }>;
  snapFailures: { homes: number; facilities: number };
}

const NUMBER_FORMAT = new Intl.NumberFormat('en', { maximumFractionDigits: 2 });
/** Unserved homes listed per gap (the largest first); the gap's counts always cover all of them. */
export const GAP_HOMES = 200;

/** The `cap` indices with the largest values (ties by index), largest first. */
function largest(indices: number[], values: Float64Array, cap: number): number[] {
  if (indices.length > cap) {
    const v = Float64Array.from(indices, (i) => values[i]).sort();
    const threshold = v[v.length - cap];
    indices = indices.filter((i) => values[i] >= threshold);
  }
  return indices.sort((a, b) => values[b] - values[a] || a - b).slice(0, cap);
}
const OPEN_AGE = 100;

/** Weight of each stored band for a target age range: the share of the band's years inside the range. */
export function bandWeights(bands: Iterable<string>, ages: AgeRange | undefined): { weights: Map<string, number>; apportioned: boolean } {
  const weights = new Map<string, number>();
  let apportioned = false;
  const all = [...bands];
  // counts for "all" are used only when no finer band exists (a source gives either a total or bands)
  const fine = all.filter((b) => b !== 'all');
  for (const band of fine.length > 0 ? fine : all) {
    const r = ageBandRange(band);
    if (!r) continue;
    const lo = r[0];
    const hi = Math.min(r[1], OPEN_AGE);
    if (!ages) {
      weights.set(band, 1);
      continue;
    }
    const tLo = ages.min;
    const tHi = ages.max === null ? OPEN_AGE : Math.min(ages.max, OPEN_AGE);
    const overlap = Math.min(hi, tHi) - Math.max(lo, tLo) + 1;
    if (overlap <= 0) continue;
    const years = hi - lo + 1;
    const w = Math.min(1, overlap / years);
    if (w < 1) apportioned = true;
    weights.set(band, w);
  }
  return { weights, apportioned };
}

/** Residents of every age per home, by the same band rule as the rules' targets ("all" only when no finer band). */
export function residentsPerHome(homes: AssessHomes): Float64Array {
  const out = new Float64Array(homes.ids.length);
  for (const [band, w] of bandWeights(homes.bands.keys(), undefined).weights) {
    const c = homes.bands.get(band)!;
    for (let i = 0; i < out.length; i++) out[i] += w * c[i];
  }
  return out;
}

export function createAssessment(graph: Graph, rules: EffectiveRule[], homes: AssessHomes, facilities: AssessFacilities, units: AssessUnit[], options: AssessOptions = {}): Assessment {
  const statuses = new Set(options.statuses ?? ['existing']);
  const unitByCode = new Map(units.map((u) => [u.code, u]));
  const nHomes = homes.ids.length;
  const nFac = facilities.ids.length;
  const active = rules.filter((r) => r.enabled);

  // --- units of homes and facilities per level -------------------------------------------------------------
  const locators = new Map<UnitLevel, BoundaryIndex>();
  const locator = (level: UnitLevel) => {
    let l = locators.get(level);
    if (!l) locators.set(level, (l = new BoundaryIndex(units.filter((u) => u.level === level))));
    return l;
  };
  const homeUnits = new Map<UnitLevel, (string | null)[]>();
  const homeUnitAt = (level: UnitLevel) => {
    let a = homeUnits.get(level);
    if (a) return a;
    const len = UNIT_CODE_LENGTH[level];
    a = homes.unitCode.map((c, i) => (c.length >= len ? c.slice(0, len) : locator(level).locate(homes.lon[i], homes.lat[i])));
    homeUnits.set(level, a);
    return a;
  };
  // units with residents of any age, per level (the same for every rule of that level)
  const inhabitedUnits = new Map<UnitLevel, Set<string>>();
  const inhabitedAt = (level: UnitLevel) => {
    let set = inhabitedUnits.get(level);
    if (set) return set;
    const hu = homeUnitAt(level);
    const everyone = targetOf(undefined).counts;
    set = new Set<string>();
    for (let i = 0; i < nHomes; i++) if (hu[i] !== null && everyone[i] > 0) set.add(hu[i]!);
    inhabitedUnits.set(level, set);
    return set;
  };
  const facilityUnits = new Map<UnitLevel, (string | null)[]>();
  const facilityUnitAt = (level: UnitLevel) => {
    let a = facilityUnits.get(level);
    if (a) return a;
    const len = UNIT_CODE_LENGTH[level];
    a = facilities.unitCode.map((c, i) => (c && c.length >= len ? c.slice(0, len) : locator(level).locate(facilities.lon[i], facilities.lat[i])));
    facilityUnits.set(level, a);
    return a;
  };
  const within = options.within;
  // units inside the reported ones (a district only partly inside is not reported: its numbers would be partial)
  const reported = (code: string) => !within || within.some((w) => code.startsWith(w));

  // --- target residents per rule (by age) -------------------------------------------------------------------
  const targetCache = new Map<string, { counts: Float64Array; apportioned: boolean }>();
  const targetOf = (ages: AgeRange | undefined) => {
    const key = ages ? `${ages.min}-${ages.max ?? ''}` : 'all';
    let t = targetCache.get(key);
    if (t) return t;
    const { weights, apportioned } = bandWeights(homes.bands.keys(), ages);
    const counts = new Float64Array(nHomes);
    for (const [band, w] of weights) {
      const c = homes.bands.get(band)!;
      for (let i = 0; i < nHomes; i++) counts[i] += w * c[i];
    }
    targetCache.set(key, (t = { counts, apportioned }));
    return t;
  };

  // --- facility selection ------------------------------------------------------------------------------------
  const facilitiesOf = (categories: readonly string[]) => {
    const set = new Set(categories);
    const out: number[] = [];
    for (let f = 0; f < nFac; f++) if (set.has(facilities.category[f]) && statuses.has(facilities.status[f])) out.push(f);
    return out;
  };

  // --- reach fields: one per (categories, mode), with the largest budget asked of it ---------------------------
  const budgets = new Map<string, { categories: string[]; mode: ModeName; budgetS: number }>();
  const fieldKey = (categories: readonly string[], mode: string) => `${[...categories].sort().join('+')}|${mode}`;
  for (const r of active) {
    if (r.kind !== 'reach') continue;
    const key = fieldKey(r.categories, r.mode);
    const b = budgets.get(key);
    const s = r.minutes * 60;
    if (!b) budgets.set(key, { categories: [...r.categories], mode: r.mode as ModeName, budgetS: s });
    else b.budgetS = Math.max(b.budgetS, s);
  }
  const homeSnaps = new Map<string, SnappedPoints>();
  let homeSnapFailures = 0;
  let facilitySnapFailures = 0;
  const failedFacilities = new Set<number>();
  const homeTimes: AssessmentResult['homeTimes'] = new Map();
  const fieldState = new Map<string, FieldState>();
  for (const [key, b] of budgets) {
    if (!graph.modeNames.includes(b.mode)) continue;
    const mode = graph.mode(b.mode);
    let snaps = homeSnaps.get(b.mode);
    if (!snaps) {
      homeSnaps.set(b.mode, (snaps = snapPoints(graph, mode, homes.lon, homes.lat, options.maxSnapM)));
      homeSnapFailures = Math.max(homeSnapFailures, snaps.failures.length);
    }
    const chosen = facilitiesOf(b.categories);
    if (chosen.length === 0) {
      homeTimes.set(key, { budgetS: b.budgetS, timeS: new Float64Array(nHomes).fill(Infinity), facility: new Int32Array(nHomes).fill(-1) });
      continue;
    }
    const lons = Float64Array.from(chosen, (f) => facilities.lon[f]);
    const lats = Float64Array.from(chosen, (f) => facilities.lat[f]);
    const field = nearestFacilityField(graph, mode, lons, lats, b.budgetS, { maxSnapM: options.maxSnapM });
    for (const x of field.facilities.failures) failedFacilities.add(chosen[x.index]);
    facilitySnapFailures = failedFacilities.size;
    const t = pointTimesFromField(graph, field, snaps);
    // field facility index → global facility index
    const facility = Int32Array.from(t.facility, (i) => (i >= 0 ? chosen[i] : -1));
    homeTimes.set(key, { budgetS: b.budgetS, timeS: t.timeS, facility });
    const fs = field.facilities;
    fieldState.set(key, {
      mode: b.mode, chosen, chain: fs.chain, offsetM: fs.offsetM, legM: fs.legM,
      onChain(c) {
        const out: number[] = [];
        for (let j = 0; j < this.chosen.length; j++) if (this.chain[j] === c) out.push(j);
        return out;
      },
    });
  }

  const unitName = (code: string) => unitByCode.get(code)?.name ?? code;
  const unitsAt = (level: UnitLevel, codes: Iterable<string | null>) => [...new Set([...codes].filter((c): c is string => c !== null && reported(c)))].sort();
  // one formatter for all messages: toLocaleString builds a new one on every call
  const fmt = (x: number) => NUMBER_FORMAT.format(x);
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

  const PARENT_LEVEL: Record<UnitLevel, UnitLevel | null> = { committee: 'subdistrict', subdistrict: 'district', district: null };
  /**
   * The floating-catchment variants ("40 m² of elderly care per 1,000 residents within 1,000 m", "places per
   * child within 10 minutes"): supply and demand meet by 2SFCA (Luo & Wang 2003) on the network, with the
   * pairs from one bounded search per facility (times to the facility, inclusive cutoff):
   *   R_j = S_j / Σ_{i: t_ij ≤ T} D_i,   A_i = Σ_{j: t_ij ≤ T} R_j
   * A unit's value is the residents' mean A (Σ D_i A_i / Σ D_i), × 1,000 for areas per 1,000 residents.
   */
  const evaluateCatchment = (rule: EffectiveRule & { kind: 'area_per_1000' | 'capacity_ratio' }, level: UnitLevel, fallbackNote: string | null, results: RuleResult[], gaps: Gap[], skippedNow: AssessmentResult['skipped']) => {
    const modeName: ModeName = rule.kind === 'capacity_ratio' ? ((rule.mode ?? 'walk') as ModeName) : 'walk';
    if (!graph.modeNames.includes(modeName)) {
      skippedNow.push({ ruleId: rule.id, reason: `the graph has no ${modeName} mode (build it with --modes ${modeName})` });
      return;
    }
    const mode = graph.mode(modeName);
    const budgetS = rule.kind === 'capacity_ratio' ? rule.withinMinutes! * 60 : rule.withinM! / mode.speedMps;
    const target = targetOf(rule.kind === 'capacity_ratio' ? rule.ages : undefined);
    const chosen = facilitiesOf(rule.categories);
    const supply = Float64Array.from(chosen, (f) => {
      const v = rule.kind === 'capacity_ratio' ? facilities.capacity[f] : rule.areaField === 'building' ? facilities.buildingAreaM2[f] : facilities.landAreaM2[f];
      return Number.isNaN(v) ? 0 : v;
    });
    const unknown = chosen.filter((f) => Number.isNaN(rule.kind === 'capacity_ratio' ? facilities.capacity[f] : rule.kind === 'area_per_1000' && rule.areaField === 'building' ? facilities.buildingAreaM2[f] : facilities.landAreaM2[f])).length;
    const snaps = homeSnapsFor(modeName);
    const homesAt = homesByNode(modeName);
    const origin: number[] = [];
    const dest: number[] = [];
    const timeMin: number[] = [];
    let engine: ReachEngine | undefined;
    chosen.forEach((f, j) => {
      const field = nearestFacilityField(graph, mode, [facilities.lon[f]], [facilities.lat[f]], budgetS, { maxSnapM: options.maxSnapM, engine });
      engine = field.engine;
      const c = field.facilities.chain[0];
      if (c < 0) return;
      const candidates = new Set<number>(homesOnChain(modeName, c));
      for (let r = 0; r < field.engine.reachedCount; r++) {
        const n = field.engine.reached[r];
        for (let x = homesAt.offsets[n]; x < homesAt.offsets[n + 1]; x++) candidates.add(homesAt.homes[x]);
      }
      const list = [...candidates].filter((i) => target.counts[i] > 0);
      const subset: SnappedPoints = { count: list.length, chain: Int32Array.from(list, (i) => snaps.chain[i]), offsetM: Float64Array.from(list, (i) => snaps.offsetM[i]), legM: Float64Array.from(list, (i) => snaps.legM[i]), failures: [] };
      const t = pointTimesFromField(graph, field, subset);
      list.forEach((i, x) => {
        if (t.timeS[x] <= budgetS) {
          origin.push(i);
          dest.push(j);
          timeMin.push(t.timeS[x] / 60);
        }
      });
    });
    const matrix = travelMatrixFromPairs(nHomes, chosen.length, Uint32Array.from(origin), Uint32Array.from(dest), Float64Array.from(timeMin));
    const fca = twoStepFca(matrix, target.counts, supply, { cutoffMin: budgetS / 60 + 1e-9 });
    const hu = homeUnitAt(level);
    const byUnit = new Map<string, { demand: number; supplied: number; uncovered: number }>();
    for (let i = 0; i < nHomes; i++) {
      const code = hu[i];
      if (code === null || target.counts[i] <= 0) continue;
      const u = byUnit.get(code) ?? { demand: 0, supplied: 0, uncovered: 0 };
      u.demand += target.counts[i];
      u.supplied += target.counts[i] * fca.access[i];
      if (fca.access[i] === 0) u.uncovered += target.counts[i];
      byUnit.set(code, u);
    }
    const per = rule.kind === 'area_per_1000' ? 1000 : 1;
    const threshold = rule.kind === 'area_per_1000' ? rule.minAreaM2Per1000 : rule.minPlacesPerTarget;
    for (const code of [...byUnit.keys()].filter(reported).sort()) {
      const u = byUnit.get(code)!;
      const value = (u.supplied / u.demand) * per;
      const verdict: Verdict = value >= threshold - 1e-12 ? 'pass' : 'fail';
      const note = [fallbackNote, `2SFCA on the ${modeName} network within ${rule.kind === 'area_per_1000' ? `${rule.withinM} m` : `${rule.withinMinutes} min`}`, unknown > 0 ? `${unknown} of ${chosen.length} facilities have no ${rule.kind === 'capacity_ratio' ? 'capacity' : 'area'} in the data: counted as 0` : null].filter(Boolean).join('; ');
      results.push({ ruleId: rule.id, kind: rule.kind, level, unitCode: code, unitName: unitName(code), estimatedPopulation: homes.estimated, verdict, value, threshold, targetResidents: u.demand, unservedResidents: u.uncovered, offNetworkResidents: 0, facilities: chosen.length, agesApportioned: target.apportioned, note });
      if (verdict === 'fail') {
        const what = rule.kind === 'area_per_1000' ? `${fmt(value)} m² per 1,000 residents within reach (norm ${fmt(threshold)})` : `${fmt(value)} places per target resident within reach (norm ${fmt(threshold)})`;
        const whatZh = rule.kind === 'area_per_1000' ? `可达范围内每千人 ${fmt(value)} m²（标准 ${fmt(threshold)}）` : `可达范围内每名目标居民 ${fmt(value)} 个床位/学位（标准 ${fmt(threshold)}）`;
        gaps.push({ ruleId: rule.id, unitCode: code, unitName: unitName(code), level, shortfall: (threshold - value) / threshold, unservedResidents: u.uncovered, homes: [], en: `${unitName(code)}: ${what}; ${fmt(Math.round(u.uncovered))} residents reach none.`, zh: `${unitName(code)}：${whatZh}；${fmt(Math.round(u.uncovered))} 人无可达设施。` });
      }
    }
  };
  const homeSnapsFor = (modeName: ModeName): SnappedPoints => {
    let snaps = homeSnaps.get(modeName);
    if (!snaps) homeSnaps.set(modeName, (snaps = snapPoints(graph, graph.mode(modeName), homes.lon, homes.lat, options.maxSnapM)));
    return snaps;
  };

  const evaluateRule = (rule: EffectiveRule, results: RuleResult[], gaps: Gap[], skipped: AssessmentResult['skipped']): void => {
    // A level no home can be placed in (committees without codes or boundaries in the data) falls back to
    // the level above, and every result says so.
    let level: UnitLevel = rule.unitLevel;
    let fallbackNote: string | null = null;
    while (homeUnitAt(level).every((c) => c === null) && PARENT_LEVEL[level]) {
      const up: UnitLevel = PARENT_LEVEL[level]!;
      fallbackNote = `evaluated per ${up}: no home could be placed in a ${rule.unitLevel} (no codes or boundaries in the data)`;
      level = up;
    }
    const hu = homeUnitAt(level);
    const catsKnown = facilitiesOf(rule.categories);
    if (catsKnown.length === 0) {
      // Every unit would fail for want of data rather than of facilities: say so once instead.
      skipped.push({ ruleId: rule.id, reason: `not evaluated: the project has no ${rule.categories.join(' / ')} (status ${[...statuses].join('/')}); import them (or check the source's coverage) and run again` });
      return;
    }
    const base = (code: string) => ({ ruleId: rule.id, kind: rule.kind, level, unitCode: code, unitName: unitName(code), estimatedPopulation: homes.estimated });
    switch (rule.kind) {
      case 'reach': {
        const key = fieldKey(rule.categories, rule.mode);
        const times = homeTimes.get(key);
        if (!times) {
          skipped.push({ ruleId: rule.id, reason: `the graph has no ${rule.mode} mode (build it with --modes ${rule.mode})` });
          return;
        }
        const target = targetOf(rule.ages);
        const limitS = rule.minutes * 60;
        const snaps = homeSnaps.get(rule.mode)!;
        const byUnit = new Map<string, { target: number; served: number; off: number; homes: number[] }>();
        for (let i = 0; i < nHomes; i++) {
          const code = hu[i];
          const n = target.counts[i];
          if (code === null || n <= 0) continue;
          let u = byUnit.get(code);
          if (!u) byUnit.set(code, (u = { target: 0, served: 0, off: 0, homes: [] }));
          u.target += n;
          if (times.timeS[i] <= limitS) u.served += n;
          else {
            u.homes.push(i);
            if (snaps.chain[i] < 0) u.off += n;
          }
        }
        for (const code of unitsAt(level, byUnit.keys())) {
          const u = byUnit.get(code)!;
          const share = u.served / u.target;
          const pass = share >= rule.targetShare - 1e-12;
          const unserved = u.target - u.served;
          results.push({ ...base(code), verdict: pass ? 'pass' : 'fail', value: share, threshold: rule.targetShare, targetResidents: u.target, unservedResidents: unserved, offNetworkResidents: u.off, facilities: catsKnown.length, agesApportioned: target.apportioned, note: fallbackNote });
          if (!pass) {
            const who = rule.ages ? `aged ${rule.ages.min}${rule.ages.max === null ? '+' : `-${rule.ages.max}`}` : '';
            const whoZh = rule.ages ? `${rule.ages.min}${rule.ages.max === null ? '岁以上' : `-${rule.ages.max}岁`}` : '';
            const modeZh = { walk: '步行', elderly: '老年人步行', bike: '骑行' }[rule.mode];
            // Kept as indices, turned into objects only when read: a city has millions of unserved homes
            // across its gaps, and objects for all of them cost more than the rest of the result.
            const listed = Int32Array.from(largest(u.homes, target.counts, GAP_HOMES));
            const nearestS = Float64Array.from(listed, (i) => times.timeS[i]);
            const nearestF = Int32Array.from(listed, (i) => times.facility[i]);
            const counts = target.counts;
            gaps.push({
              ruleId: rule.id, unitCode: code, unitName: unitName(code), level, shortfall: rule.targetShare - share, unservedResidents: unserved,
              get homes() {
                return Array.from(listed, (i, k) => ({ id: homes.ids[i], lon: homes.lon[i], lat: homes.lat[i], residents: counts[i], nearestTimeS: nearestS[k], nearestFacility: nearestF[k] >= 0 ? facilities.ids[nearestF[k]] : null }));
              },
              en: `${unitName(code)}: ${pct(share)} of ${fmt(Math.round(u.target))} residents ${who} reach a ${rule.categories.join(' / ')} within ${rule.minutes} min by ${rule.mode} (target ${pct(rule.targetShare)}); ${fmt(Math.round(unserved))} do not${u.off > 0 ? ` (${fmt(Math.round(u.off))} of them live off the network)` : ''}.`,
              zh: `${unitName(code)}：${whoZh}居民 ${fmt(Math.round(u.target))} 人中 ${pct(share)} 可在${modeZh} ${rule.minutes} 分钟内到达${rule.categories.join('、')}（目标 ${pct(rule.targetShare)}），${fmt(Math.round(unserved))} 人未覆盖${u.off > 0 ? `（其中 ${fmt(Math.round(u.off))} 人不在路网上）` : ''}。`,
            });
          }
        }
        break;
      }
      case 'count_per_unit':
      case 'population_per_facility':
      case 'area_per_1000':
      case 'per_capita_area':
      case 'capacity_ratio': {
        if ((rule.kind === 'area_per_1000' && rule.withinM !== undefined) || (rule.kind === 'capacity_ratio' && rule.withinMinutes !== undefined)) {
          evaluateCatchment(rule, level, fallbackNote, results, gaps, skipped);
          return;
        }
        const fu = facilityUnitAt(level);
        const ages = rule.kind === 'capacity_ratio' ? rule.ages : undefined;
        const target = targetOf(ages);
        const residents = new Map<string, number>();
        for (let i = 0; i < nHomes; i++) if (hu[i] !== null && target.counts[i] > 0) residents.set(hu[i]!, (residents.get(hu[i]!) ?? 0) + target.counts[i]);
        const count = new Map<string, number>();
        const amount = new Map<string, number>();
        const unknown = new Map<string, number>();
        for (const f of catsKnown) {
          const code = fu[f];
          if (code === null) continue;
          count.set(code, (count.get(code) ?? 0) + 1);
          const v = rule.kind === 'capacity_ratio' ? facilities.capacity[f] : rule.kind === 'area_per_1000' || rule.kind === 'per_capita_area' ? (rule.areaField === 'building' ? facilities.buildingAreaM2[f] : facilities.landAreaM2[f]) : 0;
          if (Number.isNaN(v)) unknown.set(code, (unknown.get(code) ?? 0) + 1);
          else amount.set(code, (amount.get(code) ?? 0) + v);
        }
        const committees = new Map<string, number>();
        if (rule.kind === 'count_per_unit' && rule.perCommittees !== undefined) {
          for (const u of units) if (u.level === 'committee') {
            const parent = u.code.slice(0, UNIT_CODE_LENGTH[level]);
            committees.set(parent, (committees.get(parent) ?? 0) + 1);
          }
        }
        // every unit with residents of any age is reported (not-applicable when none of the target ages live there)
        const codes = unitsAt(level, [...inhabitedAt(level), ...residents.keys(), ...(rule.kind === 'count_per_unit' ? units.filter((u) => u.level === level).map((u) => u.code) : [])]);
        let passing = 0;
        for (const code of codes) {
          const pop = residents.get(code) ?? 0;
          const n = count.get(code) ?? 0;
          const a = amount.get(code) ?? 0;
          const missing = unknown.get(code) ?? 0;
          let value: number | null;
          let threshold: number;
          let verdict: Verdict;
          let shortfallText = '';
          let shortfallZh = '';
          let note: string | null = missing > 0 ? `${missing} of ${n} facilities have no ${rule.kind === 'capacity_ratio' ? 'capacity' : 'area'} in the data: counted as 0` : null;
          if (rule.kind === 'count_per_unit') {
            const c = committees.get(code) ?? 0;
            threshold = rule.perCommittees !== undefined ? rule.minCount * Math.max(1, Math.ceil(c / rule.perCommittees)) : rule.minCount;
            value = n;
            verdict = n >= threshold ? 'pass' : 'fail';
            shortfallText = `${n} ${rule.categories.join(' / ')} where ${threshold} are required${rule.perCommittees !== undefined ? ` (${rule.minCount} per ${rule.perCommittees} committees, ${c} committees)` : ''}`;
            shortfallZh = `现有${rule.categories.join('、')} ${n} 处，应有 ${threshold} 处`;
            if (rule.perCommittees !== undefined && c === 0) note = 'no committees of this unit in the project: one set required';
          } else if (pop <= 0) {
            results.push({ ...base(code), verdict: 'not-applicable', value: null, threshold: 0, targetResidents: 0, unservedResidents: 0, offNetworkResidents: 0, facilities: n, agesApportioned: target.apportioned, note: 'no target residents' });
            continue;
          } else if (rule.kind === 'population_per_facility') {
            threshold = rule.maxResidentsPerFacility;
            value = n > 0 ? pop / n : Infinity;
            verdict = value <= threshold ? 'pass' : 'fail';
            const need = Math.ceil(pop / threshold);
            shortfallText = `${fmt(Math.round(pop))} residents share ${n} ${rule.categories.join(' / ')} (at most ${fmt(threshold)} per facility: ${need} needed)`;
            shortfallZh = `${fmt(Math.round(pop))} 名居民共用 ${n} 处${rule.categories.join('、')}（每处至多 ${fmt(threshold)} 人，需 ${need} 处）`;
          } else if (rule.kind === 'area_per_1000') {
            threshold = rule.minAreaM2Per1000;
            value = (a / pop) * 1000;
            verdict = value >= threshold ? 'pass' : 'fail';
            shortfallText = `${fmt(value)} m² of ${rule.areaField} area per 1,000 residents (norm ${fmt(threshold)}: ${fmt(Math.max(0, (threshold * pop) / 1000 - a))} m² short)`;
            shortfallZh = `每千人${rule.areaField === 'building' ? '建筑' : '用地'}面积 ${fmt(value)} m²（标准 ${fmt(threshold)}，缺 ${fmt(Math.max(0, (threshold * pop) / 1000 - a))} m²）`;
          } else if (rule.kind === 'per_capita_area') {
            threshold = rule.minM2PerResident;
            value = a / pop;
            verdict = value >= threshold ? 'pass' : 'fail';
            shortfallText = `${fmt(value)} m² per resident (norm ${fmt(threshold)}: ${fmt(Math.max(0, threshold * pop - a))} m² short)`;
            shortfallZh = `人均 ${fmt(value)} m²（标准 ${fmt(threshold)}，缺 ${fmt(Math.max(0, threshold * pop - a))} m²）`;
          } else {
            threshold = rule.minPlacesPerTarget;
            value = a / pop;
            verdict = value >= threshold ? 'pass' : 'fail';
            shortfallText = `${fmt(value)} places per resident aged ${rule.ages.min}${rule.ages.max === null ? '+' : `-${rule.ages.max}`} (norm ${fmt(threshold)}: ${fmt(Math.max(0, Math.ceil(threshold * pop - a)))} places short)`;
            shortfallZh = `每名目标年龄居民 ${fmt(value)} 个床位/学位（标准 ${fmt(threshold)}，缺 ${fmt(Math.max(0, Math.ceil(threshold * pop - a)))} 个）`;
          }
          if (verdict === 'pass') passing++;
          results.push({ ...base(code), verdict, value, threshold, targetResidents: pop, unservedResidents: 0, offNetworkResidents: 0, facilities: n, agesApportioned: target.apportioned, note: [fallbackNote, note].filter(Boolean).join('; ') || null });
          if (verdict === 'fail') {
            gaps.push({ ruleId: rule.id, unitCode: code, unitName: unitName(code), level, shortfall: value === null || !Number.isFinite(value) ? 1 : Math.abs(threshold - value) / threshold, unservedResidents: 0, homes: [], en: `${unitName(code)}: ${shortfallText}.`, zh: `${unitName(code)}：${shortfallZh}。` });
          }
        }
        if (rule.kind === 'count_per_unit' && rule.unitShare !== undefined && codes.length > 0) {
          const share = passing / codes.length;
          results.push({ ruleId: rule.id, kind: rule.kind, level, unitCode: '*', unitName: `all ${level} units`, estimatedPopulation: false, verdict: share >= rule.unitShare - 1e-12 ? 'pass' : 'fail', value: share, threshold: rule.unitShare, targetResidents: 0, unservedResidents: 0, offNetworkResidents: 0, facilities: catsKnown.length, agesApportioned: false, note: `${passing} of ${codes.length} units pass` });
        }
        break;
      }
      case 'rail_bus_share': {
        const stations = catsKnown;
        const stops = facilitiesOf(rule.busCategories);
        if (!graph.modeNames.includes('walk')) {
          skipped.push({ ruleId: rule.id, reason: 'the graph has no walk mode' });
          return;
        }
        const mode = graph.mode('walk');
        const budgetS = rule.withinM / mode.speedMps;
        const stationSnaps = snapPoints(graph, mode, Float64Array.from(stations, (f) => facilities.lon[f]), Float64Array.from(stations, (f) => facilities.lat[f]), options.maxSnapM);
        let near: Float64Array = new Float64Array(stations.length).fill(Infinity);
        if (stops.length > 0) {
          const field = nearestFacilityField(graph, mode, Float64Array.from(stops, (f) => facilities.lon[f]), Float64Array.from(stops, (f) => facilities.lat[f]), budgetS, { maxSnapM: options.maxSnapM });
          near = pointTimesFromField(graph, field, stationSnaps).timeS;
        }
        const fu = facilityUnitAt(level);
        const byUnit = new Map<string, { n: number; ok: number }>();
        stations.forEach((f, k) => {
          const code = fu[f];
          if (code === null) return;
          const u = byUnit.get(code) ?? { n: 0, ok: 0 };
          u.n++;
          if (near[k] <= budgetS) u.ok++;
          byUnit.set(code, u);
        });
        for (const code of unitsAt(level, byUnit.keys())) {
          const u = byUnit.get(code)!;
          const share = u.ok / u.n;
          const verdict: Verdict = share >= rule.targetShare - 1e-12 ? 'pass' : 'fail';
          results.push({ ...base(code), estimatedPopulation: false, verdict, value: share, threshold: rule.targetShare, targetResidents: 0, unservedResidents: 0, offNetworkResidents: 0, facilities: u.n, agesApportioned: false, note: `${u.ok} of ${u.n} stations have a bus stop within ${rule.withinM} m of walking` });
          if (verdict === 'fail') gaps.push({ ruleId: rule.id, unitCode: code, unitName: unitName(code), level, shortfall: rule.targetShare - share, unservedResidents: 0, homes: [], en: `${unitName(code)}: ${u.n - u.ok} of ${u.n} rail stations have no bus stop within ${rule.withinM} m walk.`, zh: `${unitName(code)}：${u.n} 个轨交站点中 ${u.n - u.ok} 个步行 ${rule.withinM} 米内无公交站。` });
        }
        break;
      }
    }
  };

  // --- results per rule, kept so that a change re-evaluates only the rules it touches -------------------------
  const perRule = new Map<string, { results: RuleResult[]; gaps: Gap[]; skipped: AssessmentResult['skipped'] }>();
  const evaluate = (rule: EffectiveRule) => {
    const out = { results: [] as RuleResult[], gaps: [] as Gap[], skipped: [] as AssessmentResult['skipped'] };
    evaluateRule(rule, out.results, out.gaps, out.skipped);
    perRule.set(rule.id, out);
  };
  const collect = (): AssessmentResult => {
    const all = active.map((r) => perRule.get(r.id)!);
    return { results: all.flatMap((x) => x.results), gaps: all.flatMap((x) => x.gaps), homeTimes, skipped: all.flatMap((x) => x.skipped), snapFailures: { homes: homeSnapFailures, facilities: facilitySnapFailures } };
  };
  /**
   * Moves facility f to (lon, lat) and recomputes only what it touches. For each reach field with f in it:
   * homes whose nearest facility was f are recomputed exactly (a bounded search from each home over the
   * facilities it reaches); homes the new position may serve better are found by one bounded search from
   * that position and updated when it is nearer. Then the rules on f's category are evaluated again. The
   * result equals a full run on the moved inputs (test/analysis/assess.test.ts checks this).
   */
  const moveFacility = (f: number, lon: number, lat: number) => {
    facilities.lon[f] = lon;
    facilities.lat[f] = lat;
    for (const [level, a] of facilityUnits) {
      const c = facilities.unitCode[f];
      const len = UNIT_CODE_LENGTH[level];
      a[f] = c && c.length >= len ? c.slice(0, len) : locator(level).locate(lon, lat);
    }
    let homesRecomputed = 0;
    const category = facilities.category[f];
    for (const [key, state] of fieldState) {
      if (!state.chosen.includes(f)) continue;
      homesRecomputed += updateField(key, state, f);
    }
    const touched = active.filter((r) => r.categories.includes(category) || (r.kind === 'rail_bus_share' && r.busCategories.includes(category)));
    for (const rule of touched) evaluate(rule);
    return { result: collect(), homesRecomputed, rulesReevaluated: touched.length };
  };

  /** Updates one reach field after facility f moved; returns how many homes were recomputed. */
  const updateField = (key: string, state: FieldState, f: number): number => {
    const times = homeTimes.get(key)!;
    const mode = graph.mode(state.mode);
    const snaps = homeSnaps.get(state.mode)!;
    const k = state.chosen.indexOf(f);
    const moved = snapPoint(graph, mode, facilities.lon[f], facilities.lat[f], options.maxSnapM);
    state.chain[k] = isSnap(moved) ? moved.chain : -1;
    state.offsetM[k] = isSnap(moved) ? moved.offsetM : 0;
    state.legM[k] = isSnap(moved) ? moved.legM : 0;
    // facilities by the end nodes of their chains, for the searches from homes
    const byNode = new Map<number, number[]>();
    for (let j = 0; j < state.chosen.length; j++) {
      const c = state.chain[j];
      if (c < 0) continue;
      for (const n of [graph.chainFrom[c], graph.chainTo[c]]) {
        const list = byNode.get(n);
        if (list) list.push(j);
        else byNode.set(n, [j]);
      }
    }
    const engine = (state.forward ??= new ReachEngine(mode));
    let recomputed = 0;
    // 1. homes that had f as their nearest: search from each home
    for (let i = 0; i < nHomes; i++) {
      if (times.facility[i] !== f) continue;
      recomputed++;
      const c = snaps.chain[i];
      const nodes: number[] = [];
      const ts: number[] = [];
      appendSources(graph, mode, { chain: c, offsetM: snaps.offsetM[i], legM: snaps.legM[i], footLon: NaN, footLat: NaN }, nodes, ts, 0, false);
      engine.run(nodes, ts, times.budgetS, 'inclusive');
      let best = Infinity;
      let bestJ = -1;
      const consider = (j: number) => {
        const fc = state.chain[j];
        if (fc < 0) return;
        let t = arrivalViaEnds(graph, mode, engine.timeS, fc, state.offsetM[j], false).timeS + accessTimeS(mode, state.legM[j]);
        if (fc === c) t = Math.min(t, alongChainTimeS(mode, c, snaps.offsetM[i], state.offsetM[j]) + accessTimeS(mode, snaps.legM[i]) + accessTimeS(mode, state.legM[j]));
        if (t < best || (t === best && j < bestJ)) {
          best = t;
          bestJ = j;
        }
      };
      for (let r = 0; r < engine.reachedCount; r++) for (const j of byNode.get(engine.reached[r]) ?? []) consider(j);
      for (const j of state.onChain(c)) consider(j);
      if (best <= times.budgetS) {
        times.timeS[i] = best;
        times.facility[i] = state.chosen[bestJ];
      } else {
        times.timeS[i] = Infinity;
        times.facility[i] = -1;
      }
    }
    // 2. homes the new position may serve better: one bounded search from it on the reversed graph
    if (state.chain[k] >= 0) {
      const field = nearestFacilityField(graph, mode, [facilities.lon[f]], [facilities.lat[f]], times.budgetS, { maxSnapM: options.maxSnapM, engine: state.reverse });
      state.reverse = field.engine;
      const candidates = new Set<number>();
      const homesAt = homesByNode(state.mode);
      for (let r = 0; r < field.engine.reachedCount; r++) {
        const n = field.engine.reached[r];
        for (let x = homesAt.offsets[n]; x < homesAt.offsets[n + 1]; x++) candidates.add(homesAt.homes[x]);
      }
      for (const i of homesOnChain(state.mode, state.chain[k])) candidates.add(i);
      const list = [...candidates];
      const subset: SnappedPoints = { count: list.length, chain: Int32Array.from(list, (i) => snaps.chain[i]), offsetM: Float64Array.from(list, (i) => snaps.offsetM[i]), legM: Float64Array.from(list, (i) => snaps.legM[i]), failures: [] };
      const t = pointTimesFromField(graph, field, subset);
      list.forEach((i, x) => {
        if (t.timeS[x] <= times.budgetS && (t.timeS[x] < times.timeS[i] || (t.timeS[x] === times.timeS[i] && f < times.facility[i]))) {
          times.timeS[i] = t.timeS[x];
          times.facility[i] = f;
        }
      });
      recomputed += list.length;
    }
    return recomputed;
  };

  // homes by the end nodes of their chains (CSR over nodes), per mode, built on first use
  const homeIndex = new Map<string, { offsets: Uint32Array; homes: Uint32Array; byChain: Map<number, number[]> }>();
  const buildHomeIndex = (modeName: string) => {
    let idx = homeIndex.get(modeName);
    if (idx) return idx;
    const snaps = homeSnapsFor(modeName as ModeName);
    const offsets = new Uint32Array(graph.nodeCount + 1);
    const byChain = new Map<number, number[]>();
    for (let i = 0; i < nHomes; i++) {
      const c = snaps.chain[i];
      if (c < 0) continue;
      offsets[graph.chainFrom[c] + 1]++;
      offsets[graph.chainTo[c] + 1]++;
      const l = byChain.get(c);
      if (l) l.push(i);
      else byChain.set(c, [i]);
    }
    for (let n = 0; n < graph.nodeCount; n++) offsets[n + 1] += offsets[n];
    const fill = offsets.slice(0, graph.nodeCount);
    const list = new Uint32Array(offsets[graph.nodeCount]);
    for (let i = 0; i < nHomes; i++) {
      const c = snaps.chain[i];
      if (c < 0) continue;
      list[fill[graph.chainFrom[c]]++] = i;
      list[fill[graph.chainTo[c]]++] = i;
    }
    homeIndex.set(modeName, (idx = { offsets, homes: list, byChain }));
    return idx;
  };
  const homesByNode = (modeName: string) => buildHomeIndex(modeName);
  const homesOnChain = (modeName: string, chain: number) => buildHomeIndex(modeName).byChain.get(chain) ?? [];

  for (const rule of active) evaluate(rule);
  return { result: collect(), moveFacility };
}

/** The whole assessment in one call (see createAssessment for runs that change a facility afterwards). */
export function assess(graph: Graph, rules: EffectiveRule[], homes: AssessHomes, facilities: AssessFacilities, units: AssessUnit[], options: AssessOptions = {}): AssessmentResult {
  return createAssessment(graph, rules, homes, facilities, units, options).result;
}

interface FieldState {
  mode: ModeName;
  /** Global facility indices of the field, and their snaps (kept up to date as facilities move). */
  chosen: number[];
  chain: Int32Array;
  offsetM: Float64Array;
  legM: Float64Array;
  onChain: (chain: number) => number[];
  forward?: ReachEngine;
  reverse?: ReachEngine;
}

/**
 * An assessment that can be updated: `result` is the full run; `moveFacility` changes one facility's
 * position and returns the updated result, recomputing only the homes and rules it affects.
 */
export interface Assessment {
  result: AssessmentResult;
  moveFacility(index: number, lon: number, lat: number): { result: AssessmentResult; homesRecomputed: number; rulesReevaluated: number };
}

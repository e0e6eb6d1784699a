import type { MultiPolygon } from 'geojson';
import type { Graph, ModeGraph } from '../network/graph.ts';
import type { ModeName } from '../network/profiles.ts';
import { isSnap, snapPoint, snapPoints, snapPointsLike, type SnapFailure, type SnappedPoints } from '../network/snap.ts';
import { ReachEngine } from './dijkstra.ts';
import { travelMatrixFromPairs, twoStepFca } from './accessibility.ts';
import { accessTimeS, alongChainTimeS, appendSources, arrivalViaEnds } from './reach.ts';
import { nearestFacilityFieldFromSnaps, pointTimesFromField } from './field.ts';
import { reversedMode } from './reverse.ts';
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
 * - State: each rule keeps one result slot per unit, and every sum runs over a unit's homes (or facilities)
 *   in index order; a moved facility (createAssessment → moveFacility) recomputes the slots of the units it
 *   touches in that same order, so the numbers equal a full run's on the moved inputs.
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
  readonly homes: Array<{ id: string; lon: number; lat: number; residents: number; nearestTimeS: number; nearestFacility: string | null }>;
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
  /** Units the data leaves partly unassessable, and why: no residents in the population data, or no street near any of their homes. */
  unitIssues: UnitIssue[];
  snapFailures: { homes: number; facilities: number };
}

export interface UnitIssue {
  unitCode: string;
  unitName: string;
  level: UnitLevel;
  kind: 'no-residents' | 'off-network';
  en: string;
  zh: string;
}

const NUMBER_FORMAT = new Intl.NumberFormat('en', { maximumFractionDigits: 2 });
/** Unserved homes listed per gap (the largest first); the gap's counts always cover all of them. */
export const GAP_HOMES = 200;

/**
 * The `cap` indices with the largest values, largest first (ties by index); `indices` ascending. Insertion
 * sort over a typed array for the usual short lists (a sort with a comparator closure cost ~1 s over a city's
 * 200,000 gaps).
 */
function largest(indices: ArrayLike<number>, count: number, values: Float64Array, cap: number): Int32Array {
  let out = Int32Array.from({ length: count }, (_, x) => indices[x]);
  if (count > cap) {
    const v = Float64Array.from(out, (i) => values[i]).sort();
    const threshold = v[v.length - cap];
    out = out.filter((i) => values[i] >= threshold);
  }
  if (out.length <= 256) {
    for (let a = 1; a < out.length; a++) {
      const x = out[a];
      const vx = values[x];
      let b = a - 1;
      // the input is ascending, so equal values keep index order (stable)
      while (b >= 0 && values[out[b]] < vx) {
        out[b + 1] = out[b];
        b--;
      }
      out[b + 1] = x;
    }
  } else {
    out = Int32Array.from(Array.from(out).sort((a, b) => values[b] - values[a] || a - b));
  }
  return out.length > cap ? out.slice(0, cap) : out;
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

/** Homes placed in the units of one level: the units' codes (sorted), each home's unit, and the homes of each unit (CSR, ascending). */
interface LevelIndex {
  codes: string[];
  position: Map<string, number>;
  /** Unit index per home (-1: the home is in no unit of this level). */
  homeUnit: Int32Array;
  start: Uint32Array;
  homes: Uint32Array;
}

/** What one rule produced; `gapOf[k]` is the gap of `results[k]` (or null), so a unit's pair can be replaced in place. */
interface RuleOutput {
  results: RuleResult[];
  gapOf: (Gap | null)[];
  skipped: AssessmentResult['skipped'];
  /** For rules updated unit by unit (reach, catchment): the result slot of each unit of the level (-1: none). */
  slotOfUnit?: Int32Array;
  /** Recomputes unit u's result and gap from the current state. */
  unit?: (u: number) => [RuleResult, Gap | null];
  /** For counts, areas and capacities per unit: the slot of each unit code, and how to tally and evaluate one again. */
  slotOfCode?: Map<string, number>;
  byCode?: { recount(code: string): void; evaluate(code: string): [RuleResult, Gap | null]; summary(): RuleResult | null };
  /** The slot of the "share of units passing" result, when the rule has one. */
  summarySlot?: number;
}

/** What a reach gap needs to describe itself: shared by all gaps of one rule. */
interface ReachGapContext {
  homes: AssessHomes;
  facilities: AssessFacilities;
  counts: Float64Array;
  describe(unitName: string, share: number, target: number, unserved: number, off: number): { en: string; zh: string };
}

/**
 * A reach gap. A city has ~200,000 of them and millions of unserved homes across them, so each keeps only
 * numbers (the listed homes in one typed array; its figures) and makes the home objects and its sentences
 * when they are read.
 */
class UnservedHomesGap implements Gap {
  readonly #listed: Float64Array; // [home indices …, nearest times …, nearest facility indices …]
  readonly #context: ReachGapContext;
  readonly #share: number;
  readonly #target: number;
  readonly #off: number;
  constructor(
    readonly ruleId: string,
    readonly unitCode: string,
    readonly unitName: string,
    readonly level: UnitLevel,
    readonly shortfall: number,
    readonly unservedResidents: number,
    figures: { share: number; target: number; off: number },
    listed: Float64Array,
    context: ReachGapContext,
  ) {
    this.#listed = listed;
    this.#context = context;
    this.#share = figures.share;
    this.#target = figures.target;
    this.#off = figures.off;
  }
  get homes(): Gap['homes'] {
    const k = this.#listed.length / 3;
    const { homes, facilities, counts } = this.#context;
    const out: Gap['homes'] = [];
    for (let x = 0; x < k; x++) {
      const i = this.#listed[x];
      const f = this.#listed[2 * k + x];
      out.push({ id: homes.ids[i], lon: homes.lon[i], lat: homes.lat[i], residents: counts[i], nearestTimeS: this.#listed[k + x], nearestFacility: f >= 0 ? facilities.ids[f] : null });
    }
    return out;
  }
  get en(): string {
    return this.#context.describe(this.unitName, this.#share, this.#target, this.unservedResidents, this.#off).en;
  }
  get zh(): string {
    return this.#context.describe(this.unitName, this.#share, this.#target, this.unservedResidents, this.#off).zh;
  }
  toJSON(): Gap {
    const { ruleId, unitCode, unitName, level, shortfall, unservedResidents, en, zh } = this;
    return { ruleId, unitCode, unitName, level, shortfall, unservedResidents, homes: this.homes, en, zh };
  }
}

/** State of a floating-catchment rule, kept so that a moved facility updates only its own catchment. */
interface CatchmentState {
  modeName: ModeName;
  budgetS: number;
  chosen: number[];
  /** Position of each global facility index in `chosen` (-1: not in this rule). */
  slotOf: Int32Array;
  counts: Float64Array;
  supply: Float64Array;
  /** The homes within reach of each facility (ascending) and the facilities within reach of each home (ascending). */
  column: (j: number) => Uint32Array;
  row: (i: number) => Uint32Array;
  columnOverride: Map<number, Uint32Array>;
  rowOverride: Map<number, Uint32Array>;
  /** R_j (0 where no demand reaches j) and A_i, as twoStepFca computes them. */
  ratio: Float64Array;
  access: Float64Array;
}

export function createAssessment(graph: Graph, rules: EffectiveRule[], homes: AssessHomes, facilities: AssessFacilities, units: AssessUnit[], options: AssessOptions = {}): Assessment {
  return build(graph, rules, homes, facilities, units, options, true);
}

/** The whole assessment in one call (see createAssessment for runs that change a facility afterwards). */
export function assess(graph: Graph, rules: EffectiveRule[], homes: AssessHomes, facilities: AssessFacilities, units: AssessUnit[], options: AssessOptions = {}): AssessmentResult {
  return build(graph, rules, homes, facilities, units, options, false).result;
}

/** The first run; with `forMoves`, also the indexes moves use (built once here rather than on the first move of each mode). */
function build(graph: Graph, rules: EffectiveRule[], homes: AssessHomes, facilities: AssessFacilities, units: AssessUnit[], options: AssessOptions, forMoves: boolean): Assessment {
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
  const levels = new Map<UnitLevel, LevelIndex>();
  const levelIndex = (level: UnitLevel): LevelIndex => {
    let L = levels.get(level);
    if (L) return L;
    const len = UNIT_CODE_LENGTH[level];
    const codeOf = homes.unitCode.map((c, i) => (c.length >= len ? c.slice(0, len) : locator(level).locate(homes.lon[i], homes.lat[i])));
    const codes = [...new Set(codeOf.filter((c): c is string => c !== null))].sort();
    const position = new Map(codes.map((c, u) => [c, u]));
    const homeUnit = Int32Array.from(codeOf, (c) => (c === null ? -1 : position.get(c)!));
    const start = new Uint32Array(codes.length + 1);
    for (let i = 0; i < nHomes; i++) if (homeUnit[i] >= 0) start[homeUnit[i] + 1]++;
    for (let u = 0; u < codes.length; u++) start[u + 1] += start[u];
    const fill = start.slice(0, codes.length);
    const list = new Uint32Array(start[codes.length]);
    for (let i = 0; i < nHomes; i++) if (homeUnit[i] >= 0) list[fill[homeUnit[i]]++] = i;
    levels.set(level, (L = { codes, position, homeUnit, start, homes: list }));
    return L;
  };
  /** Residents of the given ages per unit of a level, summed over the unit's homes in index order (as every rule sums them). */
  const residentsCache = new Map<string, Float64Array>();
  const residentsAt = (level: UnitLevel, ages: AgeRange | undefined): Float64Array => {
    const key = `${level}|${ages ? `${ages.min}-${ages.max ?? ''}` : 'all'}`;
    let r = residentsCache.get(key);
    if (r) return r;
    const L = levelIndex(level);
    const counts = targetOf(ages).counts;
    r = new Float64Array(L.codes.length);
    for (let u = 0; u < L.codes.length; u++) {
      let s = 0;
      for (let x = L.start[u]; x < L.start[u + 1]; x++) if (counts[L.homes[x]] > 0) s += counts[L.homes[x]];
      r[u] = s;
    }
    residentsCache.set(key, r);
    return r;
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
  const slotsOf = (chosen: number[]) => {
    const slotOf = new Int32Array(nFac).fill(-1);
    chosen.forEach((f, j) => (slotOf[f] = j));
    return slotOf;
  };

  // --- searches: one engine per searched graph, reused (each holds arrays over all nodes) ----------------------
  const engines = new Map<ModeGraph, ReachEngine>();
  const engineFor = (g: ModeGraph) => {
    let e = engines.get(g);
    if (!e) engines.set(g, (e = new ReachEngine(g)));
    return e;
  };
  // facility snaps per mode, made on first use and dropped for a facility when it moves
  const facilitySnapCache = new Map<ModeName, { chain: Int32Array; offsetM: Float64Array; legM: Float64Array; failure: Map<number, SnapFailure> }>();
  const facilitySnaps = (modeName: ModeName, list: readonly number[]): SnappedPoints => {
    let cache = facilitySnapCache.get(modeName);
    if (!cache) facilitySnapCache.set(modeName, (cache = { chain: new Int32Array(nFac).fill(-2), offsetM: new Float64Array(nFac), legM: new Float64Array(nFac), failure: new Map() }));
    const mode = graph.mode(modeName);
    const out: SnappedPoints = { count: list.length, chain: new Int32Array(list.length), offsetM: new Float64Array(list.length), legM: new Float64Array(list.length), failures: [] };
    list.forEach((f, x) => {
      if (cache.chain[f] === -2) {
        const s = snapPoint(graph, mode, facilities.lon[f], facilities.lat[f], options.maxSnapM);
        if (isSnap(s)) {
          cache.chain[f] = s.chain;
          cache.offsetM[f] = s.offsetM;
          cache.legM[f] = s.legM;
        } else {
          cache.chain[f] = -1;
          cache.failure.set(f, s);
        }
      }
      out.chain[x] = cache.chain[f];
      out.offsetM[x] = cache.offsetM[f];
      out.legM[x] = cache.legM[f];
      if (cache.chain[f] < 0) out.failures.push({ index: x, ...cache.failure.get(f)! });
    });
    return out;
  };
  const forgetFacilitySnaps = (f: number) => {
    for (const cache of facilitySnapCache.values()) {
      cache.chain[f] = -2;
      cache.failure.delete(f);
    }
  };
  /** The nearest-facility field of the listed facilities (global indices), on the reversed graph (times to them). */
  const fieldOf = (modeName: ModeName, list: readonly number[], budgetS: number) => {
    const mode = graph.mode(modeName);
    return nearestFacilityFieldFromSnaps(graph, mode, facilitySnaps(modeName, list), budgetS, { engine: engineFor(reversedMode(mode)) });
  };

  // --- home snaps per mode (a mode whose streets are a subset of another's reuses its snaps) -------------------
  const homeSnaps = new Map<string, SnappedPoints>();
  let homeSnapFailures = 0;
  const homeSnapsFor = (modeName: ModeName): SnappedPoints => {
    let snaps = homeSnaps.get(modeName);
    if (snaps) return snaps;
    const mode = graph.mode(modeName);
    const [knownName, known] = [...homeSnaps].find(([name]) => name === 'walk') ?? [...homeSnaps][0] ?? [];
    snaps = known ? snapPointsLike(graph, mode, homes.lon, homes.lat, { mode: graph.mode(knownName as ModeName), snaps: known }, options.maxSnapM) : snapPoints(graph, mode, homes.lon, homes.lat, options.maxSnapM);
    homeSnaps.set(modeName, snaps);
    homeSnapFailures = Math.max(homeSnapFailures, snaps.failures.length);
    return snaps;
  };
  // homes by the end nodes of their chains and by chain (both CSR), per mode, built on first use
  const homeIndex = new Map<string, { nodeStart: Uint32Array; byNode: Uint32Array; chainStart: Uint32Array; byChain: Uint32Array }>();
  const homesByNode = (modeName: ModeName) => {
    let idx = homeIndex.get(modeName);
    if (idx) return idx;
    const snaps = homeSnapsFor(modeName);
    const nodeStart = new Uint32Array(graph.nodeCount + 1);
    const chainStart = new Uint32Array(graph.chainCount + 1);
    for (let i = 0; i < nHomes; i++) {
      const c = snaps.chain[i];
      if (c < 0) continue;
      nodeStart[graph.chainFrom[c] + 1]++;
      nodeStart[graph.chainTo[c] + 1]++;
      chainStart[c + 1]++;
    }
    for (let n = 0; n < graph.nodeCount; n++) nodeStart[n + 1] += nodeStart[n];
    for (let c = 0; c < graph.chainCount; c++) chainStart[c + 1] += chainStart[c];
    const nodeFill = nodeStart.slice(0, graph.nodeCount);
    const chainFill = chainStart.slice(0, graph.chainCount);
    const byNode = new Uint32Array(nodeStart[graph.nodeCount]);
    const byChain = new Uint32Array(chainStart[graph.chainCount]);
    for (let i = 0; i < nHomes; i++) {
      const c = snaps.chain[i];
      if (c < 0) continue;
      byNode[nodeFill[graph.chainFrom[c]]++] = i;
      byNode[nodeFill[graph.chainTo[c]]++] = i;
      byChain[chainFill[c]++] = i;
    }
    homeIndex.set(modeName, (idx = { nodeStart, byNode, chainStart, byChain }));
    return idx;
  };
  /** Homes the engine's last search may reach: those on a reached node's chains and on the source's own chain. */
  const homesNear = (modeName: ModeName, engine: ReachEngine, ownChain: number): Set<number> => {
    const idx = homesByNode(modeName);
    const candidates = new Set<number>(idx.byChain.subarray(idx.chainStart[ownChain], idx.chainStart[ownChain + 1]));
    for (let r = 0; r < engine.reachedCount; r++) {
      const n = engine.reached[r];
      for (let x = idx.nodeStart[n]; x < idx.nodeStart[n + 1]; x++) candidates.add(idx.byNode[x]);
    }
    return candidates;
  };
  const subsetOf = (snaps: SnappedPoints, list: number[]): SnappedPoints => ({
    count: list.length, chain: Int32Array.from(list, (i) => snaps.chain[i]), offsetM: Float64Array.from(list, (i) => snaps.offsetM[i]), legM: Float64Array.from(list, (i) => snaps.legM[i]), failures: [],
  });

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
  const failedFacilities = new Set<number>();
  const homeTimes: AssessmentResult['homeTimes'] = new Map();
  const fieldState = new Map<string, FieldState>();
  for (const [key, b] of budgets) {
    if (!graph.modeNames.includes(b.mode)) continue;
    const snaps = homeSnapsFor(b.mode);
    const chosen = facilitiesOf(b.categories);
    if (chosen.length === 0) {
      homeTimes.set(key, { budgetS: b.budgetS, timeS: new Float64Array(nHomes).fill(Infinity), facility: new Int32Array(nHomes).fill(-1) });
      continue;
    }
    const field = fieldOf(b.mode, chosen, b.budgetS);
    for (const x of field.facilities.failures) failedFacilities.add(chosen[x.index]);
    const t = pointTimesFromField(graph, field, snaps);
    // field facility index → global facility index
    const facility = t.facility;
    for (let i = 0; i < nHomes; i++) if (facility[i] >= 0) facility[i] = chosen[facility[i]];
    homeTimes.set(key, { budgetS: b.budgetS, timeS: t.timeS, facility });
    const fs = field.facilities;
    const onChain = new Map<number, number[]>();
    for (let j = 0; j < chosen.length; j++) if (fs.chain[j] >= 0) (onChain.get(fs.chain[j]) ?? onChain.set(fs.chain[j], []).get(fs.chain[j])!).push(j);
    fieldState.set(key, { mode: b.mode, chosen, slotOf: slotsOf(chosen), chain: fs.chain, offsetM: fs.offsetM, legM: fs.legM, onChain });
  }

  const unitName = (code: string) => unitByCode.get(code)?.name ?? code;
  let scratchBuffer = new Int32Array(1024);
  /** A reused buffer of at least n entries (one unit's homes at a time). */
  const scratch = (n: number) => (scratchBuffer.length >= n ? scratchBuffer : (scratchBuffer = new Int32Array(Math.max(n, 2 * scratchBuffer.length))));
  const unitsAt = (codes: Iterable<string | null>) => [...new Set([...codes].filter((c): c is string => c !== null && reported(c)))].sort();
  // one formatter for all messages: toLocaleString builds a new one on every call
  const fmt = (x: number) => NUMBER_FORMAT.format(x);
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

  const PARENT_LEVEL: Record<UnitLevel, UnitLevel | null> = { committee: 'subdistrict', subdistrict: 'district', district: null };

  /** Fills a rule's output with one result (and gap) per unit of `unitIds` through `unit`, keeping the slots. */
  const perUnitOutput = (out: RuleOutput, L: LevelIndex, unitIds: number[], unit: (u: number) => [RuleResult, Gap | null]) => {
    out.slotOfUnit = new Int32Array(L.codes.length).fill(-1);
    out.unit = unit;
    for (const u of unitIds) {
      const [r, g] = unit(u);
      out.slotOfUnit[u] = out.results.length;
      out.results.push(r);
      out.gapOf.push(g);
    }
  };
  /** Units of a level with residents of the given ages, in code order, among the reported ones. */
  const unitsWithTarget = (level: UnitLevel, ages: AgeRange | undefined) => {
    const L = levelIndex(level);
    const residents = residentsAt(level, ages);
    const out: number[] = [];
    for (let u = 0; u < L.codes.length; u++) if (residents[u] > 0 && reported(L.codes[u])) out.push(u);
    return out;
  };

  /**
   * The floating-catchment variants ("40 m² of elderly care per 1,000 residents within 1,000 m", "places per
   * child within 10 minutes"): supply and demand meet by 2SFCA (Luo & Wang 2003) on the network, with the
   * pairs from one bounded search per facility (times to the facility, inclusive cutoff):
   *   R_j = S_j / Σ_{i: t_ij ≤ T} D_i,   A_i = Σ_{j: t_ij ≤ T} R_j
   * A unit's value is the residents' mean A (Σ D_i A_i / Σ D_i), × 1,000 for areas per 1,000 residents.
   */
  const catchments = new Map<string, CatchmentState>();
  /** The homes with target residents within the budget of chosen facility j (ascending), by one search to it. */
  const catchmentColumn = (s: CatchmentState, j: number): Uint32Array => {
    const f = s.chosen[j];
    const field = fieldOf(s.modeName, [f], s.budgetS);
    const c = field.facilities.chain[0];
    if (c < 0) return new Uint32Array(0);
    const list = [...homesNear(s.modeName, field.engine, c)].filter((i) => s.counts[i] > 0);
    const t = pointTimesFromField(graph, field, subsetOf(homeSnapsFor(s.modeName), list));
    return Uint32Array.from(list.filter((_, x) => t.timeS[x] <= s.budgetS)).sort();
  };
  const evaluateCatchment = (rule: EffectiveRule & { kind: 'area_per_1000' | 'capacity_ratio' }, level: UnitLevel, fallbackNote: string | null, out: RuleOutput) => {
    const modeName: ModeName = rule.kind === 'capacity_ratio' ? ((rule.mode ?? 'walk') as ModeName) : 'walk';
    if (!graph.modeNames.includes(modeName)) {
      out.skipped.push({ ruleId: rule.id, reason: `the graph has no ${modeName} mode (build it with --modes ${modeName})` });
      return;
    }
    const mode = graph.mode(modeName);
    const budgetS = rule.kind === 'capacity_ratio' ? rule.withinMinutes! * 60 : rule.withinM! / mode.speedMps;
    const target = targetOf(rule.kind === 'capacity_ratio' ? rule.ages : undefined);
    const chosen = facilitiesOf(rule.categories);
    const amountOf = (f: number) => (rule.kind === 'capacity_ratio' ? facilities.capacity[f] : rule.areaField === 'building' ? facilities.buildingAreaM2[f] : facilities.landAreaM2[f]);
    const supply = Float64Array.from(chosen, (f) => (Number.isNaN(amountOf(f)) ? 0 : amountOf(f)));
    const unknown = chosen.filter((f) => Number.isNaN(amountOf(f))).length;
    const s: CatchmentState = {
      modeName, budgetS, chosen, slotOf: slotsOf(chosen), counts: target.counts, supply,
      column: () => new Uint32Array(0), row: () => new Uint32Array(0), columnOverride: new Map(), rowOverride: new Map(), ratio: new Float64Array(0), access: new Float64Array(0),
    };
    const origin: number[] = [];
    const dest: number[] = [];
    const timeMin: number[] = [];
    for (let j = 0; j < chosen.length; j++) {
      for (const i of catchmentColumn(s, j)) {
        origin.push(i);
        dest.push(j);
        timeMin.push(0); // within the catchment; 2SFCA's binary weight needs no more
      }
    }
    const matrix = travelMatrixFromPairs(nHomes, chosen.length, Uint32Array.from(origin), Uint32Array.from(dest), Float64Array.from(timeMin));
    const fca = twoStepFca(matrix, target.counts, supply, { cutoffMin: budgetS / 60 });
    // columns as CSR (homes ascending within a facility), rows straight from the matrix (facilities ascending)
    const colStart = new Uint32Array(chosen.length + 1);
    for (const j of dest) colStart[j + 1]++;
    for (let j = 0; j < chosen.length; j++) colStart[j + 1] += colStart[j];
    const colHomes = new Uint32Array(dest.length);
    colHomes.set(origin);
    s.column = (j) => s.columnOverride.get(j) ?? colHomes.subarray(colStart[j], colStart[j + 1]);
    s.row = (i) => s.rowOverride.get(i) ?? matrix.destIndex.subarray(matrix.originOffsets[i], matrix.originOffsets[i + 1]);
    s.ratio = Float64Array.from(fca.ratio, (r) => (Number.isNaN(r) ? 0 : r));
    s.access = fca.access;
    catchments.set(rule.id, s);

    const L = levelIndex(level);
    const per = rule.kind === 'area_per_1000' ? 1000 : 1;
    const threshold = rule.kind === 'area_per_1000' ? rule.minAreaM2Per1000 : rule.minPlacesPerTarget;
    const note = [fallbackNote, `2SFCA on the ${modeName} network within ${rule.kind === 'area_per_1000' ? `${rule.withinM} m` : `${rule.withinMinutes} min`}`, unknown > 0 ? `${unknown} of ${chosen.length} facilities have no ${rule.kind === 'capacity_ratio' ? 'capacity' : 'area'} in the data: counted as 0` : null].filter(Boolean).join('; ');
    perUnitOutput(out, L, unitsWithTarget(level, rule.kind === 'capacity_ratio' ? rule.ages : undefined), (u) => {
      const code = L.codes[u];
      let demand = 0;
      let supplied = 0;
      let uncovered = 0;
      for (let x = L.start[u]; x < L.start[u + 1]; x++) {
        const i = L.homes[x];
        const d = s.counts[i];
        if (d <= 0) continue;
        demand += d;
        supplied += d * s.access[i];
        if (s.access[i] === 0) uncovered += d;
      }
      const value = (supplied / demand) * per;
      const verdict: Verdict = value >= threshold - 1e-12 ? 'pass' : 'fail';
      const result: RuleResult = { ruleId: rule.id, kind: rule.kind, level, unitCode: code, unitName: unitName(code), estimatedPopulation: homes.estimated, verdict, value, threshold, targetResidents: demand, unservedResidents: uncovered, offNetworkResidents: 0, facilities: chosen.length, agesApportioned: target.apportioned, note };
      if (verdict === 'pass') return [result, null];
      const what = rule.kind === 'area_per_1000' ? `${fmt(value)} m² per 1,000 residents within reach (norm ${fmt(threshold)})` : `${fmt(value)} places per target resident within reach (norm ${fmt(threshold)})`;
      const whatZh = rule.kind === 'area_per_1000' ? `可达范围内每千人 ${fmt(value)} m²（标准 ${fmt(threshold)}）` : `可达范围内每名目标居民 ${fmt(value)} 个床位/学位（标准 ${fmt(threshold)}）`;
      return [result, { ruleId: rule.id, unitCode: code, unitName: unitName(code), level, shortfall: (threshold - value) / threshold, unservedResidents: uncovered, homes: [], en: `${unitName(code)}: ${what}; ${fmt(Math.round(uncovered))} residents reach none.`, zh: `${unitName(code)}：${whatZh}；${fmt(Math.round(uncovered))} 人无可达设施。` }];
    });
  };

  /** The level a rule is evaluated at: its own, or the nearest above where homes can be placed (noted). */
  const levelFor = (rule: EffectiveRule): { level: UnitLevel; fallbackNote: string | null } => {
    // A level no home can be placed in (committees without codes or boundaries in the data) falls back to
    // the level above, and every result says so.
    let level: UnitLevel = rule.unitLevel;
    let fallbackNote: string | null = null;
    while (levelIndex(level).codes.length === 0 && PARENT_LEVEL[level]) {
      const up: UnitLevel = PARENT_LEVEL[level]!;
      fallbackNote = `evaluated per ${up}: no home could be placed in a ${rule.unitLevel} (no codes or boundaries in the data)`;
      level = up;
    }
    return { level, fallbackNote };
  };

  const evaluateRule = (rule: EffectiveRule, out: RuleOutput): void => {
    const { level, fallbackNote } = levelFor(rule);
    const catsKnown = facilitiesOf(rule.categories);
    if (catsKnown.length === 0) {
      // Every unit would fail for want of data rather than of facilities: say so once instead.
      out.skipped.push({ ruleId: rule.id, reason: `not evaluated: the project has no ${rule.categories.join(' / ')} (status ${[...statuses].join('/')}); import them (or check the source's coverage) and run again` });
      return;
    }
    const base = (code: string) => ({ ruleId: rule.id, kind: rule.kind, level, unitCode: code, unitName: unitName(code), estimatedPopulation: homes.estimated });
    const push = (result: RuleResult, gap: Gap | null) => {
      out.results.push(result);
      out.gapOf.push(gap);
    };
    switch (rule.kind) {
      case 'reach': {
        const key = fieldKey(rule.categories, rule.mode);
        const times = homeTimes.get(key);
        if (!times) {
          out.skipped.push({ ruleId: rule.id, reason: `the graph has no ${rule.mode} mode (build it with --modes ${rule.mode})` });
          return;
        }
        const target = targetOf(rule.ages);
        const counts = target.counts;
        const limitS = rule.minutes * 60;
        const snaps = homeSnaps.get(rule.mode)!;
        const L = levelIndex(level);
        const who = rule.ages ? `aged ${rule.ages.min}${rule.ages.max === null ? '+' : `-${rule.ages.max}`}` : '';
        const whoZh = rule.ages ? `${rule.ages.min}${rule.ages.max === null ? '岁以上' : `-${rule.ages.max}岁`}` : '';
        const modeZh = { walk: '步行', elderly: '老年人步行', bike: '骑行' }[rule.mode];
        const context: ReachGapContext = {
          homes, facilities, counts,
          describe: (name, share, targetN, unserved, off) => ({
            en: `${name}: ${pct(share)} of ${fmt(Math.round(targetN))} residents ${who} reach a ${rule.categories.join(' / ')} within ${rule.minutes} min by ${rule.mode} (target ${pct(rule.targetShare)}); ${fmt(Math.round(unserved))} do not${off > 0 ? ` (${fmt(Math.round(off))} of them live off the network)` : ''}.`,
            zh: `${name}：${whoZh}居民 ${fmt(Math.round(targetN))} 人中 ${pct(share)} 可在${modeZh} ${rule.minutes} 分钟内到达${rule.categories.join('、')}（目标 ${pct(rule.targetShare)}），${fmt(Math.round(unserved))} 人未覆盖${off > 0 ? `（其中 ${fmt(Math.round(off))} 人不在路网上）` : ''}。`,
          }),
        };
        perUnitOutput(out, L, unitsWithTarget(level, rule.ages), (u) => {
          const code = L.codes[u];
          let targetN = 0;
          let served = 0;
          let off = 0;
          let nUnserved = 0;
          const unservedHomes = scratch(L.start[u + 1] - L.start[u]);
          for (let x = L.start[u]; x < L.start[u + 1]; x++) {
            const i = L.homes[x];
            const n = counts[i];
            if (n <= 0) continue;
            targetN += n;
            if (times.timeS[i] <= limitS) served += n;
            else {
              unservedHomes[nUnserved++] = i;
              if (snaps.chain[i] < 0) off += n;
            }
          }
          const share = served / targetN;
          const pass = share >= rule.targetShare - 1e-12;
          const unserved = targetN - served;
          const name = unitName(code);
          // written out, not spread from a base object: this runs once per unit and rule (~200,000 times)
          const result: RuleResult = { ruleId: rule.id, kind: rule.kind, level, unitCode: code, unitName: name, estimatedPopulation: homes.estimated, verdict: pass ? 'pass' : 'fail', value: share, threshold: rule.targetShare, targetResidents: targetN, unservedResidents: unserved, offNetworkResidents: off, facilities: catsKnown.length, agesApportioned: target.apportioned, note: fallbackNote };
          if (pass) return [result, null];
          const listedHomes = largest(unservedHomes, nUnserved, counts, GAP_HOMES);
          const k = listedHomes.length;
          const listed = new Float64Array(3 * k);
          for (let x = 0; x < k; x++) {
            const i = listedHomes[x];
            listed[x] = i;
            listed[k + x] = times.timeS[i];
            listed[2 * k + x] = times.facility[i];
          }
          return [result, new UnservedHomesGap(rule.id, code, name, level, rule.targetShare - share, unserved, { share, target: targetN, off }, listed, context)];
        });
        break;
      }
      case 'count_per_unit':
      case 'population_per_facility':
      case 'area_per_1000':
      case 'per_capita_area':
      case 'capacity_ratio': {
        if ((rule.kind === 'area_per_1000' && rule.withinM !== undefined) || (rule.kind === 'capacity_ratio' && rule.withinMinutes !== undefined)) {
          evaluateCatchment(rule, level, fallbackNote, out);
          return;
        }
        const fu = facilityUnitAt(level);
        const ages = rule.kind === 'capacity_ratio' ? rule.ages : undefined;
        const target = targetOf(ages);
        const L = levelIndex(level);
        const residents = residentsAt(level, ages);
        const everyone = residentsAt(level, undefined);
        const count = new Map<string, number>();
        const amount = new Map<string, number>();
        const unknown = new Map<string, number>();
        const amountOf = (f: number) => (rule.kind === 'capacity_ratio' ? facilities.capacity[f] : rule.kind === 'area_per_1000' || rule.kind === 'per_capita_area' ? (rule.areaField === 'building' ? facilities.buildingAreaM2[f] : facilities.landAreaM2[f]) : 0);
        /** Adds the facilities (of this rule, in index order) that lie in the unit `only`, or in any unit. */
        const tally = (only: string | null) => {
          for (const f of catsKnown) {
            const code = fu[f];
            if (code === null || (only !== null && code !== only)) continue;
            count.set(code, (count.get(code) ?? 0) + 1);
            const v = amountOf(f);
            if (Number.isNaN(v)) unknown.set(code, (unknown.get(code) ?? 0) + 1);
            else amount.set(code, (amount.get(code) ?? 0) + v);
          }
        };
        tally(null);
        /** One unit's tallies again, in the full run's order (so the same sums). */
        const recount = (code: string) => {
          count.delete(code);
          amount.delete(code);
          unknown.delete(code);
          tally(code);
        };
        const committees = new Map<string, number>();
        if (rule.kind === 'count_per_unit' && rule.perCommittees !== undefined) {
          for (const u of units) if (u.level === 'committee') {
            const parent = u.code.slice(0, UNIT_CODE_LENGTH[level]);
            committees.set(parent, (committees.get(parent) ?? 0) + 1);
          }
        }
        const evaluateCode = (code: string): [RuleResult, Gap | null] => {
          const u = L.position.get(code);
          const pop = u === undefined ? 0 : residents[u];
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
            return [{ ...base(code), verdict: 'not-applicable', value: null, threshold: 0, targetResidents: 0, unservedResidents: 0, offNetworkResidents: 0, facilities: n, agesApportioned: target.apportioned, note: 'no target residents' }, null];
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
          return [
            { ...base(code), verdict, value, threshold, targetResidents: pop, unservedResidents: 0, offNetworkResidents: 0, facilities: n, agesApportioned: target.apportioned, note: [fallbackNote, note].filter(Boolean).join('; ') || null },
            verdict === 'fail' ? { ruleId: rule.id, unitCode: code, unitName: unitName(code), level, shortfall: value === null || !Number.isFinite(value) ? 1 : Math.abs(threshold - value) / threshold, unservedResidents: 0, homes: [], en: `${unitName(code)}: ${shortfallText}.`, zh: `${unitName(code)}：${shortfallZh}。` } : null,
          ];
        };
        // every unit with residents of any age is reported (not-applicable when none of the target ages live there)
        const codes = unitsAt([...L.codes.filter((_, u) => everyone[u] > 0), ...(rule.kind === 'count_per_unit' ? units.filter((u) => u.level === level).map((u) => u.code) : [])]);
        out.slotOfCode = new Map();
        for (const code of codes) {
          out.slotOfCode.set(code, out.results.length);
          push(...evaluateCode(code));
        }
        /** "At least x % of the units": the share of the units above that pass. */
        const summary = (): RuleResult | null => {
          if (rule.kind !== 'count_per_unit' || rule.unitShare === undefined || codes.length === 0) return null;
          let passing = 0;
          for (let k = 0; k < codes.length; k++) if (out.results[k].verdict === 'pass') passing++;
          const share = passing / codes.length;
          return { ruleId: rule.id, kind: rule.kind, level, unitCode: '*', unitName: `all ${level} units`, estimatedPopulation: false, verdict: share >= rule.unitShare - 1e-12 ? 'pass' : 'fail', value: share, threshold: rule.unitShare, targetResidents: 0, unservedResidents: 0, offNetworkResidents: 0, facilities: catsKnown.length, agesApportioned: false, note: `${passing} of ${codes.length} units pass` };
        };
        const first = summary();
        if (first !== null) {
          out.summarySlot = out.results.length;
          push(first, null);
        }
        out.byCode = { recount, evaluate: evaluateCode, summary };
        break;
      }
      case 'rail_bus_share': {
        const stations = catsKnown;
        const stops = facilitiesOf(rule.busCategories);
        if (!graph.modeNames.includes('walk')) {
          out.skipped.push({ ruleId: rule.id, reason: 'the graph has no walk mode' });
          return;
        }
        const mode = graph.mode('walk');
        const budgetS = rule.withinM / mode.speedMps;
        const stationSnaps = facilitySnaps('walk', stations);
        let near: Float64Array = new Float64Array(stations.length).fill(Infinity);
        if (stops.length > 0) {
          const field = fieldOf('walk', stops, budgetS);
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
        for (const code of unitsAt(byUnit.keys())) {
          const u = byUnit.get(code)!;
          const share = u.ok / u.n;
          const verdict: Verdict = share >= rule.targetShare - 1e-12 ? 'pass' : 'fail';
          push(
            { ...base(code), estimatedPopulation: false, verdict, value: share, threshold: rule.targetShare, targetResidents: 0, unservedResidents: 0, offNetworkResidents: 0, facilities: u.n, agesApportioned: false, note: `${u.ok} of ${u.n} stations have a bus stop within ${rule.withinM} m of walking` },
            verdict === 'fail' ? { ruleId: rule.id, unitCode: code, unitName: unitName(code), level, shortfall: rule.targetShare - share, unservedResidents: 0, homes: [], en: `${unitName(code)}: ${u.n - u.ok} of ${u.n} rail stations have no bus stop within ${rule.withinM} m walk.`, zh: `${unitName(code)}：${u.n} 个轨交站点中 ${u.n - u.ok} 个步行 ${rule.withinM} 米内无公交站。` } : null,
          );
        }
        break;
      }
    }
  };

  /**
   * Units of the levels the homes can be placed in (and inside the reported ones) that the project lists
   * but the population data leaves empty, and units whose every resident lives where no street of the
   * walking mode (else the first mode snapped) comes within the snapping distance: their reach results count everyone unserved (off
   * the network), which says more about the data than the place. Facility moves do not change these.
   */
  const findUnitIssues = (): UnitIssue[] => {
    const out: UnitIssue[] = [];
    const snaps = homeSnaps.get('walk') ?? [...homeSnaps.values()][0];
    const failure = new Map(snaps?.failures.map((x) => [x.index, x]) ?? []);
    for (const level of ['committee', 'subdistrict', 'district'] as const) {
      const L = levelIndex(level);
      if (L.codes.length === 0) continue;
      const everyone = residentsAt(level, undefined);
      const counts = targetOf(undefined).counts;
      for (const u of units) {
        if (u.level !== level || !reported(u.code)) continue;
        const k = L.position.get(u.code);
        if (k === undefined || everyone[k] <= 0) {
          out.push({ unitCode: u.code, unitName: u.name, level, kind: 'no-residents', en: `${u.name} (${u.code}): no residents in the population data; rules per resident report it not applicable, reach rules leave it out`, zh: `${u.name}（${u.code}）：人口数据中无居民；按人口计的规则记为不适用，可达性规则不含该单元` });
          continue;
        }
        if (!snaps) continue;
        let placed = 0;
        let off = 0;
        let example: SnapFailure | undefined;
        for (let x = L.start[k]; x < L.start[k + 1]; x++) {
          const i = L.homes[x];
          if (counts[i] <= 0) continue;
          placed++;
          if (snaps.chain[i] < 0) {
            off++;
            example ??= failure.get(i);
          }
        }
        if (placed > 0 && off === placed) {
          out.push({
            unitCode: u.code, unitName: u.name, level, kind: 'off-network',
            en: `${u.name} (${u.code}): none of its ${placed} homes with residents is near a street (${example?.message ?? 'no usable way within the snapping distance'}); its ${fmt(Math.round(everyone[k]))} residents count as unserved, off the network, in every reach rule`,
            zh: `${u.name}（${u.code}）：${placed} 处有居民的住宅附近均无可用道路（${example?.reason === 'outside-network-extent' ? '位于路网范围之外' : '吸附距离内无可用道路'}）；${fmt(Math.round(everyone[k]))} 名居民在所有可达性规则中计为未覆盖（不在路网上）`,
          });
        }
      }
    }
    return out;
  };

  // --- results per rule, kept so that a change re-evaluates only the units and rules it touches ----------------
  const outputs = new Map<string, RuleOutput>();
  const evaluate = (rule: EffectiveRule): RuleOutput => {
    const out: RuleOutput = { results: [], gapOf: [], skipped: [] };
    evaluateRule(rule, out);
    outputs.set(rule.id, out);
    return out;
  };
  let version = 0;
  let materialised: AssessmentResult | null = null;
  /** The whole result as it stands: every rule's results and gaps in rule order (result objects are replaced on change, never edited). */
  const current = (): AssessmentResult => {
    if (materialised) return materialised;
    const results: RuleResult[] = [];
    const gaps: Gap[] = [];
    const skipped: AssessmentResult['skipped'] = [];
    for (const rule of active) {
      const o = outputs.get(rule.id)!;
      for (const r of o.results) results.push(r);
      for (const g of o.gapOf) if (g !== null) gaps.push(g);
      for (const s of o.skipped) skipped.push(s);
    }
    return (materialised = { results, gaps, homeTimes, skipped, unitIssues, snapFailures: { homes: homeSnapFailures, facilities: failedFacilities.size } });
  };

  const signature = (r: RuleResult) => `${r.verdict}|${r.value}|${r.threshold}|${r.targetResidents}|${r.unservedResidents}|${r.offNetworkResidents}|${r.facilities}|${r.note}`;
  /** Puts a unit's new result (and gap) in its slot and records what changed. */
  const replaceSlot = (out: RuleOutput, k: number, [r, g]: [RuleResult, Gap | null], change: AssessmentChange) => {
    const before = out.results[k];
    const gapBefore = out.gapOf[k];
    out.results[k] = r;
    out.gapOf[k] = g;
    if (signature(before) !== signature(r)) change.results.push(r);
    if (g !== null) change.gaps.push(g);
    else if (gapBefore !== null) change.closedGaps.push({ ruleId: gapBefore.ruleId, level: gapBefore.level, unitCode: gapBefore.unitCode });
  };
  /** Recomputes the given units of a per-unit rule in place. */
  const updateUnits = (out: RuleOutput, unitIds: Iterable<number>, change: AssessmentChange) => {
    for (const u of unitIds) if (out.slotOfUnit![u] >= 0) replaceSlot(out, out.slotOfUnit![u], out.unit!(u), change);
  };
  /** Records what differs between a rule's old output and its re-evaluation. */
  const diffOutputs = (before: RuleOutput, after: RuleOutput, change: AssessmentChange) => {
    const old = new Map(before.results.map((r, k) => [r.unitCode, k]));
    const kept = new Set<string>();
    after.results.forEach((r, k) => {
      const o = old.get(r.unitCode);
      const g = after.gapOf[k];
      kept.add(r.unitCode);
      if (o === undefined || signature(before.results[o]) !== signature(r)) {
        change.results.push(r);
        if (g !== null) change.gaps.push(g);
      }
      if (g === null && o !== undefined && before.gapOf[o] !== null) change.closedGaps.push({ ruleId: r.ruleId, level: r.level, unitCode: r.unitCode });
    });
    before.results.forEach((r, k) => {
      if (kept.has(r.unitCode)) return;
      change.removedResults.push({ ruleId: r.ruleId, level: r.level, unitCode: r.unitCode });
      const g = before.gapOf[k];
      if (g !== null) change.closedGaps.push({ ruleId: g.ruleId, level: g.level, unitCode: g.unitCode });
    });
  };
  const unitsOfHomes = (level: UnitLevel, list: Iterable<number>) => {
    const L = levelIndex(level);
    const out = new Set<number>();
    for (const i of list) if (L.homeUnit[i] >= 0) out.add(L.homeUnit[i]);
    return out;
  };

  /**
   * Moves facility f to (lon, lat) and recomputes only what it touches. For each reach field with f in it:
   * homes whose nearest facility was f are recomputed exactly (a search from each home that stops once no
   * facility nearer than the best found can come); homes the new position may serve better are found by one
   * bounded search from that position. Then only the units holding changed homes are evaluated again for the
   * rules on f's category; a catchment rule replaces f's catchment and the access of the homes in the old and
   * new one; counts and areas per unit are evaluated again only where f changed unit. The result equals a full
   * run on the moved inputs (test/analysis/assess.test.ts and `npm run bench:assess` check this) with two
   * allowances of floating point: a time is summed from the home here and from the facility there, so the two
   * may differ in the last bits (~1e-13 s); and where two facilities are exactly as near, either may be named.
   * The caller's `facilities.lon/lat` are updated. A facility that carries a unit code stays in that unit.
   */
  const moveFacility = (f: number, lon: number, lat: number): MoveResult => {
    if (!Number.isInteger(f) || f < 0 || f >= nFac) throw new RangeError(`moveFacility: facility index ${f} is not one of the ${nFac} facilities (0 … ${nFac - 1})`);
    if (!Number.isFinite(lon) || !Number.isFinite(lat)) throw new RangeError(`moveFacility: position ${lon},${lat} is not a longitude,latitude`);
    version++;
    materialised = null;
    facilities.lon[f] = lon;
    facilities.lat[f] = lat;
    forgetFacilitySnaps(f);
    // the units f leaves and enters, per level where they differ
    const unitChanged = new Map<UnitLevel, [string | null, string | null]>();
    for (const [level, a] of facilityUnits) {
      const c = facilities.unitCode[f];
      const len = UNIT_CODE_LENGTH[level];
      const code = c && c.length >= len ? c.slice(0, len) : locator(level).locate(lon, lat);
      if (code !== a[f]) unitChanged.set(level, [a[f], code]);
      a[f] = code;
    }
    const change: AssessmentChange = { results: [], removedResults: [], gaps: [], closedGaps: [] };
    let homesRecomputed = 0;
    let rulesReevaluated = 0;
    if (statuses.has(facilities.status[f])) {
      const changedHomes = new Map<string, number[]>();
      for (const [key, state] of fieldState) {
        if (state.slotOf[f] < 0) continue;
        const r = updateField(key, state, f);
        homesRecomputed += r.recomputed;
        changedHomes.set(key, r.changed);
      }
      // failed when it cannot be snapped in any field it belongs to (as the full run counts it)
      if ([...fieldState.values()].some((x) => x.slotOf[f] >= 0 && x.chain[x.slotOf[f]] < 0)) failedFacilities.add(f);
      else failedFacilities.delete(f);
      const category = facilities.category[f];
      for (const rule of active) {
        if (!(rule.categories.includes(category) || (rule.kind === 'rail_bus_share' && rule.busCategories.includes(category)))) continue;
        const out = outputs.get(rule.id)!;
        const { level } = levelFor(rule);
        if (rule.kind === 'reach') {
          const homesChanged = changedHomes.get(fieldKey(rule.categories, rule.mode));
          if (!homesChanged || !out.unit) continue;
          updateUnits(out, unitsOfHomes(level, homesChanged), change);
        } else if (catchments.has(rule.id)) {
          const s = catchments.get(rule.id)!;
          const touchedHomes = updateCatchment(s, f);
          homesRecomputed += touchedHomes.length;
          updateUnits(out, unitsOfHomes(level, touchedHomes), change);
        } else if (out.byCode) {
          // counts, areas and capacities per unit change only in the two units f left and entered
          const moved = unitChanged.get(level);
          if (!moved) continue;
          for (const code of moved) {
            if (code === null) continue;
            out.byCode.recount(code);
            const k = out.slotOfCode!.get(code);
            if (k !== undefined) replaceSlot(out, k, out.byCode.evaluate(code), change);
          }
          if (out.summarySlot !== undefined) replaceSlot(out, out.summarySlot, [out.byCode.summary()!, null], change);
        } else if (rule.kind === 'rail_bus_share') {
          diffOutputs(out, evaluate(rule), change);
        } else continue;
        rulesReevaluated++;
      }
    }
    const at = version;
    return {
      changes: change,
      homesRecomputed,
      rulesReevaluated,
      get result(): AssessmentResult {
        if (at !== version) throw new Error('this move\'s result is no longer current (the assessment has moved on since): read it before the next move, or call current()');
        return current();
      },
    };
  };

  /** A field's facilities by the end nodes of their chains, for the searches from homes (kept up to date as they move). */
  const facilitiesByNode = (state: FieldState) =>
    (state.byNode ??= (() => {
      const m = new Map<number, number[]>();
      for (let j = 0; j < state.chosen.length; j++) if (state.chain[j] >= 0) for (const n of [graph.chainFrom[state.chain[j]], graph.chainTo[state.chain[j]]]) (m.get(n) ?? m.set(n, []).get(n)!).push(j);
      return m;
    })());

  /** Updates one reach field after facility f moved; returns how many homes were recomputed and which changed. */
  const updateField = (key: string, state: FieldState, f: number): { recomputed: number; changed: number[] } => {
    const times = homeTimes.get(key)!;
    const mode = graph.mode(state.mode);
    const snaps = homeSnaps.get(state.mode)!;
    const k = state.slotOf[f];
    const byNode = facilitiesByNode(state);
    const unlist = (m: Map<number, number[]>, at: number) => {
      const l = m.get(at);
      if (l) l.splice(l.indexOf(k), 1);
    };
    const oldChain = state.chain[k];
    if (oldChain >= 0) {
      unlist(state.onChain, oldChain);
      unlist(byNode, graph.chainFrom[oldChain]);
      unlist(byNode, graph.chainTo[oldChain]);
    }
    const moved = facilitySnaps(state.mode, [f]);
    state.chain[k] = moved.chain[0];
    state.offsetM[k] = moved.offsetM[0];
    state.legM[k] = moved.legM[0];
    if (moved.chain[0] >= 0) {
      for (const [m, at] of [[state.onChain, moved.chain[0]], [byNode, graph.chainFrom[moved.chain[0]]], [byNode, graph.chainTo[moved.chain[0]]]] as const) (m.get(at) ?? m.set(at, []).get(at)!).push(k);
    }

    const engine = engineFor(mode);
    const changed: number[] = [];
    let recomputed = 0;
    // 1. homes that had f as their nearest: a search from each, ended once nothing nearer can come
    const lost: number[] = [];
    for (let i = 0; i < nHomes; i++) if (times.facility[i] === f) lost.push(i);
    const nodes: number[] = [];
    const ts: number[] = [];
    for (const i of lost) {
      recomputed++;
      const c = snaps.chain[i];
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
      nodes.length = 0;
      ts.length = 0;
      appendSources(graph, mode, { chain: c, offsetM: snaps.offsetM[i], legM: snaps.legM[i], footLon: NaN, footLat: NaN }, nodes, ts, 0, false);
      // facilities on the home's own street first, along it only: the engine still holds the last home's
      // times until this run resets it, and a bound read from those would end this search too early
      engine.reset();
      for (const j of state.onChain.get(c) ?? []) consider(j);
      // While searching, `best` is the time of a real route (a node not yet settled holds an upper bound), so
      // once the settled time passes it no facility can be nearer; then every facility met is measured again
      // on the final times, which are exact for every facility that can be the nearest.
      engine.run(nodes, ts, times.budgetS, 'inclusive', (n, tn) => {
        if (tn > best) return true;
        const here = byNode.get(n);
        if (here !== undefined) for (const j of here) consider(j);
        return false;
      });
      best = Infinity;
      bestJ = -1;
      for (const j of state.onChain.get(c) ?? []) consider(j);
      for (let r = 0; r < engine.reachedCount; r++) for (const j of byNode.get(engine.reached[r]) ?? []) consider(j);
      const timeS = best <= times.budgetS ? best : Infinity;
      const facility = best <= times.budgetS ? state.chosen[bestJ] : -1;
      if (timeS !== times.timeS[i] || facility !== times.facility[i]) changed.push(i);
      times.timeS[i] = timeS;
      times.facility[i] = facility;
    }
    // 2. homes the new position may serve better: one bounded search from it on the reversed graph
    if (state.chain[k] >= 0) {
      const field = fieldOf(state.mode, [f], times.budgetS);
      const list = [...homesNear(state.mode, field.engine, state.chain[k])];
      const t = pointTimesFromField(graph, field, subsetOf(snaps, list));
      list.forEach((i, x) => {
        if (t.timeS[x] <= times.budgetS && (t.timeS[x] < times.timeS[i] || (t.timeS[x] === times.timeS[i] && f < times.facility[i]))) {
          times.timeS[i] = t.timeS[x];
          times.facility[i] = f;
          changed.push(i);
        }
      });
      recomputed += list.length;
    }
    return { recomputed, changed };
  };

  /**
   * Replaces facility f's catchment in a catchment rule: R_f from the demand in its new catchment, and A_i of
   * every home in the old or the new one, each summed in the order twoStepFca sums (homes ascending for R,
   * facilities ascending for A), so the numbers equal a full run's. Returns the homes whose access was recomputed.
   */
  const updateCatchment = (s: CatchmentState, f: number): number[] => {
    const j = s.slotOf[f];
    if (j < 0) return [];
    const before = s.column(j);
    const after = catchmentColumn(s, j);
    s.columnOverride.set(j, after);
    const inBefore = new Set(before);
    const inAfter = new Set(after);
    for (const i of before) if (!inAfter.has(i)) s.rowOverride.set(i, s.row(i).filter((x) => x !== j));
    for (const i of after) {
      if (inBefore.has(i)) continue;
      const row = s.row(i);
      const out = new Uint32Array(row.length + 1);
      let p = 0;
      while (p < row.length && row[p] < j) out[p] = row[p++];
      out[p] = j;
      out.set(row.subarray(p), p + 1);
      s.rowOverride.set(i, out);
    }
    let demand = 0;
    for (const i of after) demand += s.counts[i];
    s.ratio[j] = demand > 0 ? s.supply[j] / demand : 0;
    const touched = [...new Set([...before, ...after])];
    for (const i of touched) {
      let a = 0;
      for (const x of s.row(i)) a += s.ratio[x];
      s.access[i] = a;
    }
    return touched;
  };

  for (const rule of active) evaluate(rule);
  const unitIssues = findUnitIssues();
  if (forMoves) {
    for (const state of fieldState.values()) {
      homesByNode(state.mode);
      engineFor(graph.mode(state.mode));
      facilitiesByNode(state);
    }
  }
  return { result: current(), current, moveFacility };
}

interface FieldState {
  mode: ModeName;
  /** Global facility indices of the field, the slot of each global index (-1: not in it), and the slots' snaps (kept up to date as facilities move). */
  chosen: number[];
  slotOf: Int32Array;
  chain: Int32Array;
  offsetM: Float64Array;
  legM: Float64Array;
  /** Slots by the chain they are snapped to, and by their chains' end nodes (built with createAssessment's first run, or on the first move). */
  onChain: Map<number, number[]>;
  byNode?: Map<number, number[]>;
}

/**
 * What a move changed: results whose figures differ (new or changed rows), rows that no longer exist (a unit
 * whose last rail station left), the gaps of every unit recomputed that are open after the move (new, or
 * possibly with other homes listed), and gaps closed.
 */
export interface AssessmentChange {
  results: RuleResult[];
  removedResults: Array<{ ruleId: string; level: UnitLevel; unitCode: string }>;
  gaps: Gap[];
  closedGaps: Array<{ ruleId: string; level: UnitLevel; unitCode: string }>;
}

export interface MoveResult {
  changes: AssessmentChange;
  /** The whole result after this move (assembled when read; only until the next move). */
  readonly result: AssessmentResult;
  /** Homes whose time was searched again (those that lost the facility, those its new position could reach, those in its old and new catchments): work done, not homes changed. */
  homesRecomputed: number;
  /** Rules whose results were recomputed for some units (their figures may have come out the same). */
  rulesReevaluated: number;
}

/**
 * An assessment that can be updated: `result` is the first (full) run; `moveFacility` changes one facility's
 * position, recomputing only the homes, units and rules it affects, and returns what changed; `current()`
 * assembles the whole result as it stands. Results and gaps already returned stay as they were (result
 * objects are replaced, never edited), but every result shares one `homeTimes`, whose arrays always hold the
 * current times. A catchment rule keeps the catchments of moved facilities beside the first run's (a session
 * of thousands of moves holds thousands of small arrays more).
 */
export interface Assessment {
  result: AssessmentResult;
  current(): AssessmentResult;
  moveFacility(index: number, lon: number, lat: number): MoveResult;
}

import { LifecircleError } from '../errors.ts';
import { ageBandRange } from '../model/records.ts';

/**
 * Spreading census totals to small zones (residential buildings, addresses, grid cells), totals kept exact.
 *
 * The method, as a planner reads it in a report:
 *
 *   Residents per zone are estimated by spreading the 2020 census district total over the district's
 *   residential addresses (or buildings, or grid cells) in proportion to a weight: the building's footprint
 *   area × number of levels, or one per address. Each age group is spread separately. Counts are whole
 *   persons, rounded by the largest-remainder (Hamilton) method: every zone first gets the whole part of its
 *   proportional share, and the persons left over go one each to the zones with the largest fractional
 *   parts (ties to the zone with the smaller id, so the result is the same on every run). Totals per district
 *   and age group are therefore exact; individual zones are estimates and carry the assumption that people
 *   live in proportion to the weight (same occupancy per m² of floor, or per address, across the district).
 *   Zones with weight 0 get nobody; a district whose zones all have weight 0 is spread evenly over them.
 *
 * Where the census gives a district's total only for all ages, it is first split into age bands by the
 * city-wide age structure (`splitByAgeStructure`), which assumes the district's age mix is the city's; the
 * band totals again sum exactly to the district total.
 *
 * How good the proportional rule is can be checked on units whose parts are known (`heldBackError`): hide
 * the sub-districts' counts, predict them from the district total by the same rule, and compare.
 *
 * Records made from these numbers should carry `estimated: true` and a `method` naming the weight, e.g.
 * "census 2020 district total spread by floor area (largest remainder)".
 */

export interface Zone {
  id: string;
  unitCode: string;
  lon: number;
  lat: number;
  /** E.g. footprint area × levels, or 1 per address; finite and >= 0. */
  weight: number;
}

/** E.g. a district's residents aged 60-79 (an integer count >= 0). */
export interface UnitTotal {
  unitCode: string;
  ageGroup: string;
  count: number;
}

export interface DisaggregationResult {
  /** One row per (total, zone of its unit), zeros included: totals in input order, zones in input order. */
  counts: Array<{ zoneId: string; unitCode: string; ageGroup: string; count: number }>;
  /** Unit codes that have totals but no zones (their totals are not spread), sorted. */
  unitsWithoutZones: string[];
  /** Ids of zones whose unit has no totals (they get no rows), sorted. */
  zonesWithoutTotals: string[];
}

/** Code-unit order (not locale order): the same on every machine. */
function byString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function checkCount(count: number, what: string, field: string): void {
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new LifecircleError('ARGUMENT_INVALID', `${what}: ${field} is ${count}, expected a whole number >= 0`, { record: what, field });
  }
}

function checkWeight(weight: number, what: string, field: string): void {
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) {
    throw new LifecircleError('ARGUMENT_INVALID', `${what}: ${field} is ${weight}, expected a finite number >= 0`, { record: what, field });
  }
}

/**
 * Largest-remainder (Hamilton) apportionment of the whole number `total` over `weights`. Ties in the
 * fractional part go to the earlier index (callers order the items by their tie-break key). Items with weight
 * 0 get 0, unless all weights are 0, in which case the total is spread evenly. The result sums to `total`
 * exactly even where floating-point rounding of the quotas would not: any surplus or deficit of the floors
 * is settled on the remainders.
 */
export function largestRemainder(total: number, weights: readonly number[]): number[] {
  const n = weights.length;
  const out = new Array<number>(n).fill(0);
  if (n === 0 || total === 0) return out;
  let max = 0;
  for (const w of weights) if (w > max) max = w;
  // Scaling by the largest weight keeps the sum finite for huge weights and away from subnormals for tiny ones.
  const scaled = max === 0 ? weights.map(() => 1) : weights.map((w) => w / max);
  let sum = 0;
  for (const s of scaled) sum += s;
  const rem = new Array<number>(n).fill(0);
  let left = total;
  for (let i = 0; i < n; i++) {
    const q = (total * scaled[i]) / sum;
    const f = Math.floor(q);
    out[i] = f;
    rem[i] = q - f;
    left -= f;
  }
  const order: number[] = [];
  for (let i = 0; i < n; i++) if (scaled[i] > 0) order.push(i);
  order.sort((a, b) => rem[b] - rem[a] || a - b);
  // left is 0..order.length - 1 in exact arithmetic; the modulo only guards against rounding.
  for (let k = 0; left > 0; k = (k + 1) % order.length) {
    out[order[k]]++;
    left--;
  }
  // Rounding pushed a quota just over a whole number: take back from the smallest remainders.
  for (let k = order.length - 1; left < 0; k = (k - 1 + order.length) % order.length) {
    if (out[order[k]] > 0) {
      out[order[k]]--;
      left++;
    }
  }
  return out;
}

/**
 * Spreads each unit's total for each age group over that unit's zones in proportion to weight, in whole
 * persons, by the largest-remainder (Hamilton) method, so that the sum over a unit's zones equals the unit's
 * total exactly for every age group; ties broken deterministically by zone id (the smaller id, in code-unit
 * order, gets the extra person). Zones with weight 0 get 0. A unit whose zones all have weight 0 spreads evenly.
 *
 * Throws ARGUMENT_INVALID for a duplicate zone id, a weight that is negative or not finite, a count that is
 * not a whole number >= 0, or two totals for the same unit and age group.
 */
export function disaggregate(zones: Zone[], totals: UnitTotal[]): DisaggregationResult {
  const seenIds = new Set<string>();
  const zonesByUnit = new Map<string, Zone[]>();
  for (const z of zones) {
    if (seenIds.has(z.id)) throw new LifecircleError('ARGUMENT_INVALID', `zone ${z.id}: duplicate zone id`, { record: `zone ${z.id}`, field: 'id' });
    seenIds.add(z.id);
    checkWeight(z.weight, `zone ${z.id}`, 'weight');
    let list = zonesByUnit.get(z.unitCode);
    if (!list) zonesByUnit.set(z.unitCode, (list = []));
    list.push(z);
  }
  const seenTotals = new Set<string>();
  const unitsWithTotals = new Set<string>();
  for (const t of totals) {
    const what = `total ${t.unitCode} ${t.ageGroup}`;
    const key = JSON.stringify([t.unitCode, t.ageGroup]);
    if (seenTotals.has(key)) throw new LifecircleError('ARGUMENT_INVALID', `${what}: given twice (one total per unit and age group)`, { record: what });
    seenTotals.add(key);
    checkCount(t.count, what, 'count');
    unitsWithTotals.add(t.unitCode);
  }

  // Per unit: zone positions in tie-break (id) order, and their weights in that order; computed once.
  const plan = new Map<string, { zones: Zone[]; byId: number[]; weights: number[] }>();
  for (const [unit, list] of zonesByUnit) {
    const byId = list.map((_, i) => i).sort((a, b) => byString(list[a].id, list[b].id));
    plan.set(unit, { zones: list, byId, weights: byId.map((i) => list[i].weight) });
  }

  const counts: DisaggregationResult['counts'] = [];
  const unitsWithoutZones = new Set<string>();
  for (const t of totals) {
    const p = plan.get(t.unitCode);
    if (!p) {
      unitsWithoutZones.add(t.unitCode);
      continue;
    }
    const parts = largestRemainder(t.count, p.weights);
    const byZone = new Array<number>(p.zones.length);
    p.byId.forEach((zi, k) => (byZone[zi] = parts[k]));
    p.zones.forEach((z, zi) => counts.push({ zoneId: z.id, unitCode: t.unitCode, ageGroup: t.ageGroup, count: byZone[zi] }));
  }
  const zonesWithoutTotals = zones.filter((z) => !unitsWithTotals.has(z.unitCode)).map((z) => z.id);
  return {
    counts,
    unitsWithoutZones: [...unitsWithoutZones].sort(byString),
    zonesWithoutTotals: zonesWithoutTotals.sort(byString),
  };
}

/**
 * Age structure: splits a unit total given for one band (e.g. 'all') into target bands by a reference
 * structure (city-wide shares per band), again by largest remainder so the parts sum to the total; returns
 * UnitTotal rows, youngest band first. Shares must be finite and >= 0, not all 0; they are normalised by
 * their sum, so counts (e.g. the city's residents per band) may be given instead of fractions. Ties go to
 * the younger band. The reference bands must tile the total's band exactly (no gap, no overlap, same first
 * and last age, checked with ageBandRange): otherwise ARGUMENT_INVALID naming the band.
 */
export function splitByAgeStructure(total: UnitTotal, reference: Array<{ ageGroup: string; share: number }>): UnitTotal[] {
  const what = `total ${total.unitCode} ${total.ageGroup}`;
  checkCount(total.count, what, 'count');
  const range = ageBandRange(total.ageGroup);
  if (!range) {
    throw new LifecircleError('ARGUMENT_INVALID', `${what}: age band "${total.ageGroup}" is not an age band (expected "a-b", "a+" or "all")`, { record: what, field: 'ageGroup' });
  }
  if (reference.length === 0) throw new LifecircleError('ARGUMENT_INVALID', `${what}: empty reference structure, nothing to split "${total.ageGroup}" into`, { record: what });
  const bands = reference.map((r) => {
    const rr = ageBandRange(r.ageGroup);
    if (!rr) throw new LifecircleError('ARGUMENT_INVALID', `reference band "${r.ageGroup}" is not an age band (expected "a-b", "a+" or "all")`, { record: `reference ${r.ageGroup}`, field: 'ageGroup' });
    checkWeight(r.share, `reference band "${r.ageGroup}"`, 'share');
    return { ageGroup: r.ageGroup, share: r.share, lo: rr[0], hi: rr[1] };
  });
  bands.sort((a, b) => a.lo - b.lo || a.hi - b.hi);
  const fmt = (lo: number, hi: number) => (hi === Infinity ? `${lo}+` : `${lo}-${hi}`);
  const tileError = (msg: string) =>
    new LifecircleError('ARGUMENT_INVALID', `${what}: reference bands ${bands.map((b) => `"${b.ageGroup}"`).join(', ')} do not tile "${total.ageGroup}" (ages ${fmt(range[0], range[1])}): ${msg}`, { record: what, field: 'ageGroup' });
  if (bands[0].lo !== range[0]) {
    throw tileError(bands[0].lo > range[0] ? `ages ${fmt(range[0], bands[0].lo - 1)} are not covered (first band "${bands[0].ageGroup}" starts at ${bands[0].lo})` : `band "${bands[0].ageGroup}" starts at ${bands[0].lo}, below ${range[0]}`);
  }
  for (let i = 1; i < bands.length; i++) {
    const prev = bands[i - 1];
    const b = bands[i];
    if (b.lo <= prev.hi) throw tileError(`band "${b.ageGroup}" overlaps band "${prev.ageGroup}"`);
    if (b.lo > prev.hi + 1) throw tileError(`ages ${fmt(prev.hi + 1, b.lo - 1)} between band "${prev.ageGroup}" and band "${b.ageGroup}" are not covered`);
  }
  const last = bands[bands.length - 1];
  if (last.hi !== range[1]) {
    throw tileError(last.hi < range[1] ? `ages ${fmt(last.hi + 1, range[1])} are not covered (last band "${last.ageGroup}" ends at ${last.hi})` : `band "${last.ageGroup}" goes beyond ${range[1]}`);
  }
  if (!bands.some((b) => b.share > 0)) throw new LifecircleError('ARGUMENT_INVALID', `${what}: every reference share is 0, nothing to split by`, { record: what, field: 'share' });
  const parts = largestRemainder(total.count, bands.map((b) => b.share));
  return bands.map((b, i) => ({ unitCode: total.unitCode, ageGroup: b.ageGroup, count: parts[i] }));
}

/**
 * Held-back check of the method: hide the counts of the sub-units (e.g. sub-districts) of each parent unit
 * (e.g. district), predict them from the parent total (the sum of its sub-units' true counts) by the same
 * proportional rule as `disaggregate` (largest remainder by weight, ties by code), and report the error.
 *
 * Returns one row per sub-unit, in input order, with the absolute percentage error
 * ape = |predicted − true| / true × 100 (in percent; 0 when both are 0, Infinity when true is 0 and predicted
 * is not, which then shows in mape and maxApe), and summary stats over all rows: mean, median (mean of the two
 * middle values for an even count) and max APE, in percent, and `within20`, the share (0..1) of sub-units
 * with APE <= 20 %. A parent with a single sub-unit is predicted exactly (it counts as APE 0).
 *
 * Throws ARGUMENT_INVALID for no sub-units, a duplicate code, a weight negative or not finite, or a true count
 * that is not a whole number >= 0.
 */
export function heldBackError(subUnits: Array<{ code: string; parentCode: string; trueCount: number; weight: number }>): {
  rows: Array<{ code: string; predicted: number; true: number; ape: number }>;
  mape: number;
  medianApe: number;
  maxApe: number;
  within20: number;
} {
  if (subUnits.length === 0) throw new LifecircleError('ARGUMENT_INVALID', 'held-back check: no sub-units given');
  const seen = new Set<string>();
  const byParent = new Map<string, number[]>();
  subUnits.forEach((s, i) => {
    if (seen.has(s.code)) throw new LifecircleError('ARGUMENT_INVALID', `sub-unit ${s.code}: duplicate code`, { record: `sub-unit ${s.code}`, field: 'code' });
    seen.add(s.code);
    checkCount(s.trueCount, `sub-unit ${s.code}`, 'trueCount');
    checkWeight(s.weight, `sub-unit ${s.code}`, 'weight');
    let list = byParent.get(s.parentCode);
    if (!list) byParent.set(s.parentCode, (list = []));
    list.push(i);
  });
  const predicted = new Array<number>(subUnits.length).fill(0);
  for (const list of byParent.values()) {
    const ordered = [...list].sort((a, b) => byString(subUnits[a].code, subUnits[b].code));
    let parentTotal = 0;
    for (const i of ordered) parentTotal += subUnits[i].trueCount;
    const parts = largestRemainder(parentTotal, ordered.map((i) => subUnits[i].weight));
    ordered.forEach((i, k) => (predicted[i] = parts[k]));
  }
  const rows = subUnits.map((s, i) => {
    const p = predicted[i];
    const ape = s.trueCount === 0 ? (p === 0 ? 0 : Infinity) : (Math.abs(p - s.trueCount) / s.trueCount) * 100;
    return { code: s.code, predicted: p, true: s.trueCount, ape };
  });
  const apes = rows.map((r) => r.ape).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const n = apes.length;
  const mape = apes.reduce((acc, a) => acc + a, 0) / n;
  const medianApe = n % 2 === 1 ? apes[(n - 1) / 2] : (apes[n / 2 - 1] + apes[n / 2]) / 2;
  return { rows, mape, medianApe, maxApe: apes[n - 1], within20: apes.filter((a) => a <= 20).length / n };
}

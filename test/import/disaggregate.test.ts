/**
 * src/import/disaggregate.ts: census totals spread to small zones by largest remainder (Hamilton), checked on
 * hand-computed cases, on invariants over seeded random inputs, and on the real 2020 Shanghai census.
 *
 *   node --import tsx --test test/import/disaggregate.test.ts
 *
 * Data: ../shared/data beside the repository (or $LIFECIRCLE_DATA): sh-population-census-districts (see its
 * PROVENANCE.md) — the 2020 city-wide age structure and the districts' 2020 totals.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { disaggregate, heldBackError, largestRemainder, splitByAgeStructure, type UnitTotal, type Zone } from '../../src/import/disaggregate.ts';
import { splitCsvLine } from '../../src/import/points.ts';
import { LifecircleError } from '../../src/errors.ts';
import { mulberry32 } from '../../src/util/random.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(HERE, '..', '..');
const DATA = process.env.LIFECIRCLE_DATA ?? path.resolve(REPO_ROOT, '..', 'shared', 'data');
const CENSUS = path.join(DATA, 'sh-population-census-districts');

function zone(id: string, unitCode: string, weight: number): Zone {
  return { id, unitCode, lon: 121.47, lat: 31.23, weight };
}

/** zoneId → count for one unit and age group. */
function countsOf(result: ReturnType<typeof disaggregate>, unitCode: string, ageGroup: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of result.counts) if (c.unitCode === unitCode && c.ageGroup === ageGroup) out[c.zoneId] = c.count;
  return out;
}

function readCsv(file: string): Array<Record<string, string>> {
  assert.ok(fs.existsSync(file), `data file ${file} missing (put the shared data at ../shared/data or set LIFECIRCLE_DATA)`);
  const lines = fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '').split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = splitCsvLine(lines[0]);
  return lines.slice(1).map((l) => {
    const cells = splitCsvLine(l);
    return Object.fromEntries(header.map((h, i) => [h, cells[i] ?? '']));
  });
}

test('hand case: 10 over weights 1,1,1 → 4,3,3, the extra person to the smallest id', () => {
  // quotas 10/3 = 3.333 each; floors 3+3+3 = 9, one person left; the remainders tie (0.333 each), so it
  // goes to the smallest id, "z1", even though "z3" comes first in the input.
  const r = disaggregate([zone('z3', 'U', 1), zone('z1', 'U', 1), zone('z2', 'U', 1)], [{ unitCode: 'U', ageGroup: 'all', count: 10 }]);
  assert.deepEqual(countsOf(r, 'U', 'all'), { z1: 4, z2: 3, z3: 3 });
  // rows come in input order
  assert.deepEqual(r.counts.map((c) => c.zoneId), ['z3', 'z1', 'z2']);
  assert.deepEqual(r.unitsWithoutZones, []);
  assert.deepEqual(r.zonesWithoutTotals, []);
});

test('hand case: 7 over weights 0.5, 0.25, 0.25 → 3,2,2 by largest remainder', () => {
  // quotas 7×0.5 = 3.5, 7×0.25 = 1.75, 1.75; floors 3+1+1 = 5, two persons left; the largest remainders are
  // 0.75 and 0.75 (b and c), not a's 0.5: Hamilton gives 3,2,2. (4,2,1 would be D'Hondt/Jefferson — divisors
  // 1,2,3,… — which favours the large zone; that is not the method here.)
  const r = disaggregate([zone('a', 'U', 0.5), zone('b', 'U', 0.25), zone('c', 'U', 0.25)], [{ unitCode: 'U', ageGroup: '60-79', count: 7 }]);
  assert.deepEqual(countsOf(r, 'U', '60-79'), { a: 3, b: 2, c: 2 });
});

test('hand case: quotas that are not exact in floating point (3 over 0.1, 0.2, 0.7 → 0,1,2)', () => {
  // quotas 0.3, 0.6, 2.1; floors 0+0+2 = 2, one left, to the largest remainder 0.6 (b).
  assert.deepEqual(largestRemainder(3, [0.1, 0.2, 0.7]), [0, 1, 2]);
  // 100 over 1,1,1,…(7): quotas 14.2857; floors 14×7 = 98; two left, tie → first two by order.
  assert.deepEqual(largestRemainder(100, [1, 1, 1, 1, 1, 1, 1]), [15, 15, 14, 14, 14, 14, 14]);
  // scale-free: the same weights ×1e300 and ×1e-300 (sum would overflow / underflow unscaled)
  assert.deepEqual(largestRemainder(7, [0.5e300, 0.25e300, 0.25e300]), [3, 2, 2]);
  assert.deepEqual(largestRemainder(7, [0.5e-300, 0.25e-300, 0.25e-300]), [3, 2, 2]);
  assert.deepEqual(largestRemainder(7, [Number.MAX_VALUE, Number.MAX_VALUE, Number.MIN_VALUE]), [4, 3, 0]);
});

test('zero weights get nobody; a unit of only zero weights spreads evenly; a zero total gives zeros', () => {
  const r = disaggregate(
    [
      // unit A: weights 0, 2, 1, total 4 → quotas 0, 2.667, 1.333; floors 0+2+1 = 3; one left to b (0.667) → 0,3,1
      zone('a0', 'A', 0),
      zone('a1', 'A', 2),
      zone('a2', 'A', 1),
      // unit B: all weights 0, total 10 → evenly 2.5 each; floors 2×4 = 8; two left, tie → b1, b2 (by id)
      zone('b4', 'B', 0),
      zone('b3', 'B', 0),
      zone('b2', 'B', 0),
      zone('b1', 'B', 0),
      // unit C: one zone of weight 0 → evenly over one zone: all 5
      zone('c1', 'C', 0),
    ],
    [
      { unitCode: 'A', ageGroup: 'all', count: 4 },
      { unitCode: 'A', ageGroup: '80+', count: 0 },
      { unitCode: 'B', ageGroup: 'all', count: 10 },
      { unitCode: 'C', ageGroup: 'all', count: 5 },
    ],
  );
  assert.deepEqual(countsOf(r, 'A', 'all'), { a0: 0, a1: 3, a2: 1 });
  assert.deepEqual(countsOf(r, 'A', '80+'), { a0: 0, a1: 0, a2: 0 });
  assert.deepEqual(countsOf(r, 'B', 'all'), { b1: 3, b2: 3, b3: 2, b4: 2 });
  assert.deepEqual(countsOf(r, 'C', 'all'), { c1: 5 });
  assert.equal(r.counts.length, 3 + 3 + 4 + 1, 'one row per total × zone, zeros included');
});

test('units without zones and zones without totals are reported, not spread', () => {
  const r = disaggregate(
    [zone('x2', 'X', 1), zone('x1', 'X', 1), zone('y1', 'Y', 3), zone('w1', 'W', 1)],
    [
      { unitCode: 'Y', ageGroup: '0-14', count: 9 },
      { unitCode: 'Z', ageGroup: '0-14', count: 5 },
      { unitCode: 'Z', ageGroup: '15-64', count: 6 },
      { unitCode: 'V', ageGroup: 'all', count: 1 },
    ],
  );
  assert.deepEqual(r.unitsWithoutZones, ['V', 'Z']);
  assert.deepEqual(r.zonesWithoutTotals, ['w1', 'x1', 'x2']);
  assert.deepEqual(r.counts, [{ zoneId: 'y1', unitCode: 'Y', ageGroup: '0-14', count: 9 }]);
});

test('bad input is refused with the zone or total named', () => {
  const t: UnitTotal[] = [{ unitCode: 'U', ageGroup: 'all', count: 3 }];
  const bad = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => e instanceof LifecircleError && e.key === 'ARGUMENT_INVALID' && re.test(e.message));
  bad(() => disaggregate([zone('a', 'U', 1), zone('a', 'U', 2)], t), /zone a: duplicate zone id/);
  bad(() => disaggregate([zone('a', 'U', -1)], t), /zone a: weight is -1/);
  bad(() => disaggregate([zone('a', 'U', NaN)], t), /zone a: weight is NaN/);
  bad(() => disaggregate([zone('a', 'U', Infinity)], t), /zone a: weight is Infinity/);
  bad(() => disaggregate([zone('a', 'U', 1)], [{ unitCode: 'U', ageGroup: 'all', count: 2.5 }]), /total U all: count is 2.5/);
  bad(() => disaggregate([zone('a', 'U', 1)], [{ unitCode: 'U', ageGroup: 'all', count: -1 }]), /count is -1/);
  bad(() => disaggregate([zone('a', 'U', 1)], [...t, ...t]), /total U all: given twice/);
});

test('seeded random: 1,000 units, totals up to 10^6 — every unit and age group sums exactly', () => {
  const rand = mulberry32(20200101);
  const zones: Zone[] = [];
  const totals: UnitTotal[] = [];
  const groups = ['0-14', '15-59', '60-79', '80+'];
  for (let u = 0; u < 1000; u++) {
    const unit = `U${u}`;
    const n = 1 + Math.floor(rand() * 40);
    const kind = rand();
    for (let k = 0; k < n; k++) {
      let w: number;
      if (kind < 0.05) w = 0; // all-zero unit: spread evenly
      else if (kind < 0.15) w = 1; // one per address: many ties
      else if (rand() < 0.2) w = 0; // some empty buildings
      else w = Math.exp(rand() * 20 - 5) * (1 + Math.floor(rand() * 30)); // footprint × levels, ~5 orders of magnitude
      zones.push(zone(`${unit}-z${k}`, unit, w));
    }
    for (const g of groups) {
      const r = rand();
      const count = r < 0.03 ? 0 : r < 0.06 ? 1_000_000 : r < 0.2 ? Math.floor(rand() * 50) : Math.floor(rand() * 1_000_001);
      totals.push({ unitCode: unit, ageGroup: g, count });
    }
  }
  // shuffle zones: the result must not depend on input order
  const shuffled = [...zones];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
  }
  const r = disaggregate(zones, totals);
  const r2 = disaggregate(shuffled, totals);
  assert.deepEqual(r.unitsWithoutZones, []);
  assert.deepEqual(r.zonesWithoutTotals, []);
  assert.equal(r.counts.length, zones.length * groups.length);

  const zoneById = new Map(zones.map((z) => [z.id, z]));
  const weightSum = new Map<string, number>();
  const zoneCount = new Map<string, number>();
  for (const z of zones) {
    weightSum.set(z.unitCode, (weightSum.get(z.unitCode) ?? 0) + z.weight);
    zoneCount.set(z.unitCode, (zoneCount.get(z.unitCode) ?? 0) + 1);
  }
  const totalOf = new Map(totals.map((t) => [`${t.unitCode}|${t.ageGroup}`, t.count]));
  const sums = new Map<string, number>();
  let worstQuotaGap = 0;
  for (const c of r.counts) {
    assert.ok(Number.isSafeInteger(c.count) && c.count >= 0, `${c.zoneId} ${c.ageGroup}: ${c.count}`);
    const key = `${c.unitCode}|${c.ageGroup}`;
    sums.set(key, (sums.get(key) ?? 0) + c.count);
    const z = zoneById.get(c.zoneId)!;
    const W = weightSum.get(c.unitCode)!;
    const quota = W === 0 ? totalOf.get(key)! / zoneCount.get(c.unitCode)! : (totalOf.get(key)! * z.weight) / W;
    if (W > 0 && z.weight === 0) assert.equal(c.count, 0, `${c.zoneId}: weight 0 must get 0`);
    // Hamilton: every zone gets its quota rounded down or up, never further off
    worstQuotaGap = Math.max(worstQuotaGap, Math.abs(c.count - quota));
  }
  assert.ok(worstQuotaGap < 1 + 1e-6, `a zone is ${worstQuotaGap} persons from its quota`);
  for (const t of totals) assert.equal(sums.get(`${t.unitCode}|${t.ageGroup}`), t.count, `${t.unitCode} ${t.ageGroup}`);
  // same counts per zone whatever the zone order
  const asMap = (res: typeof r) => new Map(res.counts.map((c) => [`${c.zoneId}|${c.ageGroup}`, c.count]));
  assert.deepEqual(asMap(r2), asMap(r));
});

test('splitByAgeStructure: Huangpu 2020 (662,030) by the real 2020 Shanghai age structure', () => {
  const structure = readCsv(path.join(CENSUS, 'sh_city_population_structure_census_2020.csv'));
  const districts = readCsv(path.join(CENSUS, 'sh_district_population_census_2000_2010_2020.csv'));
  const city = Number(districts.find((d) => d.district_code === '310000')!.pop_census_2020);
  const huangpu = Number(districts.find((d) => d.district_code === '310101')!.pop_census_2020);
  assert.equal(city, 24_870_895);
  assert.equal(huangpu, 662_030);
  const bands = structure.filter((r) => r.indicator === 'age_group');
  assert.deepEqual(bands.map((b) => b.category), ['0-14', '15-64', '65+']);
  assert.equal(bands.reduce((s, b) => s + Number(b.value), 0), city, 'the age groups sum to the city total');
  const reference = bands.map((b) => ({ ageGroup: b.category, share: Number(b.value) / city }));

  const parts = splitByAgeStructure({ unitCode: '310101', ageGroup: 'all', count: huangpu }, reference);
  // 662,030 × 2,436,296 / 24,870,895 = 64,850.945; × 18,385,587 / … = 489,399.765; × 4,049,012 / … = 107,779.290.
  // floors 64,850 + 489,399 + 107,779 = 662,028: two persons left, to the largest remainders 0.945 and 0.765.
  assert.deepEqual(parts, [
    { unitCode: '310101', ageGroup: '0-14', count: 64_851 },
    { unitCode: '310101', ageGroup: '15-64', count: 489_400 },
    { unitCode: '310101', ageGroup: '65+', count: 107_779 },
  ]);
  assert.equal(parts.reduce((s, p) => s + p.count, 0), 662_030);
  for (const p of parts) {
    const share = reference.find((r) => r.ageGroup === p.ageGroup)!.share;
    assert.ok(Math.abs(p.count - huangpu * share) < 1, `${p.ageGroup}: ${p.count} vs ${huangpu * share}`);
  }
  // shares may be given as counts (normalised by their sum): same result
  assert.deepEqual(splitByAgeStructure({ unitCode: '310101', ageGroup: 'all', count: huangpu }, bands.map((b) => ({ ageGroup: b.category, share: Number(b.value) }))), parts);

  // every district: the parts sum exactly to the district's 2020 total
  for (const d of districts.filter((x) => x.district_code !== '310000')) {
    const total = Number(d.pop_census_2020);
    const ps = splitByAgeStructure({ unitCode: d.district_code, ageGroup: 'all', count: total }, reference);
    assert.equal(ps.reduce((s, p) => s + p.count, 0), total, d.district_name);
  }
});

test('splitByAgeStructure: bands given in any order, a sub-band total, and zero shares', () => {
  // "60+" split into 60-79 and 80+ with shares 3:1 → 100 × 0.75 = 75, × 0.25 = 25; returned youngest first
  assert.deepEqual(
    splitByAgeStructure({ unitCode: 'U', ageGroup: '60+', count: 100 }, [
      { ageGroup: '80+', share: 1 },
      { ageGroup: '60-79', share: 3 },
    ]),
    [
      { unitCode: 'U', ageGroup: '60-79', count: 75 },
      { unitCode: 'U', ageGroup: '80+', count: 25 },
    ],
  );
  // "0-14" into the standard bands 0-2, 3-5, 6-11, 12-14 by years (3,3,6,3 of 15): 31 × 0.2 = 6.2, 6.2, 12.4, 6.2;
  // floors 6+6+12+6 = 30; one left; remainders 0.2, 0.2, 0.4, 0.2 → 6-11 gets it
  assert.deepEqual(
    splitByAgeStructure({ unitCode: 'U', ageGroup: '0-14', count: 31 }, [
      { ageGroup: '0-2', share: 3 },
      { ageGroup: '3-5', share: 3 },
      { ageGroup: '6-11', share: 6 },
      { ageGroup: '12-14', share: 3 },
    ]).map((p) => p.count),
    [6, 6, 13, 6],
  );
  // a zero share gets nobody
  assert.deepEqual(
    splitByAgeStructure({ unitCode: 'U', ageGroup: 'all', count: 9 }, [
      { ageGroup: '0-14', share: 0 },
      { ageGroup: '15+', share: 1 },
    ]).map((p) => p.count),
    [0, 9],
  );
});

test('splitByAgeStructure: reference bands that do not tile the total are refused, naming the band', () => {
  const total: UnitTotal = { unitCode: '310101', ageGroup: 'all', count: 662_030 };
  const bad = (ref: Array<{ ageGroup: string; share: number }>, re: RegExp, t: UnitTotal = total) =>
    assert.throws(() => splitByAgeStructure(t, ref), (e: unknown) => e instanceof LifecircleError && e.key === 'ARGUMENT_INVALID' && re.test(e.message), JSON.stringify(ref));
  // gap 15-15 between 0-14 and 16-64
  bad([{ ageGroup: '0-14', share: 1 }, { ageGroup: '16-64', share: 1 }, { ageGroup: '65+', share: 1 }], /ages 15-15 between band "0-14" and band "16-64" are not covered/);
  // overlap
  bad([{ ageGroup: '0-14', share: 1 }, { ageGroup: '10-64', share: 1 }, { ageGroup: '65+', share: 1 }], /band "10-64" overlaps band "0-14"/);
  bad([{ ageGroup: '0-14', share: 1 }, { ageGroup: '15+', share: 1 }, { ageGroup: '65+', share: 1 }], /band "65\+" overlaps band "15\+"/);
  // the oldest ages missing / the youngest missing
  bad([{ ageGroup: '0-14', share: 1 }, { ageGroup: '15-64', share: 1 }], /ages 65\+ are not covered \(last band "15-64" ends at 64\)/);
  bad([{ ageGroup: '3-14', share: 1 }, { ageGroup: '15+', share: 1 }], /ages 0-2 are not covered \(first band "3-14"/);
  // bands beyond the total's band
  bad([{ ageGroup: '55-79', share: 1 }, { ageGroup: '80+', share: 1 }], /band "55-79" starts at 55, below 60/, { unitCode: 'U', ageGroup: '60+', count: 5 });
  bad([{ ageGroup: '60-69', share: 1 }, { ageGroup: '70+', share: 1 }], /band "70\+" goes beyond 79/, { unitCode: 'U', ageGroup: '60-79', count: 5 });
  // malformed labels
  bad([{ ageGroup: 'elderly', share: 1 }], /reference band "elderly" is not an age band/);
  bad([{ ageGroup: '0-14', share: 1 }], /age band "total" is not an age band/, { unitCode: 'U', ageGroup: 'total', count: 5 });
  // shares
  bad([{ ageGroup: '0-14', share: -0.1 }, { ageGroup: '15+', share: 1 }], /reference band "0-14": share is -0.1/);
  bad([{ ageGroup: '0-14', share: 0 }, { ageGroup: '15+', share: 0 }], /every reference share is 0/);
  bad([], /empty reference structure/);
});

test('heldBackError: hand-made case with known MAPE', () => {
  const r = heldBackError([
    // district P: true 60 + 40 = 100, equal weights → predicted 50, 50: APE |50−60|/60 = 16.667 %, |50−40|/40 = 25 %
    { code: 'P1', parentCode: 'P', trueCount: 60, weight: 1 },
    { code: 'P2', parentCode: 'P', trueCount: 40, weight: 1 },
    // district Q: true 30 + 10 = 40, weights 3:1 → predicted 30, 10: APE 0, 0
    { code: 'Q1', parentCode: 'Q', trueCount: 30, weight: 3 },
    { code: 'Q2', parentCode: 'Q', trueCount: 10, weight: 1 },
    // district R: one sub-unit, predicted exactly: APE 0
    { code: 'R1', parentCode: 'R', trueCount: 100, weight: 7 },
    // district S: true 5 + 4 = 9, equal weights → 4.5, 4.5 → tie, extra person to S1 (smaller code): 5, 4 → APE 0, 0
    { code: 'S2', parentCode: 'S', trueCount: 4, weight: 2 },
    { code: 'S1', parentCode: 'S', trueCount: 5, weight: 2 },
    // district T: true 8 + 2 = 10, weights 1:4 → predicted 2, 8: APE |2−8|/8 = 75 %, |8−2|/2 = 300 %
    { code: 'T1', parentCode: 'T', trueCount: 8, weight: 1 },
    { code: 'T2', parentCode: 'T', trueCount: 2, weight: 4 },
  ]);
  assert.deepEqual(
    r.rows.map((x) => [x.code, x.predicted, x.true]),
    [['P1', 50, 60], ['P2', 50, 40], ['Q1', 30, 30], ['Q2', 10, 10], ['R1', 100, 100], ['S2', 4, 4], ['S1', 5, 5], ['T1', 2, 8], ['T2', 8, 2]],
  );
  const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} vs ${b}`);
  close(r.rows[0].ape, 100 / 6, 'P1');
  close(r.rows[1].ape, 25, 'P2');
  close(r.rows[7].ape, 75, 'T1');
  close(r.rows[8].ape, 300, 'T2');
  // APEs sorted: 0,0,0,0,0, 16.667, 25, 75, 300 → mean (16.667 + 25 + 75 + 300) / 9 = 416.667 / 9 = 46.296 %,
  // median (5th of 9) 0, max 300, within ±20 %: 6 of 9
  close(r.mape, (100 / 6 + 25 + 75 + 300) / 9, 'mape');
  close(r.mape, 46.2962962963, 'mape by hand');
  assert.equal(r.medianApe, 0);
  assert.equal(r.maxApe, 300);
  close(r.within20, 6 / 9, 'within20');

  // even count: median is the mean of the two middle APEs; a true 0 predicted non-zero is Infinity
  const even = heldBackError([
    { code: 'a', parentCode: 'P', trueCount: 60, weight: 1 }, // 50 → 16.667 %
    { code: 'b', parentCode: 'P', trueCount: 40, weight: 1 }, // 50 → 25 %
    { code: 'c', parentCode: 'Q', trueCount: 0, weight: 1 }, // 0 → 0 %
    { code: 'd', parentCode: 'Q', trueCount: 0, weight: 3 }, // 0 → 0 %
  ]);
  close(even.medianApe, (0 + 100 / 6) / 2, 'median of 0, 0, 16.667, 25');
  close(even.within20, 3 / 4, 'within20');
  const zero = heldBackError([
    { code: 'a', parentCode: 'P', trueCount: 10, weight: 1 },
    { code: 'b', parentCode: 'P', trueCount: 0, weight: 1 }, // predicted 5 of nobody
  ]);
  assert.deepEqual(zero.rows.map((x) => [x.predicted, x.ape]), [[5, 50], [5, Infinity]]);
  assert.equal(zero.maxApe, Infinity);
  assert.equal(zero.mape, Infinity);
  assert.throws(() => heldBackError([]), /no sub-units/);
  assert.throws(() => heldBackError([{ code: 'a', parentCode: 'P', trueCount: 1.5, weight: 1 }]), /sub-unit a: trueCount is 1.5/);
});

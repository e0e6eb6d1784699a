/**
 * The assessment on a hand-made street: every rule kind, with each expected number worked out below from
 * blocks × seconds and head counts, never read back from the code under test.
 *
 *   A-B-C-D-E-F     one residential street, 100 m blocks, walk 1.25 m/s → 80 s per block
 *
 * Homes (exactly on nodes, so no access leg):
 *   h1 at B, committee …001: band 3-5 → 10 residents
 *   h2 at D, committee …001: band 0-5 → 12 residents (3-5 is 3 of its 6 years → 6, apportioned)
 *   h3 at F, committee …002: band 3-5 → 4 residents
 * Facilities: kindergarten at A (18 places), health station at C, day-care centre at E (1 m² building),
 *   park at E (52 m² land), rail stations at C and F, a bus stop at D. None carries a unit code: they are
 *   placed by the sub-district boundary, a box around the street.
 *
 * Reach, kindergarten within 4 min (240 s), ages 3-5, target 100 %:
 *   h1: 1 block = 80 s ✓; h2: 3 blocks = 240 s ✓ (on the cutoff, inclusive); h3: 5 blocks = 400 s ✗.
 *   committee …001: 16 of 16 → pass; committee …002: 0 of 4 → fail, 4 unserved, nearest beyond the field.
 *   sub-district: 16 of 20 = 0.8 → fail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assess, bandWeights, type AssessFacilities, type AssessHomes, type AssessmentResult, type AssessUnit } from '../../src/analysis/assess.ts';
import { RuleSchema, type EffectiveRule } from '../../src/standards/schema.ts';
import { writeAsciiOsm } from '../helpers/ascii-network.ts';
import { buildFromOsm } from '../helpers/graph.ts';

const net = writeAsciiOsm('A-B-C-D-E-F', { ABCDEF: { highway: 'residential' } });
const { graph } = await buildFromOsm(net.path, ['walk']);
const at = (letter: string) => net.node(letter);

const C1 = '310101001001';
const C2 = '310101001002';
const S = '310101001';
const homes: AssessHomes = {
  ids: ['h1', 'h2', 'h3'],
  lon: Float64Array.from(['B', 'D', 'F'], (l) => at(l).lon),
  lat: Float64Array.from(['B', 'D', 'F'], (l) => at(l).lat),
  unitCode: [C1, C1, C2],
  bands: new Map([
    ['3-5', Float64Array.of(10, 0, 4)],
    ['0-5', Float64Array.of(0, 12, 0)],
  ]),
  estimated: false,
};
const placed: Array<[string, string, string, number, number, number]> = [
  // id, category, at, capacity, building m², land m²
  ['k1', 'kindergarten', 'A', 18, NaN, NaN],
  ['hs1', 'community_health_station', 'C', NaN, NaN, NaN],
  ['dc1', 'elderly_day_care_centre', 'E', NaN, 1, NaN],
  ['p1', 'community_park', 'E', NaN, NaN, 52],
  ['r1', 'rail_transit_station', 'C', NaN, NaN, NaN],
  ['r2', 'rail_transit_station', 'F', NaN, NaN, NaN],
  ['b1', 'bus_stop', 'D', NaN, NaN, NaN],
  ['k-planned', 'kindergarten', 'F', 30, NaN, NaN],
];
const facilities: AssessFacilities = {
  ids: placed.map((p) => p[0]),
  names: placed.map(() => null),
  category: placed.map((p) => p[1]),
  status: placed.map((p) => (p[0] === 'k-planned' ? 'planned' : 'existing')),
  lon: Float64Array.from(placed, (p) => at(p[2]).lon),
  lat: Float64Array.from(placed, (p) => at(p[2]).lat),
  unitCode: placed.map(() => null),
  capacity: Float64Array.from(placed, (p) => p[3]),
  buildingAreaM2: Float64Array.from(placed, (p) => p[4]),
  landAreaM2: Float64Array.from(placed, (p) => p[5]),
};
const [x0, x1] = [at('A').lon - 0.01, at('F').lon + 0.01];
const [y0, y1] = [at('A').lat - 0.01, at('A').lat + 0.01];
const units: AssessUnit[] = [
  { code: S, level: 'subdistrict', name: '测试街道', parentCode: '310101', boundary: { type: 'MultiPolygon', coordinates: [[[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]] } },
  // seven committees: one health station per 5 committees asks for ceil(7 / 5) = 2
  ...Array.from({ length: 7 }, (_, i): AssessUnit => ({ code: `${S}00${i + 1}`, level: 'committee', name: `居委${i + 1}`, parentCode: S, boundary: null })),
];

const common = { title: { zh: '测试', en: 'test' }, domain: 'education', mandatory: true, verification: 'primary', citation: { document: 'test', clause: '1' }, sourceRuleIds: [] };
/** Through the catalogue's schema, so the fixtures are rules a user could write. */
const rule = (r: Record<string, unknown>): EffectiveRule => ({ ...RuleSchema.parse({ ...common, ...r }), enabled: true });
const reachRule = (id: string, unitLevel: string) => rule({ id, kind: 'reach', categories: ['kindergarten'], unitLevel, mode: 'walk', minutes: 4, targetShare: 1, ages: { min: 3, max: 5 } });

test('target ages from stored bands by overlap of years', () => {
  assert.deepEqual(bandWeights(['0-5', '6-11'], { min: 3, max: 5 }), { weights: new Map([['0-5', 0.5]]), apportioned: true });
  assert.deepEqual(bandWeights(['60-79', '80+'], { min: 60, max: null }), { weights: new Map([['60-79', 1], ['80+', 1]]), apportioned: false });
  // "all" is used only when there are no finer bands: 0-100 holds 101 years, 3 of them are 3-5
  const all = bandWeights(['all'], { min: 3, max: 5 });
  assert.ok(Math.abs(all.weights.get('all')! - 3 / 101) < 1e-15 && all.apportioned);
});

test('reach: served shares per committee and sub-district, cutoff inclusive, gaps with the unserved homes', () => {
  const r = assess(graph, [reachRule('k-c', 'committee'), reachRule('k-s', 'subdistrict')], homes, facilities, units);
  const byKey = new Map(r.results.map((x) => [`${x.ruleId} ${x.unitCode}`, x]));
  const c1 = byKey.get(`k-c ${C1}`)!;
  assert.equal(c1.verdict, 'pass');
  assert.equal(c1.targetResidents, 16);
  assert.equal(c1.value, 1);
  assert.equal(c1.agesApportioned, true, 'h2\'s 0-5 band was apportioned');
  const c2 = byKey.get(`k-c ${C2}`)!;
  assert.deepEqual([c2.verdict, c2.value, c2.targetResidents, c2.unservedResidents], ['fail', 0, 4, 4]);
  const s = byKey.get(`k-s ${S}`)!;
  assert.deepEqual([s.verdict, s.value, s.targetResidents, s.unservedResidents], ['fail', 0.8, 20, 4]);
  const times = r.homeTimes.get('kindergarten|walk')!;
  assert.ok(Math.abs(times.timeS[0] - 80) < 1e-6 && Math.abs(times.timeS[1] - 240) < 1e-6, `${times.timeS}`);
  assert.equal(times.timeS[2], Infinity, 'beyond the 240 s field');
  const gap = r.gaps.find((g) => g.ruleId === 'k-c')!;
  assert.equal(gap.unitCode, C2);
  assert.deepEqual(gap.homes.map((h) => [h.id, h.residents, h.nearestTimeS]), [['h3', 4, Infinity]]);
  assert.match(gap.en, /0\.0 % of 4 residents aged 3-5 reach a kindergarten within 4 min by walk \(target 100\.0 %\); 4 do not/);
  assert.match(gap.zh, /3-5岁居民 4 人中 0\.0 % 可在步行 4 分钟内到达kindergarten/);
  // re-verification of a plan: the planned kindergarten at F serves h3 (0 s)
  const plan = assess(graph, [reachRule('k-c', 'committee')], homes, facilities, units, { statuses: ['existing', 'planned'] });
  assert.ok(plan.results.every((x) => x.verdict === 'pass'));
});

test('reach rate grows with the time budget, and served + unserved = target residents', () => {
  let previous = -1;
  for (const minutes of [1, 2, 4, 6, 8]) {
    const r = assess(graph, [rule({ id: 'k', kind: 'reach', categories: ['kindergarten'], unitLevel: 'subdistrict', mode: 'walk', minutes, targetShare: 1 })], homes, facilities, units);
    const s = r.results[0];
    assert.ok(s.value! >= previous);
    previous = s.value!;
    assert.ok(Math.abs(s.value! * s.targetResidents + s.unservedResidents - s.targetResidents) < 1e-9);
  }
  assert.equal(previous, 1, '8 min = 480 s reaches F (400 s)');
});

test('counts, residents per facility, areas per 1,000 and per resident, capacity ratio, rail–bus share', () => {
  const rules = [
    rule({ id: 'count', kind: 'count_per_unit', categories: ['kindergarten'], unitLevel: 'subdistrict', minCount: 1 }),
    rule({ id: 'per-committees', kind: 'count_per_unit', categories: ['community_health_station'], unitLevel: 'subdistrict', minCount: 1, perCommittees: 5 }),
    rule({ id: 'pop-per', kind: 'population_per_facility', categories: ['community_health_station'], unitLevel: 'subdistrict', maxResidentsPerFacility: 10 }),
    rule({ id: 'area', kind: 'area_per_1000', categories: ['elderly_day_care_centre'], unitLevel: 'subdistrict', minAreaM2Per1000: 40, areaField: 'building' }),
    rule({ id: 'green', kind: 'per_capita_area', categories: ['community_park'], unitLevel: 'subdistrict', minM2PerResident: 2, areaField: 'land' }),
    rule({ id: 'places', kind: 'capacity_ratio', categories: ['kindergarten'], unitLevel: 'subdistrict', minPlacesPerTarget: 1, ages: { min: 3, max: 5 } }),
    rule({ id: 'rail-bus', kind: 'rail_bus_share', categories: ['rail_transit_station'], unitLevel: 'subdistrict', withinM: 100, targetShare: 1, busCategories: ['bus_stop'] }),
  ];
  const r = assess(graph, rules, homes, facilities, units);
  const v = (id: string) => r.results.find((x) => x.ruleId === id)!;
  // one existing kindergarten (the planned one does not count)
  assert.deepEqual([v('count').verdict, v('count').value, v('count').threshold], ['pass', 1, 1]);
  // 7 committees → 2 stations required, 1 found
  assert.deepEqual([v('per-committees').verdict, v('per-committees').value, v('per-committees').threshold], ['fail', 1, 2]);
  // all ages: 10 + 12 + 4 = 26 residents on one station (at most 10 each → 3 needed)
  assert.deepEqual([v('pop-per').verdict, v('pop-per').value], ['fail', 26]);
  assert.match(r.gaps.find((g) => g.ruleId === 'pop-per')!.en, /26 residents share 1 community_health_station \(at most 10 per facility: 3 needed\)/);
  // 1 m² / 26 residents × 1000 = 38.46 m² per 1,000 < 40: short by 40 × 26 / 1000 − 1 = 0.04 m²
  assert.equal(v('area').verdict, 'fail');
  assert.ok(Math.abs(v('area').value! - 1000 / 26) < 1e-9);
  // 52 m² / 26 = 2 m² per resident: exactly the norm → pass
  assert.deepEqual([v('green').verdict, v('green').value], ['pass', 2]);
  // 18 places / 20 children aged 3-5 = 0.9 < 1 → 2 places short
  assert.equal(v('places').verdict, 'fail');
  assert.ok(Math.abs(v('places').value! - 0.9) < 1e-12);
  assert.match(r.gaps.find((g) => g.ruleId === 'places')!.en, /2 places short/);
  // station C has the stop at D 100 m away (80 s = 100 m at 1.25 m/s, inclusive); F's nearest stop is 200 m away
  assert.deepEqual([v('rail-bus').verdict, v('rail-bus').value, v('rail-bus').note], ['fail', 0.5, '1 of 2 stations have a bus stop within 100 m of walking']);
});

test('floating catchment on the network (2SFCA): places per child within 4 min walk, by hand', () => {
  // k1 at A has 18 places; within 240 s of A: h1 (80 s, 10 children) and h2 (240 s, 6 of its 0-5 band) → 16
  // R = 18 / 16 = 1.125 places per child; A(h1) = A(h2) = 1.125, A(h3) = 0 (400 s away).
  // Sub-district: (16 × 1.125) / 20 = 0.9 < 1 → fail, 4 children reach none; committee …001: 1.125 → pass.
  const rules = [
    rule({ id: 'places-4min', kind: 'capacity_ratio', categories: ['kindergarten'], unitLevel: 'subdistrict', minPlacesPerTarget: 1, ages: { min: 3, max: 5 }, withinMinutes: 4, mode: 'walk' }),
    rule({ id: 'places-4min-c', kind: 'capacity_ratio', categories: ['kindergarten'], unitLevel: 'committee', minPlacesPerTarget: 1, ages: { min: 3, max: 5 }, withinMinutes: 4 }),
  ];
  const r = assess(graph, rules, homes, facilities, units);
  const s = r.results.find((x) => x.ruleId === 'places-4min')!;
  assert.equal(s.verdict, 'fail');
  assert.ok(Math.abs(s.value! - 0.9) < 1e-12, `${s.value}`);
  assert.equal(s.unservedResidents, 4);
  assert.match(s.note!, /2SFCA on the walk network within 4 min/);
  const c1 = r.results.find((x) => x.ruleId === 'places-4min-c' && x.unitCode === C1)!;
  assert.ok(Math.abs(c1.value! - 1.125) < 1e-12 && c1.verdict === 'pass');
  assert.equal(r.results.find((x) => x.ruleId === 'places-4min-c' && x.unitCode === C2)!.value, 0);
});

test('bad input: a category no facility has, a unit without residents, a unit away from every street — said, and the rest still runs', () => {
  const rules = [
    rule({ id: 'nothing', kind: 'reach', categories: ['library'], unitLevel: 'subdistrict', mode: 'walk', minutes: 15, targetShare: 1 }),
    rule({ id: 'catchment', kind: 'area_per_1000', categories: ['elderly_day_care_centre'], unitLevel: 'subdistrict', minAreaM2Per1000: 40, areaField: 'building', withinM: 1000 }),
    rule({ id: 'elderly-area', kind: 'capacity_ratio', categories: ['kindergarten'], unitLevel: 'subdistrict', minPlacesPerTarget: 1, ages: { min: 60, max: null } }),
    reachRule('k-s', 'subdistrict'),
  ];
  // a committee whose only home lies 2 km off the street, and one the population data does not cover
  const island = `${S}008`;
  const withIsland: AssessHomes = { ...homes, ids: [...homes.ids, 'h-island'], lon: Float64Array.of(...homes.lon, at('C').lon), lat: Float64Array.of(...homes.lat, at('C').lat + 0.018), unitCode: [...homes.unitCode, island], bands: new Map([...homes.bands].map(([b, c]) => [b, Float64Array.of(...c, b === '3-5' ? 7 : 0)])) };
  const moreUnits = [...units, { code: island, level: 'committee' as const, name: '江心岛', parentCode: S, boundary: null }];
  const r = assess(graph, rules, withIsland, facilities, moreUnits);
  const issue = (code: string) => r.unitIssues.find((u) => u.unitCode === code);
  assert.equal(issue(island)?.kind, 'off-network');
  assert.match(issue(island)!.en, /江心岛 \(310101001008\): none of its 1 homes with residents is near a street \(no way usable by walk within 500 m .*\); its 7 residents count as unserved/);
  assert.match(issue(island)!.zh, /江心岛（310101001008）：1 处有居民的住宅附近均无可用道路/);
  assert.equal(issue(`${S}003`)?.kind, 'no-residents', 'a listed committee without homes');
  assert.match(issue(`${S}003`)!.en, /居委3 \(310101001003\): no residents in the population data/);
  assert.equal(issue(`${S}001`), undefined);
  const islandReach = r.results.find((x) => x.ruleId === 'k-s' && x.unitCode === S)!;
  assert.equal(islandReach.offNetworkResidents, 7, 'the residents of the island are counted unserved, off the network');
  assert.match(r.skipped.find((s) => s.ruleId === 'nothing')!.reason, /not evaluated: the project has no library/);
  assert.equal(r.results.find((x) => x.ruleId === 'nothing'), undefined, 'no results for a rule the data cannot answer');
  assert.equal(r.results.find((x) => x.ruleId === 'elderly-area')!.verdict, 'not-applicable', 'no residents aged 60+');
  assert.equal(r.results.find((x) => x.ruleId === 'k-s')!.value, 16 / 27, 'the other rules still ran: 16 of the 20 on the street and the 7 on the island served');
});

test('moving a facility updates only what it touches, and equals a full run (random moves on a grid)', async () => {
  const { mulberry32 } = await import('../../src/util/random.ts');
  const rand = mulberry32(11);
  // a 7 × 7 grid of streets, 100 m blocks
  const rows = ['A-B-C-D-E-F-G', '|', 'H-I-J-K-L-M-N', '|', 'O-P-Q-R-S-T-U', '|', 'V-W-X-Y-Z-a-b'];
  const drawing = rows.map((r) => (r === '|' ? '|' + ' |'.repeat(6) : r)).join('\n');
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZab';
  const ways: Record<string, Record<string, string>> = {};
  for (let r = 0; r < 4; r++) ways[letters.slice(r * 7, r * 7 + 7)] = { highway: 'residential' };
  for (let c = 0; c < 7; c++) ways[[0, 1, 2, 3].map((r) => letters[r * 7 + c]).join('')] = { highway: 'footway' };
  const grid = writeAsciiOsm(drawing, ways);
  const { graph: g } = await buildFromOsm(grid.path, ['walk']);
  const [lon0, lat0] = [grid.node('A').lon, grid.node('A').lat];
  const [dLon, dLat] = [grid.node('G').lon - lon0, grid.node('V').lat - lat0];
  const point = () => [lon0 + rand() * dLon, lat0 + rand() * dLat] as const;
  const nH = 120;
  const hp = Array.from({ length: nH }, point);
  const gridHomes: AssessHomes = { ids: hp.map((_, i) => `h${i}`), lon: Float64Array.from(hp, (p) => p[0]), lat: Float64Array.from(hp, (p) => p[1]), unitCode: hp.map(() => S), bands: new Map([['3-5', Float64Array.from(hp, () => 1 + Math.floor(rand() * 5))]]), estimated: false };
  const nF = 12;
  const fp = Array.from({ length: nF }, point);
  const gridFacilities = (): AssessFacilities => ({
    ids: fp.map((_, i) => `k${i}`), names: fp.map(() => null), category: fp.map(() => 'kindergarten'), status: fp.map(() => 'existing'),
    lon: Float64Array.from(fp, (p) => p[0]), lat: Float64Array.from(fp, (p) => p[1]), unitCode: fp.map(() => null),
    capacity: Float64Array.from(fp, () => 20), buildingAreaM2: new Float64Array(nF).fill(NaN), landAreaM2: new Float64Array(nF).fill(NaN),
  });
  const box2 = { type: 'MultiPolygon' as const, coordinates: [[[[lon0 - 0.01, lat0 + 0.01], [lon0 + dLon + 0.01, lat0 + 0.01], [lon0 + dLon + 0.01, lat0 + dLat - 0.01], [lon0 - 0.01, lat0 + dLat - 0.01], [lon0 - 0.01, lat0 + 0.01]]]] };
  const gridUnits: AssessUnit[] = [{ code: S, level: 'subdistrict', name: 'grid', parentCode: null, boundary: box2 }];
  const rules = [
    rule({ id: 'k3', kind: 'reach', categories: ['kindergarten'], unitLevel: 'subdistrict', mode: 'walk', minutes: 3, targetShare: 1, ages: { min: 3, max: 5 } }),
    rule({ id: 'k6', kind: 'reach', categories: ['kindergarten'], unitLevel: 'committee', mode: 'walk', minutes: 6, targetShare: 1 }),
    rule({ id: 'places', kind: 'capacity_ratio', categories: ['kindergarten'], unitLevel: 'committee', minPlacesPerTarget: 1, ages: { min: 3, max: 5 } }),
    rule({ id: 'places-4min', kind: 'capacity_ratio', categories: ['kindergarten'], unitLevel: 'committee', minPlacesPerTarget: 2, ages: { min: 3, max: 5 }, withinMinutes: 4 }),
    rule({ id: 'count', kind: 'count_per_unit', categories: ['kindergarten'], unitLevel: 'committee', minCount: 2, unitShare: 0.5 }),
  ];
  // two committees: the west half by its code on the homes, the east half by boundary only
  const midLon = lon0 + dLon / 2;
  const box = (w: number, e: number) => ({ type: 'MultiPolygon' as const, coordinates: [[[[w, lat0 + 0.01], [e, lat0 + 0.01], [e, lat0 + dLat - 0.01], [w, lat0 + dLat - 0.01], [w, lat0 + 0.01]]]] });
  const west = `${S}001`;
  const east = `${S}002`;
  const units = [...gridUnits, { code: west, level: 'committee' as const, name: 'west', parentCode: S, boundary: box(lon0 - 0.01, midLon) }, { code: east, level: 'committee' as const, name: 'east', parentCode: S, boundary: box(midLon, lon0 + dLon + 0.01) }];
  const homesByHalf: AssessHomes = { ...gridHomes, unitCode: hp.map((p) => (p[0] < midLon ? west : S)) };
  const live = gridFacilities();
  const { createAssessment } = await import('../../src/analysis/assess.ts');
  const incremental = createAssessment(g, rules, homesByHalf, live, units);
  // the full run's figures, with values to 12 digits (sums of the same numbers in another order may differ in the last bit)
  const resultsOf = (r: AssessmentResult) => new Map(r.results.map((x) => [`${x.ruleId}|${x.unitCode}`, [x.verdict, x.value?.toPrecision(12), x.targetResidents, x.unservedResidents, x.offNetworkResidents, x.facilities, x.note].join(' ')]));
  const gapsOf = (r: AssessmentResult) => new Map(r.gaps.map((x) => [`${x.ruleId}|${x.unitCode}`, [x.en, x.zh, x.shortfall.toPrecision(12), ...x.homes.map((h) => `${h.id}:${h.residents}:${h.nearestTimeS.toFixed(6)}`)].join(' ')]));
  let before = incremental.result;
  let recomputedTotal = 0;
  let catchmentChanges = 0;
  let summaryChanges = 0;
  for (let m = 0; m < 120; m++) {
    const f = Math.floor(rand() * nF);
    const [lon, lat] = m === 7 ? [lon0 + 0.2, lat0 + 0.2] : point(); // move 7 goes far off the network
    fp[f] = [lon, lat];
    const step = incremental.moveFacility(f, lon, lat);
    recomputedTotal += step.homesRecomputed;
    assert.ok(step.rulesReevaluated >= 3 && step.rulesReevaluated <= 5, `move ${m}: ${step.rulesReevaluated} rules`);
    const full = assess(g, rules, homesByHalf, gridFacilities(), units);
    const a = step.result.homeTimes.get('kindergarten|walk')!;
    const b = full.homeTimes.get('kindergarten|walk')!;
    for (let i = 0; i < nH; i++) {
      const same = a.timeS[i] === b.timeS[i] || Math.abs(a.timeS[i] - b.timeS[i]) < 1e-9;
      assert.ok(same, `move ${m} (facility ${f}), home ${i}: incremental ${a.timeS[i]} vs full ${b.timeS[i]}`);
    }
    assert.deepEqual(resultsOf(step.result), resultsOf(full), `move ${m}: results`);
    assert.deepEqual(gapsOf(step.result), gapsOf(full), `move ${m}: gaps`);
    assert.deepEqual(step.result.results.map((x) => `${x.ruleId}|${x.unitCode}`), full.results.map((x) => `${x.ruleId}|${x.unitCode}`), `move ${m}: order`);
    // the change list holds every result that differs from the state before the move, and the gaps closed
    const was = resultsOf(before);
    const now = resultsOf(full);
    const reported = new Set(step.changes.results.map((x) => `${x.ruleId}|${x.unitCode}`));
    for (const [k, v] of now) if (was.get(k) !== v) assert.ok(reported.has(k), `move ${m}: change of ${k} not reported`);
    assert.deepEqual(new Set(step.changes.removedResults.map((x) => `${x.ruleId}|${x.unitCode}`)), new Set([...was.keys()].filter((k) => !now.has(k))), `move ${m}: removed rows`);
    const gapsWere = gapsOf(before);
    const gapsNow = gapsOf(full);
    assert.deepEqual(new Set(step.changes.closedGaps.map((x) => `${x.ruleId}|${x.unitCode}`)), new Set([...gapsWere.keys()].filter((k) => !gapsNow.has(k))), `move ${m}: closed gaps`);
    for (const gap of step.changes.gaps) assert.ok(gapsNow.has(`${gap.ruleId}|${gap.unitCode}`), `move ${m}: reported gap ${gap.ruleId}|${gap.unitCode} is open`);
    if ([...reported].some((k) => k.startsWith('places-4min|'))) catchmentChanges++;
    if (reported.has('count|*')) summaryChanges++;
    before = step.result;
  }
  // a move's whole result is assembled when read, so it can be read only until the next move
  const stale = incremental.moveFacility(0, fp[0][0], fp[0][1]);
  incremental.moveFacility(1, fp[1][0], fp[1][1]);
  assert.throws(() => stale.result, /no longer current/);
  assert.equal(incremental.current().results.length, before.results.length);
  assert.ok(catchmentChanges > 0, 'the catchment rule changed with some move');
  assert.ok(summaryChanges > 0, 'the share of committees with two kindergartens changed with some move');
  // a 6-minute field covers most of this small grid; still, not every home of the field and the catchment each time
  assert.ok(recomputedTotal < 120 * 2 * nH, 'not every home each time');
});

/**
 * A move's search from each home that lost its facility stops once nothing nearer can come; the bound must
 * come from this home's own search. Drawn so that a bound left over from the home searched before would stop
 * too early (100 m blocks, walking 1.25 m/s):
 *
 *   N-P-Q-R-S-T-U-V      h1 at V, h2 at Q; kindergarten f at S (the nearest for both), k at K
 *     |                  f moves S → V. h1 (searched first) ends with 0 s at V; read by h2 through V that
 *     O                  would put f at 0 m, but h2 reaches it only along its street: Q → V 500 m (400 s).
 *     |                  h2's nearest is k: Q → P → O → X → K = 400 m (320 s), on a street that does not
 *   Z-X-K-Y              touch P. A stale bound would stop h2's search at P and keep f.
 */
test('a move recomputes each home that lost its facility from its own search only', async () => {
  const net = writeAsciiOsm(['N-P-Q-R-S-T-U-V', '  |', '  O', '  |', 'Z-X-K-Y'].join('\n'), { NPQRSTUV: { highway: 'residential' }, POX: { highway: 'footway' }, ZXKY: { highway: 'residential' } });
  const { graph: g } = await buildFromOsm(net.path, ['walk']);
  const p = (l: string) => net.node(l);
  const lineHomes: AssessHomes = { ids: ['h1', 'h2'], lon: Float64Array.of(p('V').lon, p('Q').lon), lat: Float64Array.of(p('V').lat, p('Q').lat), unitCode: [S, S], bands: new Map([['3-5', Float64Array.of(5, 5)]]), estimated: false };
  const kg = (): AssessFacilities => ({
    ids: ['f', 'k'], names: [null, null], category: ['kindergarten', 'kindergarten'], status: ['existing', 'existing'],
    lon: Float64Array.of(p('S').lon, p('K').lon), lat: Float64Array.of(p('S').lat, p('K').lat), unitCode: [S, S],
    capacity: Float64Array.of(NaN, NaN), buildingAreaM2: Float64Array.of(NaN, NaN), landAreaM2: Float64Array.of(NaN, NaN),
  });
  const rules = [rule({ id: 'k15', kind: 'reach', categories: ['kindergarten'], unitLevel: 'subdistrict', mode: 'walk', minutes: 15, targetShare: 1 })];
  const { createAssessment } = await import('../../src/analysis/assess.ts');
  const a = createAssessment(g, rules, lineHomes, kg(), [{ code: S, level: 'subdistrict', name: 'line', parentCode: null, boundary: null }]);
  assert.deepEqual([...a.result.homeTimes.get('kindergarten|walk')!.facility], [0, 0], 'f is the nearest of both homes before the move');
  const step = a.moveFacility(0, p('V').lon, p('V').lat);
  const t = step.result.homeTimes.get('kindergarten|walk')!;
  assert.equal(t.facility[0], 0, 'h1: f, now at its door');
  assert.ok(Math.abs(t.timeS[0]) < 0.01, `h1: ${t.timeS[0]} s`);
  assert.equal(t.facility[1], 1, 'h2: k, 400 m, not f along the street at 500 m');
  assert.ok(Math.abs(t.timeS[1] - 400 / 1.25) < 0.01, `h2: ${t.timeS[1]} s`);
});

test('a move reports rows that disappear (a committee whose last rail station left) and counts snap failures over all fields', async () => {
  const { createAssessment } = await import('../../src/analysis/assess.ts');
  // rail–bus share per committee: the west committee's only station moves east, so its row goes
  const mid = (at('C').lon + at('D').lon) / 2;
  const strip = (w: number, e: number) => ({ type: 'MultiPolygon' as const, coordinates: [[[[w, y0], [e, y0], [e, y1], [w, y1], [w, y0]]]] });
  const halves: AssessUnit[] = [units[0], { code: C1, level: 'committee', name: 'west', parentCode: S, boundary: strip(x0, mid) }, { code: C2, level: 'committee', name: 'east', parentCode: S, boundary: strip(mid, x1) }];
  const transit = (): AssessFacilities => ({
    ids: ['r1', 'b1', 'b2'], names: [null, null, null], category: ['rail_transit_station', 'bus_stop', 'bus_stop'], status: ['existing', 'existing', 'existing'],
    lon: Float64Array.of(at('A').lon, at('B').lon, at('F').lon), lat: Float64Array.of(at('A').lat, at('B').lat, at('F').lat), unitCode: [null, null, null],
    capacity: new Float64Array(3).fill(NaN), buildingAreaM2: new Float64Array(3).fill(NaN), landAreaM2: new Float64Array(3).fill(NaN),
  });
  const railBus = [rule({ id: 'rb', kind: 'rail_bus_share', categories: ['rail_transit_station'], unitLevel: 'committee', withinM: 150, targetShare: 1, busCategories: ['bus_stop'] })];
  const a = createAssessment(graph, railBus, homes, transit(), halves);
  assert.deepEqual(a.result.results.map((r) => `${r.unitCode} ${r.verdict}`), [`${C1} pass`]);
  const m = a.moveFacility(0, at('F').lon, at('F').lat);
  assert.deepEqual(m.result.results.map((r) => `${r.unitCode} ${r.verdict}`), [`${C2} pass`]);
  assert.deepEqual(m.changes.results.map((r) => r.unitCode), [C2]);
  assert.deepEqual(m.changes.removedResults, [{ ruleId: 'rb', level: 'committee', unitCode: C1 }]);

  // a kindergarten on steps: snapped for walking, not for elderly walking (no steps without a ramp)
  const stepsNet = writeAsciiOsm('A-B-C-D-E', { ABC: { highway: 'residential' }, CDE: { highway: 'steps' } });
  const { graph: g2 } = await buildFromOsm(stepsNet.path, ['walk', 'elderly']);
  const p = (l: string) => stepsNet.node(l);
  const one: AssessHomes = { ids: ['h'], lon: Float64Array.of(p('B').lon), lat: Float64Array.of(p('B').lat), unitCode: [S], bands: new Map([['all', Float64Array.of(10)]]), estimated: false };
  const kgs = (lonE: number): AssessFacilities => ({
    ids: ['k1', 'k2'], names: [null, null], category: ['kindergarten', 'kindergarten'], status: ['existing', 'existing'], lon: Float64Array.of(lonE, p('A').lon), lat: Float64Array.of(p('E').lat, p('A').lat), unitCode: [null, null],
    capacity: Float64Array.of(NaN, NaN), buildingAreaM2: Float64Array.of(NaN, NaN), landAreaM2: Float64Array.of(NaN, NaN),
  });
  const both = [
    rule({ id: 'eld', kind: 'reach', categories: ['kindergarten'], unitLevel: 'subdistrict', mode: 'elderly', minutes: 10, targetShare: 1 }),
    rule({ id: 'walk', kind: 'reach', categories: ['kindergarten'], unitLevel: 'subdistrict', mode: 'walk', minutes: 10, targetShare: 1 }),
  ];
  const opts = { maxSnapM: 20 };
  const b = createAssessment(g2, both, one, kgs(p('E').lon), [units[0]], opts);
  assert.equal(b.result.snapFailures.facilities, 1);
  const lonE = p('E').lon + 0.00001;
  const moved = b.moveFacility(0, lonE, p('E').lat);
  assert.equal(moved.result.snapFailures.facilities, assess(g2, both, one, kgs(lonE), [units[0]], opts).snapFailures.facilities);
  assert.equal(moved.result.snapFailures.facilities, 1);
  assert.throws(() => b.moveFacility(5, 121, 31), /facility index 5 is not one of the 2 facilities/);
});

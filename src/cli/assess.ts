import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { sha256File } from '../util/hash.ts';
import { join } from 'node:path';
import { assess, residentsPerHome, type AssessFacilities, type AssessHomes, type AssessmentResult, type AssessUnit } from '../analysis/assess.ts';
import { loadCatalogue, type LoadedCatalogue } from '../standards/catalogue.ts';
import type { EffectiveRule } from '../standards/schema.ts';
import { loadGraph, type Graph } from '../network/index.ts';
import type { BatchSummary, ProjectStore, StoredGap, StoredResult } from '../store/store.ts';
import type { ReportData, ReportRule } from '../report/model.ts';
import { writeHtmlReport } from '../report/html.ts';
import { csvCell } from '../io/export.ts';

/**
 * `lifecircle assess`: the whole assessment on a project store and a graph file — load the inputs, run
 * every enabled rule, store the results with the versions of their inputs, write CSV and GeoJSON per unit
 * and per gap, and the HTML report.
 */
export interface AssessInputs {
  homes: AssessHomes;
  facilities: AssessFacilities;
  units: AssessUnit[];
  /** Batches the inputs came from (ids), and the population source used. */
  batchIds: number[];
  populationSource: string | null;
  /** Homes left out: no coordinates, or outside the assessed extent. */
  homesWithoutLocation: number;
  homesOutsideExtent: number;
  /** Units in scope (inside the graph's extent). */
  scope: string[];
}

/**
 * Reads homes, facilities and units from the store. Homes are the population zones of one source (default:
 * the most recently imported source of zones finer than units; several sources would double-count). With
 * an extent, only homes inside it are kept and only units whose boundary box lies inside it are in scope.
 */
export async function loadAssessInputs(store: ProjectStore, options: { populationSource?: string; extent?: [number, number, number, number] } = {}): Promise<AssessInputs> {
  const units: AssessUnit[] = [];
  const unitBatches = new Set<number>();
  for await (const u of store.records('units')) {
    units.push({ code: u.code, level: u.level, name: u.name, parentCode: u.parentCode, boundary: u.boundary });
    unitBatches.add(u.batchId);
  }
  // population: zones of one source, the latest year
  const zoneSources = new Map<string, number>(); // source → last batch id
  for await (const p of store.records('population')) if (p.zoneKind !== 'unit') zoneSources.set(p.source, Math.max(zoneSources.get(p.source) ?? 0, p.batchId));
  const populationSource = options.populationSource ?? ([...zoneSources].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null);
  const inExtent = (lon: number, lat: number) => !options.extent || (lon >= options.extent[0] && lon <= options.extent[2] && lat >= options.extent[1] && lat <= options.extent[3]);
  const zoneIndex = new Map<string, number>();
  const ids: string[] = [];
  const lon: number[] = [];
  const lat: number[] = [];
  const unitCode: string[] = [];
  const bandCounts = new Map<string, number[]>();
  let estimated = false;
  let withoutLocation = 0;
  let outside = 0;
  const homeBatches = new Set<number>();
  const years = new Map<string, number>();
  if (populationSource !== null) {
    for await (const p of store.records('population')) if (p.source === populationSource) years.set(p.zoneId, Math.max(years.get(p.zoneId) ?? 0, p.year));
    const seenSkipped = new Set<string>();
    for await (const p of store.records('population')) {
      if (p.source !== populationSource || p.year !== years.get(p.zoneId)) continue;
      if (p.lon === null || p.lat === null || !inExtent(p.lon, p.lat)) {
        if (!seenSkipped.has(p.zoneId)) {
          seenSkipped.add(p.zoneId);
          if (p.lon === null || p.lat === null) withoutLocation++;
          else outside++;
        }
        continue;
      }
      let i = zoneIndex.get(p.zoneId);
      if (i === undefined) {
        i = ids.length;
        zoneIndex.set(p.zoneId, i);
        ids.push(p.zoneId);
        lon.push(p.lon);
        lat.push(p.lat);
        unitCode.push(p.unitCode ?? '');
      }
      let counts = bandCounts.get(p.ageGroup);
      if (!counts) bandCounts.set(p.ageGroup, (counts = []));
      counts[i] = (counts[i] ?? 0) + p.count;
      if (p.estimated) estimated = true;
      homeBatches.add(p.batchId);
    }
  }
  const n = ids.length;
  const bands = new Map<string, Float64Array>();
  for (const [band, counts] of bandCounts) {
    const a = new Float64Array(n);
    for (let i = 0; i < n; i++) a[i] = counts[i] ?? 0;
    bands.set(band, a);
  }
  const facilityRecords = [];
  const facilityBatches = new Set<number>();
  // facilities a little beyond the extent still serve homes inside it; farther ones cannot (and would only be snapped in vain)
  const margin = 0.02; // degrees, ≈ 2 km
  const nearExtent = (lon: number, lat: number) => !options.extent || (lon >= options.extent[0] - margin && lon <= options.extent[2] + margin && lat >= options.extent[1] - margin && lat <= options.extent[3] + margin);
  for await (const f of store.records('facilities')) {
    if (!nearExtent(f.lon, f.lat)) continue;
    facilityRecords.push(f);
    facilityBatches.add(f.batchId);
  }
  const nan = (v: number | null) => (v === null ? NaN : v);
  const facilities: AssessFacilities = {
    ids: facilityRecords.map((f) => `${f.source}/${f.sourceId}`),
    names: facilityRecords.map((f) => f.name),
    category: facilityRecords.map((f) => f.category),
    status: facilityRecords.map((f) => f.status),
    lon: Float64Array.from(facilityRecords, (f) => f.lon),
    lat: Float64Array.from(facilityRecords, (f) => f.lat),
    unitCode: facilityRecords.map((f) => f.unitCode),
    capacity: Float64Array.from(facilityRecords, (f) => nan(f.capacity)),
    buildingAreaM2: Float64Array.from(facilityRecords, (f) => nan(f.buildingAreaM2)),
    landAreaM2: Float64Array.from(facilityRecords, (f) => nan(f.landAreaM2)),
  };
  // scope: units whose boundary box lies inside the extent (all units when no extent)
  const scope = units
    .filter((u) => {
      if (!options.extent) return true;
      if (!u.boundary) return false;
      const pts = u.boundary.coordinates.flat(2);
      return pts.every(([x, y]) => inExtent(x, y));
    })
    .map((u) => u.code);
  return {
    homes: { ids, lon: Float64Array.from(lon), lat: Float64Array.from(lat), unitCode, bands, estimated },
    facilities,
    units,
    batchIds: [...new Set([...unitBatches, ...homeBatches, ...facilityBatches])].sort((a, b) => a - b),
    populationSource,
    homesWithoutLocation: withoutLocation,
    homesOutsideExtent: outside,
    scope,
  };
}


/** A CSV cell: non-finite numbers as "Infinity" or empty, the rest escaped by the export module's rule. */
const cell = (v: unknown) => csvCell(typeof v === 'number' && !Number.isFinite(v) ? (v > 0 ? 'Infinity' : null) : v);

/** The norm of a rule in words (en, zh). */
export function normText(rule: EffectiveRule): { en: string; zh: string } {
  const ages = 'ages' in rule && rule.ages ? `${rule.ages.min}${rule.ages.max === null ? '+' : `-${rule.ages.max}`}` : '';
  const modeZh = { walk: '步行', elderly: '老年人步行', bike: '骑行' } as const;
  const pct = (x: number) => `${Math.round(x * 1000) / 10} %`;
  switch (rule.kind) {
    case 'reach':
      return {
        en: `≥ ${pct(rule.targetShare)} of residents${ages ? ` aged ${ages}` : ''} within ${rule.minutes} min by ${rule.mode}${rule.distanceM ? ` (${rule.distanceM} m)` : ''}`,
        zh: `${ages ? `${ages}岁` : ''}居民 ≥ ${pct(rule.targetShare)} 在${modeZh[rule.mode]} ${rule.minutes} 分钟内${rule.distanceM ? `（${rule.distanceM} 米）` : ''}可达`,
      };
    case 'count_per_unit':
      return { en: `≥ ${rule.minCount} per ${rule.perCommittees ? `${rule.perCommittees} committees of the ` : ''}${rule.unitLevel}${rule.unitShare !== undefined ? ` in ${pct(rule.unitShare)} of units` : ''}`, zh: `每${rule.perCommittees ? `${rule.perCommittees} 个居委` : { committee: '居委', subdistrict: '街镇', district: '区' }[rule.unitLevel]}不少于 ${rule.minCount} 处` };
    case 'population_per_facility':
      return { en: `≤ ${rule.maxResidentsPerFacility.toLocaleString('en')} residents per facility`, zh: `每处服务人口 ≤ ${rule.maxResidentsPerFacility.toLocaleString('en')}` };
    case 'area_per_1000':
      return { en: `≥ ${rule.minAreaM2Per1000} m² ${rule.areaField} area per 1,000 residents${rule.withinM ? ` within ${rule.withinM} m` : ''}`, zh: `千人指标 ≥ ${rule.minAreaM2Per1000} m²（${rule.areaField === 'building' ? '建筑面积' : '用地面积'}）` };
    case 'per_capita_area':
      return { en: `≥ ${rule.minM2PerResident} m² ${rule.areaField} area per resident`, zh: `人均 ≥ ${rule.minM2PerResident} m²` };
    case 'capacity_ratio':
      return { en: `≥ ${rule.minPlacesPerTarget} places per resident aged ${ages}`, zh: `每名 ${ages} 岁居民 ≥ ${rule.minPlacesPerTarget} 个床位/学位` };
    case 'rail_bus_share':
      return { en: `≥ ${pct(rule.targetShare)} of rail stations with a bus stop within ${rule.withinM} m walk`, zh: `≥ ${pct(rule.targetShare)} 的轨交站点步行 ${rule.withinM} 米内有公交站` };
  }
}

export interface AssessRunOptions {
  graphFile: string;
  outDir: string;
  rulesFile?: string;
  populationSource?: string;
  statuses?: string[];
  /** Keep homes and units inside the graph's extent (default true). */
  clipToGraph?: boolean;
  title?: string;
  caveats?: Array<{ en: string; zh: string }>;
  say?: (s: string) => void;
}

export interface AssessRunSummary {
  runId: number;
  seconds: number;
  result: AssessmentResult;
  catalogue: LoadedCatalogue;
  inputs: AssessInputs;
  files: string[];
  /** An earlier run with the same inputs, when there is one, and whether the numbers are identical. */
  sameInputsAs: { runId: number; identical: boolean } | null;
}

export async function runAssessment(store: ProjectStore, options: AssessRunOptions): Promise<AssessRunSummary> {
  const say = options.say ?? (() => {});
  const t0 = performance.now();
  const catalogue = loadCatalogue({ overridePath: options.rulesFile });
  const graph: Graph = loadGraph(options.graphFile);
  const extent = options.clipToGraph === false ? undefined : graph.info.bbox;
  const inputs = await loadAssessInputs(store, { populationSource: options.populationSource, extent });
  const statuses = options.statuses ?? ['existing'];
  const within = options.clipToGraph === false ? undefined : inputs.scope.filter((c) => c.length === 9);
  const result = assess(graph, catalogue.rules, inputs.homes, inputs.facilities, inputs.units, { statuses, within: within && within.length > 0 ? within : undefined });
  const seconds = (performance.now() - t0) / 1000;

  // --- store, with the versions of the inputs ------------------------------------------------------------
  const graphSha256 = await sha256File(options.graphFile);
  const runOptions = { statuses, populationSource: inputs.populationSource, clipToGraph: options.clipToGraph !== false };
  const inputsKey = createHash('sha256').update(JSON.stringify([catalogue.version, catalogue.sha256, graphSha256, inputs.batchIds, runOptions])).digest('hex');
  const stored: StoredResult[] = result.results.map((r) => ({ ...r, value: r.value }));
  const storedGaps: StoredGap[] = result.gaps.map((g) => ({ ruleId: g.ruleId, unitCode: g.unitCode, level: g.level, shortfall: g.shortfall, unservedResidents: g.unservedResidents, en: g.en, zh: g.zh, homes: g.homes.slice(0, 200) }));
  const earlier = (await store.assessmentRuns()).filter((r) => r.inputsKey === inputsKey).at(-1);
  const runId = await store.saveAssessment(
    { createdAt: new Date().toISOString(), catalogueVersion: catalogue.version, catalogueSha256: catalogue.sha256, graphFile: options.graphFile, graphSha256, batchIds: inputs.batchIds, options: runOptions, inputsKey },
    stored,
    storedGaps,
  );
  let sameInputsAs: AssessRunSummary['sameInputsAs'] = null;
  if (earlier) {
    const before = await store.assessmentResults(earlier.id);
    const now = await store.assessmentResults(runId);
    sameInputsAs = { runId: earlier.id, identical: JSON.stringify(before) === JSON.stringify(now) };
  }

  // --- files -----------------------------------------------------------------------------------------------
  mkdirSync(options.outDir, { recursive: true });
  const files: string[] = [];
  const write = (name: string, text: string) => {
    const p = join(options.outDir, name);
    writeFileSync(p, text);
    files.push(p);
  };
  const batches = (await store.status()).batches;
  const attribution = [graph.info.attribution, ...new Set(batches.filter((b) => inputs.batchIds.includes(b.id) && b.attribution).map((b) => b.attribution!))].filter(Boolean);
  const ruleById = new Map(catalogue.rules.map((r) => [r.id, r]));
  const unitByCode = new Map(inputs.units.map((u) => [u.code, u]));
  const resultCols = ['rule_id', 'rule_title_zh', 'kind', 'level', 'unit_code', 'unit_name', 'verdict', 'value', 'threshold', 'target_residents', 'unserved_residents', 'off_network_residents', 'facilities', 'ages_apportioned', 'estimated_population', 'verification', 'note'];
  write(
    'results.csv',
    '\uFEFF' + resultCols.join(',') + '\n' +
      result.results.map((r) => [r.ruleId, ruleById.get(r.ruleId)?.title.zh, r.kind, r.level, r.unitCode, r.unitName, r.verdict, r.value, r.threshold, Math.round(r.targetResidents), Math.round(r.unservedResidents), Math.round(r.offNetworkResidents), r.facilities, r.agesApportioned, r.estimatedPopulation, ruleById.get(r.ruleId)?.verification, r.note].map(cell).join(',')).join('\n') + '\n',
  );
  write(
    'gaps.csv',
    '\uFEFF' + ['rule_id', 'level', 'unit_code', 'unit_name', 'shortfall', 'unserved_residents', 'gap_zh', 'gap_en'].join(',') + '\n' +
      result.gaps.map((g) => [g.ruleId, g.level, g.unitCode, g.unitName, g.shortfall, Math.round(g.unservedResidents), g.zh, g.en].map(cell).join(',')).join('\n') + '\n',
  );
  // units with their results as properties (one feature per assessed unit with a boundary)
  const perUnit = new Map<string, Record<string, unknown>>();
  for (const r of result.results) {
    if (r.unitCode === '*') continue;
    const props = perUnit.get(r.unitCode) ?? { code: r.unitCode, name: r.unitName, level: r.level, pass: 0, fail: 0 };
    props[r.ruleId] = r.value === null || !Number.isFinite(r.value) ? null : r.value;
    if (r.verdict === 'pass') (props.pass as number)++;
    if (r.verdict === 'fail') (props.fail as number)++;
    perUnit.set(r.unitCode, props);
  }
  write(
    'units.geojson',
    JSON.stringify({ type: 'FeatureCollection', attribution: attribution.join('; '), features: [...perUnit].filter(([c]) => unitByCode.get(c)?.boundary).map(([c, props]) => ({ type: 'Feature', properties: props, geometry: unitByCode.get(c)!.boundary })) }),
  );
  write(
    'gaps.geojson',
    JSON.stringify({
      type: 'FeatureCollection',
      attribution: attribution.join('; '),
      features: result.gaps.flatMap((g) => g.homes.slice(0, 200).map((h) => ({ type: 'Feature', properties: { rule_id: g.ruleId, unit_code: g.unitCode, home: h.id, residents: h.residents, nearest_time_s: Number.isFinite(h.nearestTimeS) ? h.nearestTimeS : null, nearest_facility: h.nearestFacility }, geometry: { type: 'Point', coordinates: [h.lon, h.lat] } }))),
    }),
  );

  // --- the report -------------------------------------------------------------------------------------------
  const report = reportData(store, batches, options, catalogue, graph, inputs, result, attribution);
  write('report-data.json', JSON.stringify(report));
  files.push(...writeHtmlReport(report, join(options.outDir, 'report')).files);
  return { runId, seconds, result, catalogue, inputs, files, sameInputsAs };
}

function reportData(store: ProjectStore, batches: BatchSummary[], options: AssessRunOptions, catalogue: LoadedCatalogue, graph: Graph, inputs: AssessInputs, result: AssessmentResult, attribution: string[]): ReportData {
  const used = new Set(result.results.map((r) => r.ruleId));
  const rules: ReportRule[] = catalogue.rules
    .filter((r) => used.has(r.id))
    .map((r) => ({ id: r.id, title: r.title, kind: r.kind, domain: r.domain, categories: r.categories, unitLevel: r.unitLevel, norm: normText(r), verification: r.verification, mandatory: r.mandatory, citation: r.citation }));
  // residents per unit (all ages) and nearest-time histograms per sub-district and reach field
  const everyone = residentsPerHome(inputs.homes);
  const scoped = new Set(inputs.scope);
  const residentsByUnit = new Map<string, number>();
  const subOf = inputs.homes.unitCode.map((c) => (c.length >= 9 ? c.slice(0, 9) : ''));
  inputs.homes.unitCode.forEach((c, i) => {
    for (const len of [6, 9, 12]) if (c.length >= len) residentsByUnit.set(c.slice(0, len), (residentsByUnit.get(c.slice(0, len)) ?? 0) + everyone[i]);
  });
  const nearestTimes: ReportData['nearestTimes'] = [];
  for (const [field, t] of result.homeTimes) {
    const bySub = new Map<string, number[]>();
    for (let i = 0; i < t.timeS.length; i++) {
      const sub = subOf[i];
      if (!sub || everyone[i] <= 0) continue;
      let h = bySub.get(sub);
      if (!h) bySub.set(sub, (h = new Array(31).fill(0)));
      const minute = Number.isFinite(t.timeS[i]) ? Math.min(30, Math.floor(t.timeS[i] / 60)) : 30;
      h[minute] += everyone[i];
    }
    const [cats, mode] = field.split('|');
    for (const [unitCode, residentsByMinute] of bySub) nearestTimes.push({ unitCode, field, label: { en: `${cats.replace(/\+/g, ' / ')} by ${mode}`, zh: `${cats.replace(/\+/g, '、')}（${{ walk: '步行', elderly: '老年人步行', bike: '骑行' }[mode] ?? mode}）` }, residentsByMinute });
  }
  const caveats = [...(options.caveats ?? [])];
  if (inputs.homes.estimated) caveats.push({ en: 'Residents per home are estimates (disaggregated from census totals): every count derived from them is an estimate.', zh: '每处住宅的人口为估算值（由普查总数分配而来），由此得出的数字均为估算。' });
  if (result.snapFailures.homes > 0) caveats.push({ en: `${result.snapFailures.homes.toLocaleString('en')} homes lie too far from the street network to be attached; they count as unserved.`, zh: `${result.snapFailures.homes.toLocaleString('en')} 处住宅离路网过远，计为未覆盖。` });
  const notEvaluated = result.skipped.filter((s) => s.reason.startsWith('not evaluated')).length;
  const offNetwork = result.unitIssues.filter((u) => u.kind === 'off-network').length;
  const empty = result.unitIssues.filter((u) => u.kind === 'no-residents').length;
  if (offNetwork > 0) caveats.push({ en: `${offNetwork} units have no street near any of their homes: everyone there counts as unserved (listed under "Units the data leaves short").`, zh: `${offNetwork} 个单元的住宅附近均无道路：其居民全部计为未覆盖（见"数据不足的单元"）。` });
  if (empty > 0) caveats.push({ en: `${empty} units have no residents in the population data and are left out of per-resident rules (listed under "Units the data leaves short").`, zh: `${empty} 个单元在人口数据中无居民，不参与按人口计的规则（见"数据不足的单元"）。` });
  if (notEvaluated > 0) caveats.push({ en: `${notEvaluated} rules were not evaluated because the data has no facility of their categories (listed under "skipped").`, zh: `${notEvaluated} 条规则因数据中没有相应类别的设施而未评估（见"未评估"一节）。` });
  return {
    title: options.title ?? '15-minute life circle assessment',
    generatedAt: new Date().toISOString(),
    project: store.location.replace(/:[^:@/]*@/, ':***@'),
    inputs: {
      catalogueVersion: catalogue.version,
      catalogueSha256: catalogue.sha256,
      graph: { file: options.graphFile, modes: graph.modeNames, nodes: graph.nodeCount, attribution: graph.info.attribution },
      batches: batches.filter((b) => inputs.batchIds.includes(b.id)).map((b) => ({ id: b.id, kind: b.kind, source: b.source, file: b.file, importedAt: b.importedAt, attribution: b.attribution ?? null, note: b.note ?? null })),
    },
    caveats,
    attribution,
    rules,
    units: inputs.units.filter((u) => residentsByUnit.has(u.code) && (scoped.size === 0 || scoped.has(u.code) || u.level === 'committee')).map((u) => ({ ...u, residents: residentsByUnit.get(u.code) ?? 0 })),
    results: result.results,
    gaps: result.gaps.map((g) => ({ ruleId: g.ruleId, unitCode: g.unitCode, unitName: g.unitName, level: g.level, shortfall: g.shortfall, unservedResidents: g.unservedResidents, en: g.en, zh: g.zh, homes: g.homes.slice(0, 20) })),
    nearestTimes: nearestTimes.filter((n) => scoped.size === 0 || scoped.has(n.unitCode)),
    skipped: result.skipped,
    unitIssues: result.unitIssues,
  };
}

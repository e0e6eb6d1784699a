/**
 * `npm run bench:assess`: the whole assessment ("unified detection": every rule of the catalogue, all
 * categories, all modes, all 70 rules enabled) timed on
 *
 *   1. the real demo area: the central-Shanghai graph (built like `lifecircle demo`) and the demo project's
 *      records (built by buildDemoProject, read back through the store) inside the graph's extent;
 *   2. a synthetic city at Shanghai's scale (bench/synthetic-project.ts over the cached 3.6 M-OSM-node
 *      synthetic network of `npm run bench`): ~25 M residents in ~500,000 buildings, ~6,500 committees,
 *      ~30,000 facilities, run in a child process so that peak RSS is the assessment's own.
 *
 * Targets (the issue's, for this 2-core machine): the Shanghai-scale assessment ≤ 30 s and ≤ 2 GB peak RSS; a
 * re-run after moving one facility ≤ 100 ms when only the affected homes are recomputed (Assessment.moveFacility,
 * timed when src/analysis/assess.ts exports it, each checked against a full assess() for a couple of moves).
 *
 *   npm run bench:assess
 *   npm run bench:assess -- --quick                  # the real demo area only
 *   npm run bench:assess -- --profile                # also a CPU profile of the synthetic assessment: hot spots
 *   npm run bench:assess -- --synthetic-only --rules # the synthetic city only, with a line per rule
 *   npm run bench:assess -- --synthetic-nodes 1200000 --buildings 200000 --residents 10000000
 *   npm run bench:assess -- --moves 0                # no incremental part; --incremental-heap-mb 8192 to raise its heap
 *
 * Generated inputs are cached in the system temp folder (lifecircle-bench/), like `npm run bench`.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { assess, createAssessment, type AssessFacilities, type AssessHomes, type AssessmentResult, type AssessOptions, type AssessUnit } from '../src/analysis/assess.ts';
import { loadCatalogue } from '../src/standards/catalogue.ts';
import type { EffectiveRule } from '../src/standards/schema.ts';
import { loadGraph, saveGraph, MODE_NAMES, type Graph } from '../src/network/index.ts';
import { openStore } from '../src/store/open.ts';
import { loadAssessInputs } from '../src/cli/assess.ts';
import { sharedDataDir } from '../src/util/data-dir.ts';
import { WarningLog } from '../src/errors.ts';
import { BENCH_WORK, DEFAULT_SEED, DEFAULT_SYNTHETIC_NODES, ensureSyntheticGraph, generateSyntheticProject, syntheticGraphPath } from './synthetic-project.ts';
import { fmtMs, machineLine, mb, mulberry32, row, section, time } from './lib.ts';

const args = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'synthetic-only': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    /** Internal: run one part of section 2 in this (child) process and print its figures as JSON. */
    child: { type: 'string' },
    'synthetic-nodes': { type: 'string', default: String(DEFAULT_SYNTHETIC_NODES) },
    seed: { type: 'string', default: String(DEFAULT_SEED) },
    residents: { type: 'string', default: '25000000' },
    buildings: { type: 'string', default: '500000' },
    'facility-scale': { type: 'string', default: '1' },
    moves: { type: 'string', default: '20' },
    checks: { type: 'string', default: '2' },
    rules: { type: 'boolean', default: false },
    /** V8 old-space limit (MB) for the incremental child (default: Node's, about 4 GB on this machine). */
    'incremental-heap-mb': { type: 'string' },
    /** Only summarise an existing .cpuprofile written by --profile (with --root assess or moveFacility). */
    'hot-spots': { type: 'string' },
    root: { type: 'string', default: 'assess' },
  },
}).values;
const SEED = Number(args.seed);
const MOVES = Number(args.moves);
const CHECKS = Number(args.checks);
const TARGET_S = 30;
const TARGET_RSS = 2 * 2 ** 30;
const TARGET_MOVE_MS = 100;
const GiB = (b: number) => `${(b / 2 ** 30).toFixed(2)} GB`;
const n = (x: number) => x.toLocaleString('en', { maximumFractionDigits: 0 });
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' / ');
const peakRss = () => process.resourceUsage().maxRSS * 1024;
const err = (s: string) => process.stderr.write(`${s}\n`);

/** Every rule of the catalogue, enabled (the 30 area-scoped ones are disabled by default). */
function allRules(): EffectiveRule[] {
  return loadCatalogue().rules.map((r) => ({ ...r, enabled: true }));
}

interface Figures {
  homes: number;
  residents: number;
  committees: number;
  subdistricts: number;
  districts: number;
  facilities: number;
  facilitiesExisting: number;
  graphNodes: number;
  rules: number;
  rulesEvaluated: number;
  rulesPartlySkipped: string[];
  rulesWithoutFacilities: string[];
  results: number;
  pass: number;
  fail: number;
  notApplicable: number;
  gaps: number;
  gapHomes: number;
  reachFields: number;
  snapFailures: { homes: number; facilities: number };
  largestGapRules: Array<{ ruleId: string; gaps: number; homes: number }>;
  /** Per rule: level, results, pass, fail, gaps, homes in gaps, skip reasons (printed with --rules). */
  perRule: Array<{ ruleId: string; level: string; kind: string; results: number; pass: number; fail: number; gaps: number; gapHomes: number; skipped: string[] }>;
}

/** A rule skipped because the project has none of its categories (wording of src/analysis/assess.ts). */
const NO_FACILITY = /^(not evaluated: the project has no|no facility of)/;

function figures(graph: Graph, rules: EffectiveRule[], homes: AssessHomes, facilities: AssessFacilities, units: AssessUnit[], r: AssessmentResult): Figures {
  let residents = 0;
  for (const c of homes.bands.values()) for (let i = 0; i < c.length; i++) residents += c[i];
  const evaluated = new Set(r.results.map((x) => x.ruleId));
  const perRule = new Map<string, { gaps: number; homes: number }>();
  let gapHomes = 0;
  for (const g of r.gaps) {
    gapHomes += g.homes.length;
    const p = perRule.get(g.ruleId) ?? { gaps: 0, homes: 0 };
    p.gaps++;
    p.homes += g.homes.length;
    perRule.set(g.ruleId, p);
  }
  const level = (l: string) => units.filter((u) => u.level === l).length;
  return {
    homes: homes.ids.length,
    residents,
    committees: level('committee'),
    subdistricts: level('subdistrict'),
    districts: level('district'),
    facilities: facilities.ids.length,
    facilitiesExisting: facilities.status.filter((s) => s === 'existing').length,
    graphNodes: graph.nodeCount,
    rules: rules.length,
    rulesEvaluated: evaluated.size,
    rulesPartlySkipped: [...new Set(r.skipped.filter((s) => !NO_FACILITY.test(s.reason)).map((s) => s.ruleId))],
    rulesWithoutFacilities: [...new Set(r.skipped.filter((s) => NO_FACILITY.test(s.reason)).map((s) => s.ruleId))],
    results: r.results.length,
    pass: r.results.filter((x) => x.verdict === 'pass').length,
    fail: r.results.filter((x) => x.verdict === 'fail').length,
    notApplicable: r.results.filter((x) => x.verdict === 'not-applicable').length,
    gaps: r.gaps.length,
    gapHomes,
    reachFields: r.homeTimes.size,
    snapFailures: r.snapFailures,
    largestGapRules: [...perRule].map(([ruleId, p]) => ({ ruleId, ...p })).sort((a, b) => b.homes - a.homes).slice(0, 5),
    perRule: rules.map((rule) => {
      const mine = r.results.filter((x) => x.ruleId === rule.id);
      return {
        ruleId: rule.id,
        level: rule.unitLevel,
        kind: rule.kind,
        results: mine.length,
        pass: mine.filter((x) => x.verdict === 'pass').length,
        fail: mine.filter((x) => x.verdict === 'fail').length,
        gaps: perRule.get(rule.id)?.gaps ?? 0,
        gapHomes: perRule.get(rule.id)?.homes ?? 0,
        skipped: r.skipped.filter((x) => x.ruleId === rule.id).map((x) => x.reason),
      };
    }),
  };
}

// --- comparing an incremental result with a full one ----------------------------------------------------------
/**
 * A compact, comparable form of a result (so that the incremental state can be dropped before the full run
 * it is checked against: at Shanghai's scale both at once would not fit Node's default heap). Per result and
 * gap (by rule, level, unit): the figures (12 significant digits, so that summation order does not matter), the
 * text, and a hash of the gap's unserved homes (id, nearest time to the millisecond, nearest facility).
 */
interface Digest {
  results: Map<string, string>;
  gaps: Map<string, string>;
}
function digest(r: AssessmentResult): Digest {
  const num = (x: number | null) => (x === null ? 'null' : Number.isFinite(x) ? Number(x.toPrecision(12)).toString() : String(x));
  const key = (x: { ruleId: string; level: string; unitCode: string }) => `${x.ruleId}|${x.level}|${x.unitCode}`;
  const results = new Map(r.results.map((x) => [key(x), [x.verdict, num(x.value), num(x.threshold), num(x.targetResidents), num(x.unservedResidents), num(x.offNetworkResidents), x.facilities, x.agesApportioned, x.note].join(' ')]));
  const gaps = new Map(
    r.gaps.map((g) => {
      const h = createHash('sha1');
      for (const x of [...g.homes].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) h.update(`${x.id}:${num(x.residents)}:${Number.isFinite(x.nearestTimeS) ? x.nearestTimeS.toFixed(3) : 'inf'}:${x.nearestFacility}\n`);
      return [key(g), `${num(g.shortfall)} ${num(g.unservedResidents)} ${g.homes.length} homes ${h.digest('hex').slice(0, 12)} ${g.en}`];
    }),
  );
  return { results, gaps };
}

/** Differences between an incremental result's digest and a full run's, at most `max`. */
function differences(got: Digest, want: Digest, max = 5): string[] {
  const out: string[] = [];
  for (const [what, a, b] of [['result', got.results, want.results], ['gap', got.gaps, want.gaps]] as const) {
    for (const [k, w] of b) {
      if (out.length >= max) return out;
      const g = a.get(k);
      if (g === undefined) out.push(`${what} ${k} missing`);
      else if (g !== w) out.push(`${what} ${k}: ${g.slice(0, 160)}  ≠ full: ${w.slice(0, 160)}`);
    }
    for (const k of a.keys()) if (!b.has(k) && out.length < max) out.push(`${what} ${k} extra`);
  }
  return out;
}

interface IncrementalFigures {
  firstRunS?: number;
  movesMs?: number[];
  medianMs?: number;
  homesRecomputed?: number[];
  rulesReevaluated?: number[];
  /** Per move: results changed, gaps opened or updated, gaps closed (what moveFacility reports). */
  changes?: Array<[number, number, number]>;
  checks?: Array<{ move: number; differences: string[]; fullS: number }>;
  error?: string;
}

/**
 * `moves` moves of random existing facilities by ~200 m (seeded), each timed; after `checks` of them (spread over
 * the moves), an un-timed full assess() on the same (updated) arrays is compared with the move's result.
 */
function incremental(graph: Graph, rules: EffectiveRule[], homes: AssessHomes, facilities: AssessFacilities, units: AssessUnit[], options: AssessOptions, moves: number, checks: number, say: (s: string) => void = () => {}): IncrementalFigures {
  try {
    const m = timedMoves(graph, rules, homes, facilities, units, options, moves, checks, say);
    // the checks: the incremental state is gone with timedMoves' frame (held by nothing else), then a full
    // assess() per checked move on the inputs as they were after it
    (globalThis as { gc?: () => void }).gc?.();
    const checked: NonNullable<IncrementalFigures['checks']> = [];
    const finalLon = facilities.lon.slice();
    const finalLat = facilities.lat.slice();
    for (const c of m.pending.splice(0)) {
      facilities.lon.set(c.lon);
      facilities.lat.set(c.lat);
      const tf = performance.now();
      const full = assess(graph, rules, homes, facilities, units, options);
      const fullS = (performance.now() - tf) / 1000; // the digest (8 M gap homes hashed) is not the run's time
      const fullDigest = digest(full);
      checked.push({ move: c.move, differences: differences(c.digest, fullDigest), fullS });
      say(`  check after move ${c.move + 1}: ${checked[checked.length - 1].differences.length === 0 ? 'equal' : 'DIFFERENT'} (full run ${fullS.toFixed(1)} s)`);
    }
    facilities.lon.set(finalLon);
    facilities.lat.set(finalLat);
    return { firstRunS: m.firstRunS, movesMs: m.movesMs, medianMs: medianOf(m.movesMs), homesRecomputed: m.homesRecomputed, rulesReevaluated: m.rulesReevaluated, changes: m.changes, checks: checked };
  } catch (e) {
    return { error: e instanceof Error ? `${e.message}\n${e.stack?.split('\n').slice(1, 4).join('\n')}` : String(e) };
  }
}

/**
 * The first run and the timed moves of random existing facilities by ~200 m (seeded); for the moves to check,
 * the digest of the move's result and the facility positions after it. Its own function so that nothing of
 * the incremental state outlives it (an interpreter frame keeps its last values until it returns).
 */
function timedMoves(graph: Graph, rules: EffectiveRule[], homes: AssessHomes, facilities: AssessFacilities, units: AssessUnit[], options: AssessOptions, moves: number, checks: number, say: (s: string) => void) {
  const t0 = performance.now();
  const a = createAssessment(graph, rules, homes, facilities, units, options);
  const firstRunS = (performance.now() - t0) / 1000;
  say(`  first run ${firstRunS.toFixed(1)} s, heap ${mb(process.memoryUsage().heapUsed)}`);
  const rand = mulberry32(SEED + 99);
  const existing: number[] = [];
  for (let f = 0; f < facilities.ids.length; f++) if (facilities.status[f] === 'existing') existing.push(f);
  const mPerDegLat = 111_195;
  const nChecks = Math.min(checks, moves);
  const checkAt = new Set(Array.from({ length: nChecks }, (_, i) => Math.floor((i * moves) / Math.max(1, nChecks))));
  const movesMs: number[] = [];
  const homesRecomputed: number[] = [];
  const rulesReevaluated: number[] = [];
  const changes: Array<[number, number, number]> = [];
  const pending: Array<{ move: number; digest: Digest; lon: Float64Array; lat: Float64Array }> = [];
  for (let m = 0; m < moves; m++) {
    const f = existing[Math.floor(rand() * existing.length)];
    const dist = 150 + 100 * rand();
    const ang = 2 * Math.PI * rand();
    const lon = facilities.lon[f] + (dist * Math.cos(ang)) / (mPerDegLat * Math.cos((facilities.lat[f] * Math.PI) / 180));
    const lat = facilities.lat[f] + (dist * Math.sin(ang)) / mPerDegLat;
    const t = performance.now();
    const r = a.moveFacility(f, lon, lat);
    movesMs.push(performance.now() - t);
    homesRecomputed.push(r.homesRecomputed);
    rulesReevaluated.push(r.rulesReevaluated);
    changes.push([r.changes.results.length, r.changes.gaps.length, r.changes.closedGaps.length]);
    say(`  move ${m + 1}: facility ${f} (${facilities.category[f]}), ${movesMs[m].toFixed(1)} ms, ${r.homesRecomputed} homes, ${r.rulesReevaluated} rules; changed ${r.changes.results.length} results, ${r.changes.gaps.length} gaps open or updated, ${r.changes.closedGaps.length} closed; heap ${mb(process.memoryUsage().heapUsed)}`);
    if (facilities.lon[f] !== lon || facilities.lat[f] !== lat) throw new Error(`moveFacility did not update facility ${f}'s position in the arrays passed in`);
    // un-timed: what to compare, and the facilities as they are now
    if (checkAt.has(m)) pending.push({ move: m, digest: digest(r.result), lon: facilities.lon.slice(), lat: facilities.lat.slice() });
  }
  return { firstRunS, movesMs, homesRecomputed, rulesReevaluated, changes, pending };
}

const medianOf = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function printFigures(f: Figures): void {
  row('homes (zones with coordinates) / residents', `${n(f.homes)} / ${n(f.residents)}`);
  row('units: committees / sub-districts / districts', `${n(f.committees)} / ${n(f.subdistricts)} / ${n(f.districts)}`);
  row('facilities (existing)', `${n(f.facilities)} (${n(f.facilitiesExisting)})`);
  row('graph nodes', n(f.graphNodes));
  row('rules evaluated (with results) / all, enabled', `${f.rulesEvaluated} / ${f.rules}; ${f.reachFields} reach fields`);
  if (f.rulesPartlySkipped.length) row('  skipped (variant not evaluated yet)', f.rulesPartlySkipped.join(', '));
  if (f.rulesWithoutFacilities.length) row('  not evaluated: no facility of their categories', `${f.rulesWithoutFacilities.length}: ${f.rulesWithoutFacilities.slice(0, 4).join(', ')}${f.rulesWithoutFacilities.length > 4 ? ' …' : ''}`);
  row('results: pass / fail / not applicable', `${n(f.results)}: ${n(f.pass)} / ${n(f.fail)} / ${n(f.notApplicable)}`);
  row('gaps / unserved homes listed in them', `${n(f.gaps)} / ${n(f.gapHomes)}`);
  if (f.largestGapRules.length && f.largestGapRules[0].homes > 0) row('  largest gap lists (rule: gaps, homes)', f.largestGapRules.slice(0, 3).map((g) => `${g.ruleId}: ${n(g.gaps)}, ${n(g.homes)}`).join('; '));
  row('snap failures: homes / facilities', `${n(f.snapFailures.homes)} / ${n(f.snapFailures.facilities)}`);
  if (args.rules) {
    process.stdout.write(`  ${'rule'.padEnd(48)} ${'level'.padEnd(11)} ${'kind'.padEnd(16)} ${'results'.padStart(8)} ${'pass'.padStart(7)} ${'fail'.padStart(7)} ${'gaps'.padStart(7)} ${'gap homes'.padStart(10)}  skipped\n`);
    for (const x of f.perRule) {
      process.stdout.write(`  ${x.ruleId.padEnd(48)} ${x.level.padEnd(11)} ${x.kind.padEnd(16)} ${n(x.results).padStart(8)} ${n(x.pass).padStart(7)} ${n(x.fail).padStart(7)} ${n(x.gaps).padStart(7)} ${n(x.gapHomes).padStart(10)}  ${x.skipped.map((k) => k.slice(0, 60)).join('; ')}\n`);
    }
  }
}

function printIncremental(inc: IncrementalFigures, targets: boolean): void {
  if (inc.error) {
    row('re-run after moving one facility', `failed: ${inc.error.split('\n')[0]}`);
    process.stdout.write(`${inc.error}\n`);
    return;
  }
  row('incremental assessment: first full run', `${inc.firstRunS!.toFixed(2)} s`);
  const ms = inc.movesMs!;
  row(`moveFacility, ${ms.length} moves of ~200 m, median`, `${inc.medianMs!.toFixed(1)} ms (min ${Math.min(...ms).toFixed(1)}, max ${Math.max(...ms).toFixed(1)})`, targets ? { text: `≤ ${TARGET_MOVE_MS} ms`, ok: inc.medianMs! <= TARGET_MOVE_MS } : undefined);
  row('  homes recomputed / rules re-evaluated, median', `${n(medianOf(inc.homesRecomputed!))} / ${medianOf(inc.rulesReevaluated!)} (max ${n(Math.max(...inc.homesRecomputed!))} / ${Math.max(...inc.rulesReevaluated!)})`);
  const ch = inc.changes!;
  row('  changed per move, median: results / gaps open or updated / closed', `${medianOf(ch.map((c) => c[0]))} / ${medianOf(ch.map((c) => c[1]))} / ${medianOf(ch.map((c) => c[2]))}`);
  for (const c of inc.checks!) {
    row(`  check after move ${c.move + 1}: equals a full assess() (${c.fullS.toFixed(1)} s)`, c.differences.length === 0 ? 'yes' : `NO: ${c.differences.length}+ differences`, { text: 'identical', ok: c.differences.length === 0 });
    for (const d of c.differences) process.stdout.write(`      ${d}\n`);
  }
}

// --- section 1: the real demo area ------------------------------------------------------------------------------
/**
 * The demo graph and project (built like `lifecircle demo` into the bench's work dir when missing), read with
 * the CLI's loader (src/cli/assess.ts loadAssessInputs) and scoped like `lifecircle assess` does: homes inside
 * the graph's extent, results for the sub-districts wholly inside it.
 */
async function demoInputs(): Promise<{ graph: Graph; homes: AssessHomes; facilities: AssessFacilities; units: AssessUnit[]; within: string[] | undefined; note: string }> {
  const dir = join(BENCH_WORK, 'demo');
  mkdirSync(dir, { recursive: true });
  const data = sharedDataDir();
  const graphPath = join(dir, 'shanghai-center.lcg');
  let graph: Graph | null = null;
  try {
    if (existsSync(graphPath)) graph = loadGraph(graphPath);
  } catch {
    graph = null; // an older graph format: build again
  }
  if (!graph) {
    const { buildNetworkFile } = await import('../src/cli/main.ts');
    const built = await buildNetworkFile(join(data, 'osm-shanghai-center', 'shanghai_center.osm'), { modes: [...MODE_NAMES], minIslandNodes: 50, warnings: new WarningLog() });
    saveGraph(built.graph, graphPath);
    graph = loadGraph(graphPath);
  }
  graph.allModes();
  // the project is built again when the code that builds it changed since
  const projectPath = join(dir, 'demo-project.sqlite');
  const builder = new URL('../src/cli/demo-project.ts', import.meta.url).pathname;
  if (!existsSync(projectPath) || statSync(projectPath).mtimeMs < statSync(builder).mtimeMs) {
    const { buildDemoProject } = await import('../src/cli/demo-project.ts');
    const t = performance.now();
    await buildDemoProject(data, dir, () => {});
    err(`built the demo project ${projectPath} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  const t = performance.now();
  const store = await openStore(projectPath);
  const inputs = await loadAssessInputs(store, { extent: graph.info.bbox });
  await store.close();
  const loadS = (performance.now() - t) / 1000;
  const within = inputs.scope.filter((c) => c.length === 9);
  return {
    graph,
    homes: inputs.homes,
    facilities: inputs.facilities,
    units: inputs.units,
    within: within.length > 0 ? within : undefined,
    note: `loadAssessInputs ${loadS.toFixed(2)} s; population source ${inputs.populationSource}; ${n(inputs.homesOutsideExtent)} homes outside the graph's extent, ${n(inputs.homesWithoutLocation)} without a location; ${within.length} sub-districts in scope`,
  };
}

async function demoSection(): Promise<void> {
  section('1. real demo area: central Shanghai graph, demo project records (all 70 rules)');
  const loadBefore = load();
  const { graph, homes, facilities, units, within, note } = await demoInputs();
  row('inputs: loadAssessInputs (src/cli/assess.ts), graph extent', note);
  const rules = allRules();
  const options: AssessOptions = { within };
  let result!: AssessmentResult;
  const t = time(() => (result = assess(graph, rules, homes, facilities, units, options)), 5, 1);
  const f = figures(graph, rules, homes, facilities, units, result);
  printFigures(f);
  const fellBack = new Set(result.results.filter((r) => r.note?.startsWith('evaluated per')).map((r) => r.ruleId)).size;
  if (fellBack > 0) row('  rules evaluated a level up (no home placeable)', String(fellBack));
  row('assessment, all rules', fmtMs(t));
  row('peak RSS of the bench process so far', mb(peakRss()));
  printIncremental(incremental(graph, rules, homes, facilities, units, options, MOVES, CHECKS), false);
  row('machine load (1 / 5 / 15 min) before / after', `${loadBefore}  →  ${load()}`);
}

// --- section 2: the synthetic city at Shanghai's scale (child processes) -------------------------------------------
interface AssessReport {
  graphLoadS: number;
  generationS: number;
  assessmentS: number;
  rssBeforeAssessment: number;
  peakRssAssessment: number;
  /** Heap used (after a full GC) with the result, with the gaps' home lists emptied, and without the result. */
  heap: { withResult: number; withoutGapHomes: number; inputsOnly: number } | null;
  figures: Figures;
  stats: ReturnType<typeof generateSyntheticProject>['stats'];
  loadBefore: string;
  loadAfter: string;
}
interface IncrementalReport {
  incremental: IncrementalFigures;
  peakRss: number;
  loadBefore: string;
  loadAfter: string;
}

async function syntheticInputs() {
  const graphPath = await ensureSyntheticGraph(Number(args['synthetic-nodes']), SEED, err);
  let t = performance.now();
  const graph = loadGraph(graphPath);
  graph.allModes();
  const graphLoadS = (performance.now() - t) / 1000;
  t = performance.now();
  const p = generateSyntheticProject(graph, { seed: SEED, residents: Number(args.residents), buildings: Number(args.buildings), facilityScale: Number(args['facility-scale']) });
  const generationS = (performance.now() - t) / 1000;
  err(`synthetic project: ${n(p.stats.homes)} homes, ${n(p.stats.residents)} residents, ${n(p.stats.committees)} committees, ${n(p.stats.facilities)} facilities in ${generationS.toFixed(1)} s`);
  return { graph, p, graphLoadS, generationS, rules: allRules() };
}

/** Child, part "assess": one full assess() of the synthetic city; its time and the process's peak RSS. */
async function childAssess(): Promise<AssessReport> {
  const loadBefore = load();
  const { graph, p, graphLoadS, generationS, rules } = await syntheticInputs();
  const rssBeforeAssessment = peakRss();
  err('assessing …');
  const t = performance.now();
  const result = assess(graph, rules, p.homes, p.facilities, p.units);
  const assessmentS = (performance.now() - t) / 1000;
  const peakRssAssessment = peakRss();
  const loadAfter = load();
  err(`assessed in ${assessmentS.toFixed(1)} s`);
  const f = figures(graph, rules, p.homes, p.facilities, p.units, result);
  // what the result holds on the heap, and how much of it is the unserved-home lists of the gaps
  const gc = (globalThis as { gc?: () => void }).gc;
  let heap: AssessReport['heap'] = null;
  if (gc) {
    gc();
    const withResult = process.memoryUsage().heapUsed;
    // gap home lists are typed arrays read through a getter: dropping the gaps' strings shows their share instead
    result.gaps.length = 0;
    gc();
    const withoutGapHomes = process.memoryUsage().heapUsed;
    result.results.length = 0;
    result.gaps.length = 0;
    result.homeTimes.clear();
    gc();
    heap = { withResult, withoutGapHomes, inputsOnly: process.memoryUsage().heapUsed };
  }
  return { graphLoadS, generationS, assessmentS, rssBeforeAssessment, peakRssAssessment, heap, figures: f, stats: p.stats, loadBefore, loadAfter };
}

/** Child, part "incremental": the moves of random facilities, in a process of their own. */
async function childIncremental(): Promise<IncrementalReport> {
  const loadBefore = load();
  const { graph, p, rules } = await syntheticInputs();
  err(`incremental: first run, ${MOVES} moves, ${CHECKS} checks against a full assess() …`);
  const incremental_ = incremental(graph, rules, p.homes, p.facilities, p.units, {}, MOVES, CHECKS, err);
  return { incremental: incremental_, peakRss: peakRss(), loadBefore, loadAfter: load() };
}

/**
 * Runs one part in a child process (stderr passed through as it comes, its tail kept); the child's figures are
 * the last line of its stdout. A child that dies (out of memory …) gives an error with the tail of its stderr.
 */
async function runChild<T>(part: 'assess' | 'incremental', nodeFlags: string[], tsx = true, moves = MOVES, checks = CHECKS): Promise<{ ok: true; report: T } | { ok: false; why: string }> {
  const script = new URL(import.meta.url).pathname;
  const pass = ['--synthetic-nodes', String(args['synthetic-nodes']), '--seed', String(SEED), '--residents', String(args.residents), '--buildings', String(args.buildings), '--facility-scale', String(args['facility-scale']), '--moves', String(moves), '--checks', String(checks)];
  const child = spawn(process.execPath, [...nodeFlags, ...(tsx ? ['--import', 'tsx'] : []), script, '--child', part, ...pass], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let tail = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    process.stderr.write(d);
    tail = (tail + d).slice(-4000);
  });
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  const lines = out.trim().split('\n');
  if (code === 0 && lines.length > 0 && lines[lines.length - 1].startsWith('{')) return { ok: true, report: JSON.parse(lines[lines.length - 1]) as T };
  const reason = /heap out of memory/.test(tail) ? 'JavaScript heap out of memory' : tail.trim().split('\n').filter((l) => l.trim()).slice(-2).join(' | ');
  return { ok: false, why: `child process died (${signal ?? `exit ${code}`}): ${reason}` };
}

async function syntheticSection(): Promise<void> {
  const nodes = Number(args['synthetic-nodes']);
  section(`2. synthetic city at Shanghai's scale: ${nodes.toLocaleString('en')} OSM nodes, seed ${SEED} (child processes, all 70 rules)`);
  // build the cached graph here first, so that its build does not count in the child's peak RSS
  await ensureSyntheticGraph(nodes, SEED, (s) => row('network', s));
  const r = await runChild<AssessReport>('assess', ['--expose-gc']);
  if (!r.ok) row('assessment', `not measured: ${r.why}`, { text: `≤ ${TARGET_S} s, ≤ 2 GB`, ok: false });
  else {
    const c = r.report;
    const f = c.figures;
    const s = c.stats;
    row('graph load (all three modes)', `${c.graphLoadS.toFixed(2)} s; ${syntheticGraphPath(nodes, SEED).split('/').pop()}`);
    row('project generation (not part of the assessment)', `${c.generationS.toFixed(2)} s; committee cells ${s.gridCols} × ${s.gridRows} of ${s.cellWidthM.toFixed(0)} × ${s.cellHeightM.toFixed(0)} m`);
    printFigures(f);
    row('  facilities by category (largest)', Object.entries(s.byCategory).sort((x, y) => y[1] - x[1]).slice(0, 6).map(([k, v]) => `${k} ${n(v)}`).join(', ') + ` … ${Object.keys(s.byCategory).length} categories`);
    row('assessment, all rules, one run', `${c.assessmentS.toFixed(1)} s`, { text: `≤ ${TARGET_S} s`, ok: c.assessmentS <= TARGET_S });
    row('peak RSS of the assessment process', `${GiB(c.peakRssAssessment)} (${GiB(c.rssBeforeAssessment)} with graph and inputs, before assessing)`, { text: '≤ 2 GB', ok: c.peakRssAssessment <= TARGET_RSS });
    if (c.heap) row("  JS heap after GC: result / its gaps / inputs", `${mb(c.heap.withResult - c.heap.inputsOnly)} / ${mb(c.heap.withResult - c.heap.withoutGapHomes)} / ${mb(c.heap.inputsOnly)}`);
    row('machine load (1 / 5 / 15 min) before / after assessing', `${c.loadBefore}  →  ${c.loadAfter}`);
  }
  if (MOVES > 0) {
    const heapFlag = args['incremental-heap-mb'] ? [`--max-old-space-size=${Number(args['incremental-heap-mb'])}`] : [];
    const i = await runChild<IncrementalReport>('incremental', ['--expose-gc', ...heapFlag]);
    if (heapFlag.length) row('  (incremental child run with)', heapFlag[0]);
    if (!i.ok) row('re-run after moving one facility', `not measured: ${i.why}`, { text: `≤ ${TARGET_MOVE_MS} ms`, ok: false });
    else {
      printIncremental(i.report.incremental, true);
      row('  peak RSS of the incremental process', GiB(i.report.peakRss));
      row('  machine load before / after', `${i.report.loadBefore}  →  ${i.report.loadAfter}`);
    }
  }

  if (args.profile) {
    const dir = join(BENCH_WORK, 'profile');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    section('CPU profile of the synthetic assessment (node --cpu-prof; samples inside assess() only)');
    // tsx prints each module on one line, so a profile would only say which function: this run loads the
    // TypeScript through esbuild's plain transform instead (line structure kept, inline source maps) and the
    // positions are mapped back to the source lines
    const r = await runChild<AssessReport>('assess', ['--cpu-prof', '--cpu-prof-dir', dir, '--import', profileLoader()], false);
    const file = largestProfile(dir);
    if (!r.ok || !file) {
      row('profile', `not written${r.ok ? '' : `: ${r.why}`}`);
      return;
    }
    row('profile', `${join(dir, file)} (assessment ${r.report.assessmentS.toFixed(1)} s under the profiler; load ${r.report.loadBefore} → ${r.report.loadAfter})`);
    await hotSpots(join(dir, file), 'assess');
    if (MOVES > 0) {
      const moves = Math.min(MOVES, 5);
      section(`CPU profile of ${moves} moveFacility calls (samples inside moveFacility() only)`);
      const movesDir = join(dir, 'moves');
      mkdirSync(movesDir, { recursive: true });
      const heapFlag = args['incremental-heap-mb'] ? [`--max-old-space-size=${Number(args['incremental-heap-mb'])}`] : [];
      const i = await runChild<IncrementalReport>('incremental', [...heapFlag, '--cpu-prof', '--cpu-prof-dir', movesDir, '--import', profileLoader()], false, moves, 0);
      const mfile = largestProfile(movesDir);
      if (!i.ok || !mfile) row('profile', `not written${i.ok ? '' : `: ${i.why}`}`);
      else {
        row('profile', `${join(movesDir, mfile)} (moves ${i.report.incremental.movesMs?.map((x) => x.toFixed(0)).join(', ')} ms under the profiler)`);
        await hotSpots(join(movesDir, mfile), 'moveFacility');
      }
    }
  }
}

/** The main thread's profile (the loader's worker thread writes a small one of its own). */
function largestProfile(dir: string): string | undefined {
  return readdirSync(dir)
    .filter((x) => x.endsWith('.cpuprofile'))
    .sort((a, b) => statSync(join(dir, b)).size - statSync(join(dir, a)).size)[0];
}

/** As tsx transforms (same target, keepNames: closures are wrapped in __name()), minus its minifyWhitespace. */
const ESBUILD_OPTIONS = { loader: 'ts', format: 'esm', target: `node${process.versions.node}`, keepNames: true, sourcemap: 'inline' } as const;

/** A data: URL for --import that registers a loader hook compiling .ts files with esbuild's transform. */
function profileLoader(): string {
  const esbuild = import.meta.resolve('esbuild');
  const hooks = `
    import { readFile } from 'node:fs/promises';
    import { fileURLToPath } from 'node:url';
    const esbuild = (await import(${JSON.stringify(esbuild)})).default;
    export async function load(url, context, nextLoad) {
      if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
      const path = fileURLToPath(url);
      const r = await esbuild.transform(await readFile(path, 'utf8'), { ...${JSON.stringify(ESBUILD_OPTIONS)}, sourcefile: path });
      return { format: 'module', source: r.code, shortCircuit: true };
    }`;
  const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});`;
  return `data:text/javascript,${encodeURIComponent(register)}`;
}

/**
 * Self and inclusive time per function, and self time per source line, counting only samples under the root
 * frame (assess() or moveFacility()); positions mapped to the TypeScript source through the same esbuild transform.
 */
async function hotSpots(path: string, root: 'assess' | 'moveFacility'): Promise<void> {
  interface ProfileNode {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
    children?: number[];
    positionTicks?: Array<{ line: number; ticks: number }>;
  }
  const { SourceMap } = await import('node:module');
  const { fileURLToPath } = await import('node:url');
  const esbuild = (await import('esbuild')).default;
  const prof = JSON.parse(readFileSync(path, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const maps = new Map<string, { map: InstanceType<typeof SourceMap>; genLines: string[]; srcLines: string[] } | null>();
  const mapOf = async (url: string) => {
    if (!maps.has(url)) {
      let v = null;
      if (url.startsWith('file:') && url.endsWith('.ts')) {
        const file = fileURLToPath(url);
        const src = readFileSync(file, 'utf8');
        const r = await esbuild.transform(src, { ...ESBUILD_OPTIONS, sourcemap: 'external', sourcefile: file });
        v = { map: new SourceMap(JSON.parse(r.map)), genLines: r.code.split('\n'), srcLines: src.split('\n') };
      }
      maps.set(url, v);
    }
    return maps.get(url)!;
  };
  const jsFiles = new Map<string, string[]>();
  const jsLine = (url: string, line: number) => {
    if (!jsFiles.has(url)) jsFiles.set(url, url.startsWith('file:') ? readFileSync(fileURLToPath(url), 'utf8').split('\n') : []);
    return jsFiles.get(url)![line - 1] ?? '';
  };
  const short = (url: string) => url.replace(/^.*\/(src|bench|node_modules)\//, '$1/');
  /** Original 1-based line of a generated 0-based position (null when unmapped). */
  const original = async (url: string, line0: number, col0: number | null) => {
    const m = await mapOf(url);
    if (!m) return url.startsWith('file:') && !url.endsWith('.ts') ? line0 + 1 : null;
    const col = col0 ?? (m.genLines[line0]?.search(/\S/) ?? 0);
    const e = m.map.findEntry(line0, Math.max(0, col)) as { originalLine?: number };
    return e.originalLine === undefined ? null : e.originalLine + 1;
  };
  const byId = new Map(prof.nodes.map((x) => [x.id, x]));
  const parent = new Map<number, number>();
  for (const x of prof.nodes) for (const c of x.children ?? []) parent.set(c, x.id);
  const names = new Map<number, string>();
  for (const x of prof.nodes) {
    const { functionName, url, lineNumber, columnNumber } = x.callFrame;
    const line = url ? await original(url, lineNumber, columnNumber) : null;
    names.set(x.id, `${functionName || '(anonymous)'}${url ? ` ${short(url)}${line ? `:${line}` : ''}` : ''}`);
  }
  // the root: the first frame in src/analysis/assess.ts called from the bench — assess(), or (moves) the function
  // moveFacility points to (tsx's keepNames names it through __name(), which the profiler does not see)
  const isAssess = (x: ProfileNode) => {
    if (!x.callFrame.url.endsWith('/analysis/assess.ts')) return false;
    const up = parent.get(x.id);
    if (up === undefined || !byId.get(up)!.callFrame.url.includes('/bench/')) return false;
    return root === 'assess' ? x.callFrame.functionName === 'assess' : x.callFrame.functionName !== 'createAssessment' && x.callFrame.functionName !== 'assess';
  };
  const selfMs = new Map<number, number>(); // per profile node, inside assess()
  const incl = new Map<string, number>();
  let total = 0;
  let first = -1;
  let last = -1;
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = (prof.timeDeltas[i + 1] ?? 0) / 1000; // a sample's time is the gap to the next one
    const chain: number[] = [];
    let inside = false;
    for (let id: number | undefined = prof.samples[i]; id !== undefined; id = parent.get(id)) {
      chain.push(id);
      if (isAssess(byId.get(id)!)) {
        inside = true;
        break;
      }
    }
    if (!inside) continue;
    if (first < 0) first = i;
    last = i;
    total += dt;
    selfMs.set(chain[0], (selfMs.get(chain[0]) ?? 0) + dt);
    for (const k of new Set(chain.map((id) => names.get(id)!))) incl.set(k, (incl.get(k) ?? 0) + dt);
  }
  const self = new Map<string, number>();
  const lines = new Map<string, { ms: number; text: string }>();
  for (const [id, ms] of selfMs) {
    const x = byId.get(id)!;
    self.set(names.get(id)!, (self.get(names.get(id)!) ?? 0) + ms);
    const ticks = x.positionTicks ?? [];
    const sum = ticks.reduce((s, t) => s + t.ticks, 0);
    for (const t of ticks) {
      const line = await original(x.callFrame.url, t.line - 1, null);
      const m = await mapOf(x.callFrame.url);
      const key = `${short(x.callFrame.url)}:${line ?? '?'}`;
      const l = lines.get(key) ?? { ms: 0, text: line ? (m ? m.srcLines[line - 1] : jsLine(x.callFrame.url, line)).trim() : '' };
      l.ms += (ms * t.ticks) / sum;
      lines.set(key, l);
    }
  }
  const pct = (ms: number) => `${(ms / 1000).toFixed(2).padStart(7)} s ${((100 * ms) / total).toFixed(1).padStart(5)} %`;
  const top = <T>(m: Map<string, T>, k: number, v: (x: T) => number) => [...m].sort((a, b) => v(b[1]) - v(a[1])).slice(0, k);
  // the collector's samples have no JavaScript stack: count those between the first and last sample in assess()
  let gcMs = 0;
  for (let i = first; i >= 0 && i <= last; i++) if (byId.get(prof.samples[i])!.callFrame.functionName === '(garbage collector)') gcMs += (prof.timeDeltas[i + 1] ?? 0) / 1000;
  row(`time sampled inside ${root}() / garbage collector meanwhile`, `${(total / 1000).toFixed(1)} s / ${(gcMs / 1000).toFixed(1)} s`);
  process.stdout.write('  self time by function (top 15):\n');
  for (const [k, ms] of top(self, 15, (x) => x)) process.stdout.write(`    ${pct(ms)}  ${k}\n`);
  process.stdout.write('  inclusive time by function (top 15, the root frame left out):\n');
  for (const [k, ms] of top(incl, 16, (x) => x).slice(1)) process.stdout.write(`    ${pct(ms)}  ${k}\n`);
  process.stdout.write('  self time by source line (top 20):\n');
  for (const [k, l] of top(lines, 20, (x) => x.ms)) process.stdout.write(`    ${pct(l.ms)}  ${k.padEnd(34)} ${l.text.slice(0, 100)}\n`);
}

if (args['hot-spots']) {
  await hotSpots(args['hot-spots'], args.root === 'moveFacility' ? 'moveFacility' : 'assess');
} else if (args.child) {
  const report = args.child === 'incremental' ? await childIncremental() : await childAssess();
  process.stdout.write(`${JSON.stringify(report)}\n`);
} else {
  process.stdout.write(`lifecircle assessment benchmark\nmachine: ${machineLine()}\nload average now: ${load()} (2 cores, shared with other work)\nwork dir: ${BENCH_WORK} (generated files are cached here)\n`);
  if (!args['synthetic-only']) await demoSection();
  if (!args.quick) await syntheticSection();
  process.stdout.write("\nTargets are the issue's, for this 2-core machine. Map data of the real extract © OpenStreetMap contributors, ODbL 1.0.\n");
}

/**
 * A deterministic, seeded Shanghai-scale project over the synthetic street network that `npm run bench`
 * builds (src/network/synthetic.ts, 3.6 M OSM nodes → ~1.03 M graph nodes, cached in the system temp folder):
 *
 * - units: 16 districts (Shanghai's 16 real district codes), ~234 sub-districts (9-digit codes) and ~6,500
 *   residents' committees (12-digit codes). Committees are the cells of one grid over the graph's bbox;
 *   districts are a 4 × 4 block of that grid, each split into 4 columns of 3 or 4 sub-districts, so every
 *   sub-district and district is a rectangle made of whole committee cells (boundaries are those rectangles);
 * - homes: ~500,000 residential buildings placed 10–60 m from walkable graph nodes of their committee, with
 *   ~25 M residents in the standard age bands ('0-2' … '80+') by Shanghai's structure (about 2.5 / 2.5 / 5 /
 *   2.5 / 64 / 19 / 4.5 %), denser and older towards the centre; 90 % carry their committee code, the rest are
 *   located by boundary;
 * - facilities: ~30,000 in every category the rules name (bus stops most, then shops, kindergartens ~1,600,
 *   primary schools ~700, health stations ~1,200, elderly care ~4,500, rail stations ~500 …), placed by
 *   residents (or residents of the ages they serve), one per sub-district for sub-district centres, with
 *   capacity, building and land areas where rules use them (some unknown, as in real data); 96 % existing,
 *   the rest planned / under construction / closed; half carry their committee code, half are located by
 *   boundary.
 *
 * Memory: coordinates and counts are typed arrays; unit codes, categories and statuses are shared strings.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MultiPolygon } from 'geojson';
import type { AssessFacilities, AssessHomes, AssessUnit } from '../src/analysis/assess.ts';
import { loadGraph, type Graph } from '../src/network/index.ts';
import { writeSyntheticCityOsm } from '../src/network/synthetic.ts';
import { STANDARD_AGE_BANDS } from '../src/model/records.ts';
import { mulberry32 } from './lib.ts';

export const BENCH_WORK = join(tmpdir(), 'lifecircle-bench');
export const DEFAULT_SYNTHETIC_NODES = 3_600_000;
export const DEFAULT_SEED = 42;

/** The graph file bench/run.ts writes for its synthetic section (same label → same file name). */
export function syntheticGraphPath(nodes = DEFAULT_SYNTHETIC_NODES, seed = DEFAULT_SEED): string {
  const label = `synthetic city: ${nodes.toLocaleString('en')} OSM nodes, seed ${seed}`;
  return join(BENCH_WORK, `${label.replace(/\W+/g, '-')}.lcg`);
}

/**
 * The cached synthetic graph (walk, elderly, bike), built the way bench/run.ts builds it when missing:
 * OSM XML from writeSyntheticCityOsm, converted to PBF with osmium when available, built in a child process.
 */
export async function ensureSyntheticGraph(nodes = DEFAULT_SYNTHETIC_NODES, seed = DEFAULT_SEED, say: (s: string) => void = () => {}): Promise<string> {
  const graphPath = syntheticGraphPath(nodes, seed);
  if (existsSync(graphPath)) {
    try {
      loadGraph(graphPath);
      return graphPath;
    } catch (e) {
      // written by an older version of the graph format: build it again
      say(`rebuilding ${graphPath}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    }
  }
  mkdirSync(BENCH_WORK, { recursive: true });
  const xml = join(BENCH_WORK, `synthetic-${nodes}-${seed}.osm`);
  if (!existsSync(xml)) {
    const t = performance.now();
    const s = await writeSyntheticCityOsm(xml, { seed, targetNodes: nodes });
    say(`generated ${xml}: ${s.nodes.toLocaleString('en')} OSM nodes in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  let input = xml;
  const pbf = xml.replace(/\.osm$/, '') + '.osm.pbf';
  if (existsSync(pbf) && statSync(pbf).mtimeMs >= statSync(xml).mtimeMs) input = pbf;
  else if (spawnSync('osmium', ['cat', '--overwrite', xml, '-o', pbf]).status === 0) input = pbf;
  const t = performance.now();
  execFileSync(process.execPath, ['--import', 'tsx', new URL('./build-child.ts', import.meta.url).pathname, input, graphPath, 'walk,elderly,bike'], { encoding: 'utf8', maxBuffer: 1 << 24 });
  say(`built ${graphPath} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  return graphPath;
}

/** Shanghai's 16 district codes (NBS). */
const DISTRICT_CODES = ['310101', '310104', '310105', '310106', '310107', '310109', '310110', '310112', '310113', '310114', '310115', '310116', '310117', '310118', '310120', '310151'];

/** City age structure by standard band (2020 census, rounded): shares sum to 1. */
const AGE_SHARES: Record<(typeof STANDARD_AGE_BANDS)[number], number> = { '0-2': 0.025, '3-5': 0.025, '6-11': 0.05, '12-14': 0.025, '15-59': 0.64, '60-79': 0.19, '80+': 0.045 };

type Placement = 'residents' | 'children' | 'elderly' | 'subdistrict' | 'uniform';
type Range = readonly [number, number];
interface CategorySpec {
  category: string;
  count: number;
  place: Placement;
  capacity?: Range;
  buildingM2?: Range;
  landM2?: Range;
}

/**
 * Facilities per category at Shanghai's scale (~25 M residents, ~234 sub-districts), from the city's published
 * orders of magnitude where known (≈1,600 kindergartens, ≈700 primary schools, ≈250 community health centres
 * with ≈1,200 stations, ≈500 rail stations, elderly care ≈4,500 points of all kinds) and plausible elsewhere.
 * Every category any rule in catalogue/rules.json names is present.
 */
export const CATEGORY_SPECS: readonly CategorySpec[] = [
  { category: 'bus_stop', count: 7000, place: 'residents' },
  { category: 'bus_interchange', count: 250, place: 'residents' },
  { category: 'rail_transit_station', count: 500, place: 'residents' },
  { category: 'kindergarten', count: 1600, place: 'children', capacity: [150, 450], buildingM2: [2500, 6000], landM2: [4000, 10000] },
  { category: 'childcare_centre', count: 800, place: 'children', capacity: [40, 150], buildingM2: [400, 1500], landM2: [300, 1500] },
  { category: 'inclusive_childcare_point', count: 700, place: 'children', capacity: [15, 40], buildingM2: [100, 300] },
  { category: 'parenting_guidance_station', count: 220, place: 'subdistrict', buildingM2: [100, 300] },
  { category: 'primary_school', count: 700, place: 'children', capacity: [600, 2000], buildingM2: [8000, 20000], landM2: [15000, 30000] },
  { category: 'junior_middle_school', count: 480, place: 'children', capacity: [600, 1500], buildingM2: [10000, 20000], landM2: [15000, 35000] },
  { category: 'nine_year_school', count: 230, place: 'children', capacity: [1000, 2500], buildingM2: [15000, 30000], landM2: [25000, 45000] },
  { category: 'community_health_centre', count: 250, place: 'subdistrict', capacity: [0, 100], buildingM2: [3000, 8000], landM2: [3000, 8000] },
  { category: 'community_health_station', count: 1200, place: 'residents', buildingM2: [150, 400], landM2: [150, 400] },
  { category: 'hospital', count: 350, place: 'residents', capacity: [100, 1500], buildingM2: [20000, 120000], landM2: [10000, 60000] },
  { category: 'district_medical_centre', count: 40, place: 'residents', capacity: [300, 1200], buildingM2: [30000, 80000], landM2: [20000, 50000] },
  { category: 'nursing_hospital', count: 110, place: 'elderly', capacity: [80, 300], buildingM2: [5000, 15000], landM2: [3000, 10000] },
  { category: 'elderly_care_institution', count: 700, place: 'elderly', capacity: [50, 400], buildingM2: [2000, 12000], landM2: [2000, 10000] },
  { category: 'community_elderly_care_home', count: 220, place: 'elderly', capacity: [15, 49], buildingM2: [600, 1500], landM2: [500, 1500] },
  { category: 'elderly_day_care_centre', count: 750, place: 'elderly', capacity: [20, 60], buildingM2: [300, 1000], landM2: [300, 1000] },
  { category: 'comprehensive_elderly_service_centre', count: 450, place: 'subdistrict', capacity: [20, 80], buildingM2: [1000, 4000], landM2: [1000, 3000] },
  { category: 'elderly_canteen', count: 1100, place: 'elderly', capacity: [50, 300], buildingM2: [100, 400], landM2: [100, 400] },
  { category: 'elderly_mutual_aid_point', count: 500, place: 'elderly', buildingM2: [50, 200] },
  { category: 'elderly_activity_room', count: 600, place: 'elderly', buildingM2: [50, 300], landM2: [50, 300] },
  { category: 'elderly_sports_health_home', count: 150, place: 'elderly', buildingM2: [200, 800], landM2: [200, 1000] },
  { category: 'culture_activity_centre', count: 220, place: 'subdistrict', buildingM2: [2000, 6000], landM2: [2000, 5000] },
  { category: 'culture_activity_station', count: 1200, place: 'residents', buildingM2: [200, 600], landM2: [200, 600] },
  { category: 'public_cultural_facility', count: 300, place: 'residents', buildingM2: [2000, 20000], landM2: [2000, 15000] },
  { category: 'library', count: 250, place: 'residents', buildingM2: [500, 10000], landM2: [500, 8000] },
  { category: 'community_fitness_centre', count: 180, place: 'subdistrict', buildingM2: [1000, 3000], landM2: [1500, 4000] },
  { category: 'citizens_sports_centre', count: 60, place: 'residents', buildingM2: [5000, 20000], landM2: [10000, 40000] },
  { category: 'multi_use_sports_court', count: 1200, place: 'residents', landM2: [600, 2000] },
  { category: 'fitness_corner', count: 1800, place: 'residents', landM2: [100, 500] },
  { category: 'fitness_trail', count: 400, place: 'uniform', landM2: [500, 3000] },
  { category: 'neighbourhood_service_point', count: 1200, place: 'residents', buildingM2: [100, 300], landM2: [100, 300] },
  { category: 'community_service_centre', count: 220, place: 'subdistrict', buildingM2: [1500, 4000], landM2: [1500, 4000] },
  { category: 'food_market_or_fresh_supermarket', count: 1000, place: 'residents', buildingM2: [1000, 3000], landM2: [1000, 3000] },
  { category: 'supermarket', count: 1200, place: 'residents', buildingM2: [1000, 5000], landM2: [800, 4000] },
  { category: 'neighbourhood_commerce', count: 1200, place: 'residents', buildingM2: [500, 3000], landM2: [500, 3000] },
  { category: 'comprehensive_park', count: 120, place: 'uniform', landM2: [100000, 800000] },
  { category: 'community_park', count: 500, place: 'residents', landM2: [10000, 60000] },
  { category: 'micro_park', count: 600, place: 'residents', landM2: [400, 5000] },
];

export interface SyntheticProjectOptions {
  seed?: number;
  /** Total residents (default 25,000,000). */
  residents?: number;
  /** Residential buildings (homes, default 500,000). */
  buildings?: number;
  /** Approximate committees (default 6,500; the grid rounds it). */
  committees?: number;
  /** Sub-districts (default 234); districts are always 16 (4 × 4). */
  subdistricts?: number;
  /** Multiplies every facility count (default 1: ~30,000 facilities). */
  facilityScale?: number;
}

export interface SyntheticProject {
  homes: AssessHomes;
  facilities: AssessFacilities;
  units: AssessUnit[];
  stats: {
    residents: number;
    homes: number;
    committees: number;
    subdistricts: number;
    districts: number;
    facilities: number;
    byCategory: Record<string, number>;
    /** Committees without a walkable node (inside a river): no homes. */
    emptyCommittees: number;
    gridCols: number;
    gridRows: number;
    cellWidthM: number;
    cellHeightM: number;
  };
}

/** n items into k nearly equal consecutive parts: the start index of each part, plus n at the end. */
function split(n: number, k: number): number[] {
  const out: number[] = [];
  for (let i = 0; i <= k; i++) out.push(Math.round((i * n) / k));
  return out;
}

function rectangle(x0: number, y0: number, x1: number, y1: number): MultiPolygon {
  return { type: 'MultiPolygon', coordinates: [[[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]] };
}

/** Largest-remainder rounding of `total × shares[i]` into out (integers summing to total). */
function apportion(total: number, shares: Float64Array, out: Float64Array, frac: Float64Array, rand: () => number): void {
  let given = 0;
  for (let b = 0; b < shares.length; b++) {
    const x = total * shares[b];
    out[b] = Math.floor(x);
    // bands with equal shares have equal remainders: break the tie at random, not always to the first band
    frac[b] = x - out[b] + 1e-9 * rand();
    given += out[b];
  }
  for (let left = total - given; left > 0; left--) {
    let best = 0;
    for (let b = 1; b < shares.length; b++) if (frac[b] > frac[best]) best = b;
    out[best]++;
    frac[best] = -1;
  }
}

/**
 * Generates the project for a loaded graph (walk mode used to find where people can live). Deterministic:
 * same graph, seed and options → same project.
 */
export function generateSyntheticProject(graph: Graph, options: SyntheticProjectOptions = {}): SyntheticProject {
  const seed = options.seed ?? DEFAULT_SEED;
  const rand = mulberry32(seed * 7919 + 17);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const uniform = (r: Range) => r[0] + rand() * (r[1] - r[0]);
  const totalResidents = options.residents ?? 25_000_000;
  const targetBuildings = options.buildings ?? 500_000;
  const targetCommittees = options.committees ?? 6_500;
  const nSub = options.subdistricts ?? 234;
  const facilityScale = options.facilityScale ?? 1;

  // --- the committee grid over the bbox ----------------------------------------------------------------------
  const [minLon, minLat, maxLon, maxLat] = graph.info.bbox;
  const mPerDegLat = 111_195;
  const mPerDegLon = mPerDegLat * Math.cos((((minLat + maxLat) / 2) * Math.PI) / 180);
  const widthM = (maxLon - minLon) * mPerDegLon;
  const heightM = (maxLat - minLat) * mPerDegLat;
  const cols = Math.max(4, Math.round(Math.sqrt((targetCommittees * widthM) / heightM)));
  const rows = Math.max(4, Math.round(targetCommittees / cols));
  const dLon = (maxLon - minLon) / cols;
  const dLat = (maxLat - minLat) / rows;
  const cellLon = (c: number) => minLon + c * dLon;
  const cellLat = (r: number) => minLat + r * dLat;

  // --- units: 4 × 4 districts; each district 4 columns of 3 or 4 sub-districts; committees = cells ---------------
  const units: AssessUnit[] = [];
  const nDistricts = 16;
  const colGroups = 4;
  const perGroupBase = Math.floor(nSub / (nDistricts * colGroups));
  let extra = nSub - perGroupBase * nDistricts * colGroups; // column groups that get one more sub-district
  const groupIsBig: boolean[] = Array.from({ length: nDistricts * colGroups }, () => false);
  // deterministic spread of the bigger groups (Fisher–Yates over group indices)
  const order = Array.from({ length: groupIsBig.length }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  for (const g of order) if (extra-- > 0) groupIsBig[g] = true;

  const cellCommittee = new Int32Array(cols * rows).fill(-1); // cell (row * cols + col) → committee index
  const committeeCode: string[] = [];
  const committeeCentre: Array<[number, number]> = [];
  const subCode: string[] = [];
  const subCommittees: Array<[number, number]> = []; // committee index range
  const dCols = split(cols, 4);
  const dRows = split(rows, 4);
  for (let dr = 0; dr < 4; dr++) {
    for (let dc = 0; dc < 4; dc++) {
      const d = dr * 4 + dc;
      const dCode = DISTRICT_CODES[d];
      const [c0, c1, r0, r1] = [dCols[dc], dCols[dc + 1], dRows[dr], dRows[dr + 1]];
      units.push({ code: dCode, level: 'district', name: `Synthetic District ${String(d + 1).padStart(2, '0')}`, parentCode: '310000', boundary: rectangle(cellLon(c0), cellLat(r0), cellLon(c1), cellLat(r1)) });
      const gCols = split(c1 - c0, colGroups);
      let subInDistrict = 0;
      for (let g = 0; g < colGroups; g++) {
        const k = perGroupBase + (groupIsBig[d * colGroups + g] ? 1 : 0);
        if (k === 0) continue;
        const sRows = split(r1 - r0, k);
        for (let s = 0; s < k; s++) {
          const sc0 = c0 + gCols[g];
          const sc1 = c0 + gCols[g + 1];
          const sr0 = r0 + sRows[s];
          const sr1 = r0 + sRows[s + 1];
          subInDistrict++;
          const sCode = `${dCode}${String(subInDistrict).padStart(3, '0')}`;
          subCode.push(sCode);
          units.push({ code: sCode, level: 'subdistrict', name: `Synthetic Sub-district ${sCode.slice(4)}`, parentCode: dCode, boundary: rectangle(cellLon(sc0), cellLat(sr0), cellLon(sc1), cellLat(sr1)) });
          const first = committeeCode.length;
          let nInSub = 0;
          for (let r = sr0; r < sr1; r++) {
            for (let c = sc0; c < sc1; c++) {
              nInSub++;
              const code = `${sCode}${String(nInSub).padStart(3, '0')}`;
              cellCommittee[r * cols + c] = committeeCode.length;
              committeeCode.push(code);
              committeeCentre.push([cellLon(c + 0.5), cellLat(r + 0.5)]);
              units.push({ code, level: 'committee', name: `Synthetic Committee ${code.slice(4)}`, parentCode: sCode, boundary: rectangle(cellLon(c), cellLat(r), cellLon(c + 1), cellLat(r + 1)) });
            }
          }
          subCommittees.push([first, committeeCode.length]);
        }
      }
    }
  }
  const nCommittees = committeeCode.length;
  const committeeAt = (lon: number, lat: number) => {
    const c = Math.min(cols - 1, Math.max(0, Math.floor((lon - minLon) / dLon)));
    const r = Math.min(rows - 1, Math.max(0, Math.floor((lat - minLat) / dLat)));
    return cellCommittee[r * cols + c];
  };

  // --- walkable nodes per committee (counting sort) ---------------------------------------------------------------
  const walk = graph.mode('walk');
  const nodeCommittee = new Int32Array(graph.nodeCount).fill(-1);
  const nodeStart = new Int32Array(nCommittees + 1);
  for (let n = 0; n < graph.nodeCount; n++) {
    if (walk.nodeComponent[n] < 0) continue;
    const k = committeeAt(graph.nodeLon[n], graph.nodeLat[n]);
    nodeCommittee[n] = k;
    nodeStart[k + 1]++;
  }
  for (let k = 0; k < nCommittees; k++) nodeStart[k + 1] += nodeStart[k];
  const nodesByCommittee = new Int32Array(nodeStart[nCommittees]);
  const fill = nodeStart.slice(0, nCommittees);
  for (let n = 0; n < graph.nodeCount; n++) if (nodeCommittee[n] >= 0) nodesByCommittee[fill[nodeCommittee[n]]++] = n;

  // --- residents per committee: denser and older towards the centre ------------------------------------------------
  const cLon = (minLon + maxLon) / 2;
  const cLat = (minLat + maxLat) / 2;
  const halfDiag = Math.hypot(widthM, heightM) / 2;
  const centrality = (lon: number, lat: number) => Math.exp(-((Math.hypot((lon - cLon) * mPerDegLon, (lat - cLat) * mPerDegLat) / (0.35 * halfDiag)) ** 2));
  const weight = new Float64Array(nCommittees);
  let weightSum = 0;
  let emptyCommittees = 0;
  for (let k = 0; k < nCommittees; k++) {
    if (nodeStart[k + 1] === nodeStart[k]) {
      emptyCommittees++;
      continue;
    }
    const [lon, lat] = committeeCentre[k];
    weight[k] = (0.35 + 1.6 * centrality(lon, lat)) * Math.exp(0.35 * normal());
    weightSum += weight[k];
  }
  const committeePop = new Float64Array(nCommittees);
  {
    let given = 0;
    const frac = new Float64Array(nCommittees);
    for (let k = 0; k < nCommittees; k++) {
      const x = (totalResidents * weight[k]) / weightSum;
      committeePop[k] = Math.floor(x);
      frac[k] = x - committeePop[k];
      given += committeePop[k];
    }
    // the few residents lost to flooring go to the committees with the largest remainders
    const byFrac = Array.from({ length: nCommittees }, (_, k) => k).sort((a, b) => frac[b] - frac[a]);
    for (let i = 0; given < totalResidents; i++, given++) committeePop[byFrac[i % nCommittees]]++;
  }

  // --- homes: buildings near walkable nodes, residents split unevenly, bands by a local age structure ------------------
  const perBuilding = totalResidents / targetBuildings;
  const buildingsOf = new Int32Array(nCommittees);
  let nHomes = 0;
  for (let k = 0; k < nCommittees; k++) if (committeePop[k] > 0) nHomes += buildingsOf[k] = Math.max(1, Math.round(committeePop[k] / perBuilding));
  const bandNames = [...STANDARD_AGE_BANDS];
  const nBands = bandNames.length;
  const homeLon = new Float64Array(nHomes);
  const homeLat = new Float64Array(nHomes);
  const bandArrays = bandNames.map(() => new Float64Array(nHomes));
  const homeResidents = new Float64Array(nHomes);
  const homeCode: string[] = new Array(nHomes);
  const ids: string[] = new Array(nHomes);
  const committeeHomeStart = new Int32Array(nCommittees + 1);
  const shares = new Float64Array(nBands);
  const counts = new Float64Array(nBands);
  const frac = new Float64Array(nBands);
  let h = 0;
  for (let k = 0; k < nCommittees; k++) {
    committeeHomeStart[k] = h;
    const nb = buildingsOf[k];
    if (nb === 0) continue;
    const [lon0, lat0] = committeeCentre[k];
    const cent = centrality(lon0, lat0);
    // older centre (up to ~1.4 × the city's 60+ share), younger edge; children the other way
    const old = (0.75 + 0.65 * cent) * Math.exp(0.1 * normal());
    const young = (1.2 - 0.45 * cent) * Math.exp(0.1 * normal());
    let s = 0;
    for (let b = 0; b < nBands; b++) {
      const band = bandNames[b];
      const f = band === '60-79' || band === '80+' ? old : band === '15-59' ? 1 : young;
      shares[b] = AGE_SHARES[band] * f;
      s += shares[b];
    }
    for (let b = 0; b < nBands; b++) shares[b] /= s;
    // building sizes 0.3–1.7 × the mean, summing exactly to the committee's residents
    const first = h;
    let wSum = 0;
    for (let i = 0; i < nb; i++) wSum += homeResidents[first + i] = 0.3 + 1.4 * rand();
    let left = committeePop[k];
    for (let i = 0; i < nb; i++) {
      const r = i === nb - 1 ? left : Math.min(left, Math.round((committeePop[k] * homeResidents[first + i]) / wSum));
      homeResidents[first + i] = r;
      left -= r;
    }
    const n0 = nodeStart[k];
    const nn = nodeStart[k + 1] - n0;
    const code = committeeCode[k];
    for (let i = 0; i < nb; i++, h++) {
      const node = nodesByCommittee[n0 + Math.floor(rand() * nn)];
      const dist = 10 + 50 * rand();
      const ang = 2 * Math.PI * rand();
      let lon = graph.nodeLon[node] + (dist * Math.cos(ang)) / mPerDegLon;
      let lat = graph.nodeLat[node] + (dist * Math.sin(ang)) / mPerDegLat;
      // keep the building inside its committee's cell
      const [cx, cy] = committeeCentre[k];
      lon = Math.min(cx + dLon * 0.4999, Math.max(cx - dLon * 0.4999, lon));
      lat = Math.min(cy + dLat * 0.4999, Math.max(cy - dLat * 0.4999, lat));
      homeLon[h] = lon;
      homeLat[h] = lat;
      homeCode[h] = rand() < 0.9 ? code : '';
      ids[h] = `b${h}`;
      apportion(homeResidents[h], shares, counts, frac, rand);
      for (let b = 0; b < nBands; b++) bandArrays[b][h] = counts[b];
    }
  }
  committeeHomeStart[nCommittees] = h;
  const bands = new Map<string, Float64Array>(bandNames.map((b, i) => [b, bandArrays[i]]));

  // --- facilities ------------------------------------------------------------------------------------------------
  const childBands = ['0-2', '3-5', '6-11', '12-14'].map((b) => bands.get(b)!);
  const elderBands = ['60-79', '80+'].map((b) => bands.get(b)!);
  const cumulative = (w: (i: number) => number) => {
    const c = new Float64Array(nHomes);
    let s = 0;
    for (let i = 0; i < nHomes; i++) c[i] = s += w(i);
    return c;
  };
  const cum: Record<'residents' | 'children' | 'elderly', Float64Array> = {
    residents: cumulative((i) => homeResidents[i]),
    children: cumulative((i) => childBands[0][i] + childBands[1][i] + childBands[2][i] + childBands[3][i]),
    elderly: cumulative((i) => elderBands[0][i] + elderBands[1][i]),
  };
  /** A home drawn with probability ∝ weight, among homes [from, to). */
  const drawHome = (c: Float64Array, from = 0, to = nHomes) => {
    const lo0 = from > 0 ? c[from - 1] : 0;
    const x = lo0 + rand() * (c[to - 1] - lo0);
    let lo = from;
    let hi = to - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (c[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  const total = CATEGORY_SPECS.reduce((s, c) => s + Math.max(1, Math.round(c.count * facilityScale)), 0);
  const fIds: string[] = new Array(total);
  const fCategory: string[] = new Array(total);
  const fStatus: string[] = new Array(total);
  const fUnit: (string | null)[] = new Array(total);
  const fNames: (string | null)[] = new Array(total).fill(null);
  const fLon = new Float64Array(total);
  const fLat = new Float64Array(total);
  const fCapacity = new Float64Array(total).fill(NaN);
  const fBuilding = new Float64Array(total).fill(NaN);
  const fLand = new Float64Array(total).fill(NaN);
  const byCategory: Record<string, number> = {};
  let f = 0;
  const put = (spec: CategorySpec, lon: number, lat: number) => {
    lon = Math.min(maxLon, Math.max(minLon, lon));
    lat = Math.min(maxLat, Math.max(minLat, lat));
    fIds[f] = `f${f}`;
    fCategory[f] = spec.category;
    const u = rand();
    fStatus[f] = u < 0.96 ? 'existing' : u < 0.98 ? 'planned' : u < 0.99 ? 'under_construction' : 'closed';
    fUnit[f] = rand() < 0.5 ? committeeCode[committeeAt(lon, lat)] : null;
    fLon[f] = lon;
    fLat[f] = lat;
    // about 8 % of known-kind figures are missing in the data (NaN = unknown)
    if (spec.capacity && rand() > 0.08) fCapacity[f] = Math.round(uniform(spec.capacity));
    if (spec.buildingM2 && rand() > 0.08) fBuilding[f] = Math.round(uniform(spec.buildingM2));
    if (spec.landM2 && rand() > 0.08) fLand[f] = Math.round(uniform(spec.landM2));
    byCategory[spec.category] = (byCategory[spec.category] ?? 0) + 1;
    f++;
  };
  const nearHome = (home: number, minM: number, maxM: number): [number, number] => {
    const dist = minM + (maxM - minM) * rand();
    const ang = 2 * Math.PI * rand();
    return [homeLon[home] + (dist * Math.cos(ang)) / mPerDegLon, homeLat[home] + (dist * Math.sin(ang)) / mPerDegLat];
  };
  const subHomes = (s: number): [number, number] => [committeeHomeStart[subCommittees[s][0]], committeeHomeStart[subCommittees[s][1]]];
  for (const spec of CATEGORY_SPECS) {
    const n = Math.max(1, Math.round(spec.count * facilityScale));
    const offset: Range = spec.category === 'bus_stop' || spec.category === 'bus_interchange' ? [5, 40] : [20, 150];
    if (spec.place === 'subdistrict') {
      // sub-district centres: one in each of a random set of sub-districts (all of them when n ≥ their count),
      // the rest placed by residents
      const subs = Array.from({ length: subCode.length }, (_, i) => i).filter((s) => subHomes(s)[1] > subHomes(s)[0]);
      for (let i = subs.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [subs[i], subs[j]] = [subs[j], subs[i]];
      }
      const once = Math.min(n, subs.length);
      for (let i = 0; i < once; i++) {
        const [a, b] = subHomes(subs[i]);
        put(spec, ...nearHome(drawHome(cum.residents, a, b), offset[0], offset[1]));
      }
      for (let i = once; i < n; i++) put(spec, ...nearHome(drawHome(cum.residents), offset[0], offset[1]));
    } else if (spec.place === 'uniform') {
      for (let i = 0; i < n; i++) put(spec, minLon + rand() * (maxLon - minLon), minLat + rand() * (maxLat - minLat));
    } else {
      for (let i = 0; i < n; i++) put(spec, ...nearHome(drawHome(cum[spec.place]), offset[0], offset[1]));
    }
  }

  let residents = 0;
  for (let i = 0; i < nHomes; i++) residents += homeResidents[i];
  return {
    homes: { ids, lon: homeLon, lat: homeLat, unitCode: homeCode, bands, estimated: false },
    facilities: { ids: fIds, names: fNames, category: fCategory, status: fStatus, lon: fLon, lat: fLat, unitCode: fUnit, capacity: fCapacity, buildingAreaM2: fBuilding, landAreaM2: fLand },
    units,
    stats: {
      residents,
      homes: nHomes,
      committees: nCommittees,
      subdistricts: subCode.length,
      districts: nDistricts,
      facilities: total,
      byCategory,
      emptyCommittees,
      gridCols: cols,
      gridRows: rows,
      cellWidthM: widthM / cols,
      cellHeightM: heightM / rows,
    },
  };
}

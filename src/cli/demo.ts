import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WarningLog } from '../errors.ts';
import { readOsmFile } from '../import/osm.ts';
import { readPoints } from '../import/points.ts';
import { saveGraph, loadGraph, snapPoint, isSnap, MODE_NAMES, type Graph } from '../network/index.ts';
import { ReachEngine, reachFrom, reachedPieces, piecesLengthM, serviceAreaPolygon, multiPolygonAreaM2, nearestFacilityField, pieceCoordinates } from '../analysis/index.ts';
import { sharedDataDir } from '../util/data-dir.ts';
import { buildNetworkFile, graphSummaryLines } from './main.ts';
import { buildDemoProject } from './demo-project.ts';
import { runAssessment } from './assess.ts';
import { assessmentSummary } from './project.ts';
import { SqliteStore } from '../store/sqlite.ts';

const PEOPLES_SQUARE: [number, number] = [121.4737, 31.2304];

/** What a reader of the demo's numbers must know about its data. */
const DEMO_CAVEATS = [
  { en: 'Residents are an estimate: 2020 census district totals split by the city age structure and spread over geocoded residential addresses (a weak proxy: 56 % mean error on a held-back check). Import real census tables per sub-district or committee for planning use.', zh: '居民数为估算：2020 年普查各区总数按全市年龄结构拆分，再均摊到已地理编码的住宅地址（代理较弱，留出检验平均误差 56 %）。规划使用请导入街镇或居委的实际普查表。' },
  { en: 'Facilities come from OpenStreetMap (as of 2026-05) and the city\'s elderly-care list. OSM under-maps kindergartens, community health stations, culture stations and elderly care in China: low reach may be missing data, not missing facilities. Rules whose categories have no data are listed as not evaluated.', zh: '设施来自 OpenStreetMap（2026-05）及市养老服务名录。OSM 对幼儿园、社区卫生服务站、文化活动室和养老设施覆盖不足：覆盖率低可能是数据缺失而非设施缺失。无数据的类别其规则列为未评估。' },
  { en: 'The street network is OSM roads only (streets stand in for sidewalks); the Huangpu is crossed on foot only where the data has a walkable bridge or tunnel (ferries are not modelled).', zh: '路网仅含 OSM 道路（以街道代替人行道）；黄浦江仅在数据中有可步行桥梁或隧道处可通行（未建模轮渡）。' },
  { en: 'Only sub-districts whose boundary lies wholly inside the network\'s extent are assessed; neighbourhood committees have codes but no locations in the shared data, so results stop at sub-district level.', zh: '仅评估边界完全位于路网范围内的街镇；共享数据中的居委只有代码而无位置，故结果止于街镇一级。' },
];

/**
 * README's main job (for now): build the walk/elderly/bike network of central Shanghai from the shared OSM
 * extract, then print how much of the street network lies within 5/10/15 minutes of a bus stop or metro
 * station per mode (one multi-source run each) and a 15-minute walk from People's Square. Later issues grow
 * this into the full assessment.
 */
export async function runDemo(options: { dataDir?: string; outDir: string }): Promise<void> {
  const data = sharedDataDir(options.dataDir);
  const osmPath = join(data, 'osm-shanghai-center', 'shanghai_center.osm');
  mkdirSync(options.outDir, { recursive: true });
  const say = (s = '') => process.stdout.write(s + '\n');

  say('lifecircle demo: central Shanghai street network (OSM extract of 2025-08-09)');
  say();
  const warnings = new WarningLog();
  const { graph: built, parseSeconds, buildSeconds } = await buildNetworkFile(osmPath, { modes: [...MODE_NAMES], minIslandNodes: 50, warnings });
  const graphPath = join(options.outDir, 'shanghai-center.lcg');
  const bytes = saveGraph(built, graphPath);
  const t0 = performance.now();
  const graph = loadGraph(graphPath);
  const loadMs = performance.now() - t0;
  for (const line of graphSummaryLines(graph)) say(line);
  say(`built       in ${(parseSeconds + buildSeconds).toFixed(2)} s; graph file ${graphPath} (${(bytes / 1048576).toFixed(1)} MB) loads in ${loadMs.toFixed(1)} ms`);
  if (warnings.total() > 0) say(`warnings    ${JSON.stringify(warnings.countsByKind())}`);
  const walkInfo = graph.info.modes.find((m) => m.mode === 'walk');
  if (walkInfo && walkInfo.kept.length > 1) {
    say(`note        walking has ${walkInfo.kept.length} separate networks: the Huangpu river is crossed only by road tunnels and bridges closed to pedestrians in this data (ferries are not modelled).`);
  }
  say();

  // Facilities: bus stop positions from the same extract and metro stations (MIT-licensed station list).
  const stopLon: number[] = [];
  const stopLat: number[] = [];
  await readOsmFile(osmPath, {
    node(_id, lon, lat, tags) {
      if (tags && tags.public_transport === 'stop_position') {
        stopLon.push(lon);
        stopLat.push(lat);
      }
    },
    way() {},
  });
  const metro = readPoints(join(data, 'sh-metro-stations', 'shanghai-metro-stations.geojson'));
  const [minLon, minLat, maxLon, maxLat] = graph.info.bbox;
  const inBox = (lon: number, lat: number) => lon >= minLon && lon <= maxLon && lat >= minLat && lat <= maxLat;
  const metroLon: number[] = [];
  const metroLat: number[] = [];
  for (let i = 0; i < metro.lon.length; i++) if (inBox(metro.lon[i], metro.lat[i])) (metroLon.push(metro.lon[i]), metroLat.push(metro.lat[i]));

  say('Share of street junctions within 5 / 10 / 15 minutes of the nearest stop (one multi-source run per mode):');
  say(`  ${'facilities'.padEnd(26)}${'mode'.padEnd(9)}${'junctions'.padStart(10)}${'5 min'.padStart(9)}${'10 min'.padStart(9)}${'15 min'.padStart(9)}${'run ms'.padStart(9)}`);
  for (const [label, lons, lats] of [
    [`bus stops (${stopLon.length}, OSM)`, stopLon, stopLat],
    [`metro stations (${metroLon.length})`, metroLon, metroLat],
  ] as const) {
    for (const modeName of MODE_NAMES) {
      const mode = graph.mode(modeName);
      const t = performance.now();
      const field = nearestFacilityField(graph, mode, lons, lats, 900);
      const ms = performance.now() - t;
      const shares = shareWithin(graph, field.engine, mode.nodeComponent, [300, 600, 900]);
      say(`  ${label.padEnd(26)}${modeName.padEnd(9)}${String(shares.total).padStart(10)}${shares.pct.map((p) => `${p.toFixed(1)}%`.padStart(9)).join('')}${ms.toFixed(1).padStart(9)}`);
    }
  }
  say();

  const walk = graph.mode('walk');
  const origin = snapPoint(graph, walk, ...PEOPLES_SQUARE);
  if (isSnap(origin)) {
    const engine = new ReachEngine(walk);
    const t = performance.now();
    const result = reachFrom(graph, engine, origin, 900);
    const queryMs = performance.now() - t;
    const pieces = reachedPieces(graph, result);
    const area = serviceAreaPolygon(graph, pieces, 50);
    const file = join(options.outDir, 'reach-peoples-square-walk-15min.geojson');
    writeFileSync(
      file,
      JSON.stringify({
        type: 'FeatureCollection',
        attribution: graph.info.attribution,
        notes: graph.info.notes,
        features: [
          { type: 'Feature', properties: { kind: 'service-area', mode: 'walk', budgetS: 900, bufferM: 50 }, geometry: area },
          { type: 'Feature', properties: { kind: 'reached-network' }, geometry: { type: 'MultiLineString', coordinates: pieces.map((p) => pieceCoordinates(graph, p.chain, p.startM, p.endM)) } },
          { type: 'Feature', properties: { kind: 'origin', name: "People's Square" }, geometry: { type: 'Point', coordinates: PEOPLES_SQUARE } },
        ],
      }),
    );
    say(`15-minute walk from People's Square (${PEOPLES_SQUARE.join(', ')}), snapped ${origin.legM.toFixed(1)} m to way ${graph.chainWayId[origin.chain]}:`);
    say(`  ${result.reachedNodes} junctions, ${(piecesLengthM(pieces) / 1000).toFixed(1)} km of street, service area ${(multiPolygonAreaM2(area) / 1e6).toFixed(2)} km² (street buffered 50 m); query ${queryMs.toFixed(2)} ms`);
    say(`  written to ${file}`);
  }
  say();
  const projectPath = await buildDemoProject(data, options.outDir, say);
  say();
  say('Assessment of the sub-districts inside the network\'s extent (every enabled rule of catalogue/rules.json):');
  const store = new SqliteStore(projectPath);
  try {
    const run = await runAssessment(store, {
      graphFile: graphPath,
      outDir: join(options.outDir, 'assessment'),
      title: '中心城区 15 分钟社区生活圈评估（演示） · Central Shanghai 15-minute life circle assessment (demo)',
      caveats: DEMO_CAVEATS,
      say,
    });
    for (const line of assessmentSummary(run)) say(`  ${line}`);
    say(`  report: ${join(options.outDir, 'assessment', 'report', 'index.html')}`);
  } finally {
    await store.close();
  }
  say();
  say(`Data: ${graph.info.attribution}. Metro stations: MetroMapOpenMiniProgram (MIT). Population: 7th national census 2020.`);
  say('Sources without a stated licence (AMap-derived districts, the elderly-care list) are used here as a demo only.');
}

function shareWithin(graph: Graph, engine: ReachEngine, component: Int32Array, thresholdsS: number[]): { total: number; pct: number[] } {
  let total = 0;
  const counts = thresholdsS.map(() => 0);
  for (let n = 0; n < graph.nodeCount; n++) {
    if (component[n] < 0) continue;
    total++;
    const t = engine.timeS[n];
    for (let k = 0; k < thresholdsS.length; k++) if (t <= thresholdsS[k]) counts[k]++;
  }
  return { total, pct: counts.map((c) => (total ? (100 * c) / total : 0)) };
}

import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { importFile, type ImportOptions, type ImportReport } from '../import/importer.ts';
import { loadFacilityCatalogue } from '../model/catalogue.ts';
import { loadOsmTagTable } from '../model/osm-tags.ts';
import { SqliteStore } from '../store/sqlite.ts';
import { RECORD_KINDS } from '../model/records.ts';

const OSM = '© OpenStreetMap contributors, ODbL 1.0';

/**
 * Builds the demo project from the shared real data, with provenance kept per batch: official unit codes,
 * district and sub-district boundaries reconciled to them (unmatched units reported), OSM public-service
 * points mapped by the tag table, the elderly-care list (GCJ-02 → WGS84), metro stations, and the 2020
 * census district totals. Sources without a stated licence are marked "demo only".
 */
export async function buildDemoProject(data: string, outDir: string, say: (s?: string) => void): Promise<string> {
  const path = join(outDir, 'demo-project.sqlite');
  for (const suffix of ['', '-wal', '-shm']) if (existsSync(path + suffix)) rmSync(path + suffix);
  const store = new SqliteStore(path, { create: true });
  await store.init({ name: 'lifecircle demo: Shanghai (real shared data)' });
  const catalogue = loadFacilityCatalogue();
  const run = async (label: string, o: Omit<ImportOptions, 'catalogue'>, reconcile = false): Promise<ImportReport> => {
    const before = new Set((await store.unitCodes()).keys());
    const r = await importFile(store, { catalogue, ...o });
    const skipped = r.skipped ? `, ${r.skipped} skipped (${Object.entries(r.problemCounts).map(([k, n]) => `${k} ${n}`).join(', ')})` : '';
    const unmapped = Object.keys(r.unmapped).length ? `, not in the catalogue: ${Object.entries(r.unmapped).map(([k, n]) => `${k} ${n}`).join(', ')}` : '';
    say(`  ${label.padEnd(48)} ${String(r.batch?.inserted ?? 0).padStart(6)} new ${String(r.batch?.updated ?? 0).padStart(6)} updated${skipped}${unmapped}`);
    for (const x of r.repaired) say(`    ${x.record} (${x.recordId}): polygon repaired (${x.problem}); area changed ${(x.areaChange * 100).toPrecision(2)} %`);
    for (const x of r.recoded) say(`    ${x.name}: code ${x.givenCode} in the file is another unit's in the official list; filed under ${x.code}`);
    if (reconcile && r.skipped > 0) {
      const noCode = r.problems.filter((p) => p.code === 'missing-value').length;
      const other = r.problems.filter((p) => p.code !== 'missing-value').map((p) => `${p.record}: ${p.en}`);
      say(`    not filed (${r.skipped}): ${noCode ? `${noCode} units without a 2023 code (dissolved or renamed since)` : ''}${other.length ? `; ${other.join('; ')}` : ''}`);
    }
    if (reconcile && r.batch && r.batch.inserted > 0) {
      const added = [...(await store.unitCodes()).entries()].filter(([c]) => !before.has(c));
      say(`    boundaries whose code is not in the official 2023 list (kept, to be reconciled by hand): ${added.map(([c, u]) => `${c} ${u.name}`).join('; ')}`);
    }
    if (!r.ok && !r.batch) throw new Error(`${label}: ${r.problems.slice(0, 3).map((p) => p.en).join('; ')}`);
    return r;
  };
  const codes = join(data, 'sh-admin-codes');
  say('Demo project (out/demo-project.sqlite):');
  await run('districts (NBS 2023 codes)', { kind: 'units', file: join(codes, 'districts.csv'), source: 'nbs-2023' });
  await run('sub-districts (NBS 2023 codes)', { kind: 'units', file: join(codes, 'subdistricts.csv'), source: 'nbs-2023', map: { parent_code: 'areaCode' } });
  await run('neighbourhood committees (NBS 2023 codes)', { kind: 'units', file: join(codes, 'neighbourhood_committees.csv'), source: 'nbs-2023', map: { parent_code: 'streetCode' } });
  await run('district boundaries (AMap-derived, WGS84)', { kind: 'units', file: join(data, 'sh-districts', 'sh_districts_wgs84.geojson'), source: 'districts-amap', map: { code: 'adcode' }, attribution: 'District boundaries derived from AMap (licence not stated; demo only)' }, true);
  // Sub-district boundaries: the ~2015 set covers all 16 districts; the current OSM polygons then replace
  // it in the 8 districts they cover. Both are joined to the official list by name (matchNames), which
  // also files the OSM set's swapped 310107021/310107022 (真如镇街道 / 万里街道) under the official codes.
  await run('sub-district boundaries (~2015, all districts)', {
    kind: 'units',
    file: join(data, 'sh-subdistricts-all', 'sh_subdistricts_all_wgs84.geojson'),
    source: 'subdistricts-2015',
    map: { code: 'code_2023', name: 'name_2023' },
    matchNames: true,
    repairGeometry: true,
    skipInvalid: true,
    attribution: 'Sub-district polygons of ~2015 (healthy-city-platform; licence not stated; demo only)',
  }, true);
  await run('sub-district boundaries (OSM 2026, 8 districts)', {
    kind: 'units',
    file: join(data, 'sh-subdistricts-osm', 'sh_subdistricts_osm_2026-08-19.geojson'),
    source: 'osm-subdistricts',
    map: { code: 'official_control_code_2023', name: 'official_control_name_2023' },
    matchNames: true,
    attribution: OSM,
  }, true);
  const withoutBoundary: string[] = [];
  for await (const u of store.records('units')) if (u.level === 'subdistrict' && !u.boundary) withoutBoundary.push(`${u.code} ${u.name}`);
  say(`    sub-districts of the official list without a boundary (${withoutBoundary.length}, created or renamed after the polygons' vintage): ${withoutBoundary.join(', ')}`);
  await run('OSM public-service points (tag table)', {
    kind: 'facilities',
    file: join(data, 'sh-osm-public-service-pois', 'sh_osm_pois_20260519.csv'),
    source: 'osm-pois-2026-05',
    osmTags: loadOsmTagTable(catalogue),
    map: { id: 'osm_type+osm_id', land_area_m2: 'area_m2' },
    skipInvalid: true,
    attribution: OSM,
  });
  const elderlyTypes: Record<string, string> = {
    助餐服务点: 'elderly_canteen', 养老机构: 'elderly_care_institution', 老年日间照护机构: 'elderly_day_care_centre', 社区综合为老服务中心: 'comprehensive_elderly_service_centre',
    社区养老服务组织: 'community_elderly_service_org', 护理站: 'nursing_station', 长者照护之家: 'community_elderly_care_home', 护理院: 'nursing_hospital',
  };
  await run('elderly-care points (GCJ-02 → WGS84)', {
    kind: 'facilities',
    file: join(data, 'sh-elderly-care-facilities', 'sh_elderly_care_facilities.csv'),
    source: 'sh-elderly-care',
    crs: 'GCJ-02',
    map: { id: 'row', category: 'type_zh', lon: 'lng_gcj02', lat: 'lat_gcj02' },
    categoryMap: elderlyTypes,
    skipInvalid: true,
    attribution: 'Shanghai elderly-care service points (licence not stated; demo only)',
  });
  await run('metro stations', { kind: 'facilities', file: join(data, 'sh-metro-stations', 'shanghai-metro-stations.geojson'), source: 'metro-stations', category: 'rail_transit_station', map: { id: 'station', name: 'name_zh' }, attribution: 'MetroMapOpenMiniProgram (MIT)' });
  await run('2020 census residents per district', {
    kind: 'population',
    file: join(data, 'sh-population-census-districts', 'sh_district_population_census_2000_2010_2020.csv'),
    source: 'census-2020-districts',
    map: { unit_code: 'district_code', 'count:all': 'pop_census_2020' },
    year: 2020,
    // the file's last row is the city total (310000), not a district: reported as skipped
    skipInvalid: true,
    attribution: '7th national census 2020 (official statistics)',
  });
  await estimateDemoPopulation(store, data, say);
  const status = await store.status();
  say(`  holds ${RECORD_KINDS.map((k) => `${status.counts[k].toLocaleString('en')} ${k}`).join(', ')}`);
  await store.close();
  return path;
}

/**
 * The demo's population estimate, labelled as such everywhere: the 2020 census gives only district totals
 * and the city's age structure, so each district's total is split into age bands by the city structure and
 * spread over the district's geocoded residential addresses (one share per address, largest remainder),
 * exact per district and band. The held-back check predicts the district totals from the city total by the
 * same rule and reports the error: the addresses are skewed to 2022 outbreak areas, so it is large.
 */
export async function estimateDemoPopulation(store: SqliteStore, data: string, say: (s?: string) => void): Promise<void> {
  const { readFileSync, statSync } = await import('node:fs');
  const { sha256File } = await import('../util/hash.ts');
  const { splitCsvLine } = await import('../import/points.ts');
  const { disaggregate, splitByAgeStructure, heldBackError } = await import('../import/disaggregate.ts');
  const csv = (file: string) => {
    const [head, ...lines] = readFileSync(file, 'utf8').replace(/^\uFEFF/, '').trim().split(/\r?\n/);
    const cols = splitCsvLine(head);
    return lines.map((l) => Object.fromEntries(splitCsvLine(l).map((v, i) => [cols[i], v])));
  };
  const censusFile = join(data, 'sh-population-census-districts', 'sh_district_population_census_2000_2010_2020.csv');
  const structureFile = join(data, 'sh-population-census-districts', 'sh_city_population_structure_census_2020.csv');
  const addressFile = join(data, 'sh-residential-addresses-2022', 'sh_residential_addresses_dedup.csv');
  const districts = csv(censusFile).filter((r) => /^\d{6}$/.test(r.district_code) && r.district_code !== '310000');
  const structure = csv(structureFile)
    .filter((r) => r.indicator === 'age_group')
    .map((r) => ({ ageGroup: r.category, share: Number(r.value) }));
  const addresses = csv(addressFile).filter((r) => /^\d{9}$/.test(r.nbs_code_2023) && Number.isFinite(Number(r.wgs84_lng)));
  const zones = addresses.map((r, i) => ({ id: `a${i}`, unitCode: r.nbs_code_2023.slice(0, 6), lon: Number(r.wgs84_lng), lat: Number(r.wgs84_lat), weight: 1, sub: r.nbs_code_2023, name: r.complete_address }));
  const totals = districts.flatMap((d) => splitByAgeStructure({ unitCode: d.district_code, ageGroup: 'all', count: Number(d.pop_census_2020) }, structure));
  const result = disaggregate(zones, totals);
  const units = await store.unitCodes();
  const method = 'district census 2020 total × city age structure, spread evenly over geocoded residential addresses (largest remainder); exact per district and age band, an estimate per address';
  const sha = await sha256File(addressFile);
  const writer = await store.beginBatch({ kind: 'population', source: 'demo-estimate-addresses', file: addressFile, fileSha256: sha, fileBytes: statSync(addressFile).size, crs: 'EPSG:4326', mapping: { zone_id: 'row', unit_code: 'nbs_code_2023', lon: 'wgs84_lng', lat: 'wgs84_lat' }, note: `estimates: ${method}`, attribution: 'Estimate from the 7th national census 2020 (district totals) and geocoded 2022 residential addresses (licence not stated; demo only)' });
  const byId = new Map(zones.map((z) => [z.id, z]));
  let written = 0;
  for (const c of result.counts) {
    if (c.count === 0) continue;
    const z = byId.get(c.zoneId)!;
    await writer.write({ source: 'demo-estimate-addresses', sourceId: `${c.zoneId}|2020|${c.ageGroup}`, sourceRow: Number(c.zoneId.slice(1)) + 1, zoneId: c.zoneId, zoneKind: 'address', unitCode: units.has(z.sub) ? z.sub : null, lon: z.lon, lat: z.lat, year: 2020, ageGroup: c.ageGroup, count: c.count, estimated: true, method });
    written++;
  }
  await writer.flush();
  await writer.commit();
  const held = heldBackError(
    districts.map((d) => ({ code: d.district_code, parentCode: '310000', trueCount: Number(d.pop_census_2020), weight: zones.filter((z) => z.unitCode === d.district_code).length })),
  );
  say(`  population estimate (labelled estimated)       ${String(written).padStart(6)} address × age-band counts from ${zones.length.toLocaleString('en')} addresses; ${result.unitsWithoutZones.length} districts without addresses`);
  say(`    held-back check, district totals predicted from the city total by address counts: MAPE ${held.mape.toFixed(1)} %, median ${held.medianApe.toFixed(1)} %, max ${held.maxApe.toFixed(1)} %, ${(held.within20 * 100).toFixed(0)} % of districts within ±20 % — addresses are a weak proxy; import real census tables per sub-district or committee`);
}

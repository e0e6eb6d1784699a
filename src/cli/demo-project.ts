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
    say(`  ${label.padEnd(44)} ${String(r.batch?.inserted ?? 0).padStart(6)} new ${String(r.batch?.updated ?? 0).padStart(6)} updated${skipped}${unmapped}`);
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
  await run('sub-district boundaries (OSM, 8 districts)', {
    kind: 'units',
    file: join(data, 'sh-subdistricts-osm', 'sh_subdistricts_osm_2026-08-19.geojson'),
    source: 'osm-subdistricts',
    map: { code: 'official_control_code_2023', name: 'official_control_name_2023' },
    attribution: OSM,
  }, true);
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
  const status = await store.status();
  say(`  holds ${RECORD_KINDS.map((k) => `${status.counts[k].toLocaleString('en')} ${k}`).join(', ')}`);
  await store.close();
  return path;
}

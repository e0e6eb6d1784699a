import { statSync } from 'node:fs';
import { sha256File } from '../util/hash.ts';
import type { MultiPolygon, Polygon } from 'geojson';
import { LifecircleError } from '../errors.ts';
import { BoundaryIndex } from '../geo.ts';
import { UNIT_CODE_LENGTH, type PopulationRecord, type UnitLevel } from '../model/records.ts';
import type { ProjectStore } from '../store/store.ts';
import { disaggregate, heldBackError, splitByAgeStructure, type UnitTotal, type Zone } from './disaggregate.ts';
import { openOsmFeatures } from './osm-features.ts';

/**
 * Population per residential building, estimated from unit totals already in the project (census counts
 * per district, sub-district or committee: population records whose zone is a unit) and the residential
 * buildings of an OSM extract:
 *
 *   weight of a building = footprint area × levels, where OSM gives `building:levels`; otherwise footprint
 *   × the median levels of the unit's buildings that have them (1 where none has), so an unlabelled tower
 *   block in a unit of towers is not counted as a bungalow.
 *
 * A building belongs to the unit whose boundary holds its footprint's centroid (buildings are small and
 * convex enough for the centroid to lie inside). Totals are spread per unit and age band by the largest
 * remainder (src/import/disaggregate.ts), so they stay exact; each building's number is an estimate, and the
 * records say so (estimated, with the method). Held-back check: each unit's total is predicted from the
 * sum of all units by the same weights and compared with its census count.
 */
export interface EstimateOptions {
  /** OSM extract (PBF or XML) with the residential buildings. */
  buildingsFile: string;
  /** Which units' totals to spread (default: the finest level that has both totals and boundaries). */
  level?: UnitLevel;
  /** Census year of the totals (default: the latest in the project). */
  year?: number;
  /** City age structure to split "all ages" totals into bands (shares), when the totals have no bands. */
  ageStructure?: Array<{ ageGroup: string; share: number }>;
  source?: string;
  dryRun?: boolean;
}

export interface EstimateReport {
  dryRun: boolean;
  level: UnitLevel;
  year: number;
  method: string;
  buildings: number;
  buildingsWithLevels: number;
  /** Buildings in no unit that has totals (outside the boundaries, or in a unit without a census count). */
  buildingsOutside: number;
  unitsWithTotals: number;
  /** Units with totals but no residential building: their residents are not placed (listed). */
  unitsWithoutBuildings: string[];
  residents: number;
  residentsPlaced: number;
  records: number;
  heldBack: { mape: number; medianApe: number; maxApe: number; within20: number } | null;
  batchId: number | null;
  warnings: string;
}


/** Area centroid of a polygon's outer ring (vertex mean for a degenerate ring). */
function centroid(p: Polygon): [number, number] {
  const ring = p.coordinates[0];
  let a = 0;
  let cx = 0;
  let cy = 0;
  const [x0, y0] = ring[0];
  for (let i = 0; i < ring.length - 1; i++) {
    const x1 = ring[i][0] - x0;
    const y1 = ring[i][1] - y0;
    const x2 = ring[i + 1][0] - x0;
    const y2 = ring[i + 1][1] - y0;
    const cross = x1 * y2 - x2 * y1;
    a += cross;
    cx += (x1 + x2) * cross;
    cy += (y1 + y2) * cross;
  }
  if (Math.abs(a) < 1e-18) {
    const n = ring.length - 1;
    return [ring.slice(0, n).reduce((s, q) => s + q[0], 0) / n, ring.slice(0, n).reduce((s, q) => s + q[1], 0) / n];
  }
  return [x0 + cx / (3 * a), y0 + cy / (3 * a)];
}

function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

export async function estimatePopulationFromBuildings(store: ProjectStore, options: EstimateOptions): Promise<EstimateReport> {
  // --- totals per unit and age band ---------------------------------------------------------------------
  const unitTotals: Array<PopulationRecord & { batchId: number }> = [];
  for await (const p of store.records('population')) if (p.zoneKind === 'unit' && p.unitCode && !p.estimated) unitTotals.push(p);
  const boundaries = new Map<string, MultiPolygon>();
  for await (const u of store.records('units')) if (u.boundary) boundaries.set(u.code, u.boundary);
  const levels: UnitLevel[] = options.level ? [options.level] : ['committee', 'subdistrict', 'district'];
  const level = levels.find((l) => unitTotals.some((p) => p.unitCode!.length === UNIT_CODE_LENGTH[l] && boundaries.has(p.unitCode!)));
  if (!level) {
    throw new LifecircleError(
      'ARGUMENT_INVALID',
      `no unit totals to spread${options.level ? ` at level ${options.level}` : ''}: import census counts per unit first (lifecircle import population <file> --map unit_code=… --map count=…) and the units' boundaries`,
      { field: 'level' },
    );
  }
  const atLevel = unitTotals.filter((p) => p.unitCode!.length === UNIT_CODE_LENGTH[level]);
  const year = options.year ?? Math.max(...atLevel.map((p) => p.year));
  const totalsRaw = atLevel.filter((p) => p.year === year);
  if (totalsRaw.length === 0) throw new LifecircleError('ARGUMENT_INVALID', `no ${level} totals for ${year}`, { field: 'year' });
  const totals: UnitTotal[] = [];
  for (const p of totalsRaw) {
    if (!Number.isInteger(p.count)) throw new LifecircleError('ARGUMENT_INVALID', `population ${p.source}/${p.sourceId}: count ${p.count} is not a whole number of residents`, { record: p.sourceId, field: 'count' });
    const t = { unitCode: p.unitCode!, ageGroup: p.ageGroup, count: p.count };
    if (p.ageGroup === 'all' && options.ageStructure) totals.push(...splitByAgeStructure(t, options.ageStructure));
    else totals.push(t);
  }
  const totalCodes = [...new Set(totals.map((t) => t.unitCode))].filter((c) => boundaries.has(c)).sort();

  // --- buildings -> units ---------------------------------------------------------------------------------
  const locator = new BoundaryIndex(totalCodes.map((code) => ({ code, boundary: boundaries.get(code)! })));
  const source = openOsmFeatures(options.buildingsFile, { kind: 'buildings' });
  const found: Array<{ id: string; unitCode: string; lon: number; lat: number; areaM2: number; levels: number | null }> = [];
  let buildings = 0;
  let withLevels = 0;
  for await (const row of source.rows) {
    buildings++;
    const [lon, lat] = centroid(row.geometry as Polygon);
    const levelsValue = row.props.levels as number | null;
    if (levelsValue !== null) withLevels++;
    const unitCode = locator.locate(lon, lat);
    if (unitCode === null) continue;
    found.push({ id: String(row.props.id), unitCode, lon, lat, areaM2: Number(row.props.area_m2), levels: levelsValue });
  }
  const medianLevels = new Map<string, number>();
  const byUnit = new Map<string, number[]>();
  for (const b of found) if (b.levels !== null) byUnit.set(b.unitCode, [...(byUnit.get(b.unitCode) ?? []), b.levels]);
  for (const [code, v] of byUnit) medianLevels.set(code, median(v));
  const zones: Zone[] = found.map((b) => ({ id: b.id, unitCode: b.unitCode, lon: b.lon, lat: b.lat, weight: b.areaM2 * (b.levels ?? medianLevels.get(b.unitCode) ?? 1) }));
  const spreadable = totals.filter((t) => boundaries.has(t.unitCode));
  const result = disaggregate(zones, spreadable);
  const method = `${level} census ${year} totals${options.ageStructure ? ' × city age structure' : ''} spread over OSM residential buildings by floor area (footprint × building:levels, else × the unit's median levels; largest remainder); exact per ${level} and age band, an estimate per building`;

  // --- held-back check: each unit's total predicted from the sum of all by the same weights -----------------
  const weightByUnit = new Map<string, number>();
  for (const z of zones) weightByUnit.set(z.unitCode, (weightByUnit.get(z.unitCode) ?? 0) + z.weight);
  const allAges = new Map<string, number>();
  for (const t of spreadable) allAges.set(t.unitCode, (allAges.get(t.unitCode) ?? 0) + t.count);
  // only units with buildings: a unit without any would be "predicted" from nothing
  const checkable = [...allAges].filter(([code]) => (weightByUnit.get(code) ?? 0) > 0);
  const held = checkable.length >= 2 ? heldBackError(checkable.map(([code, n]) => ({ code, parentCode: 'all', trueCount: n, weight: weightByUnit.get(code)! }))) : null;

  // --- write ---------------------------------------------------------------------------------------------------
  const zoneById = new Map(zones.map((z) => [z.id, z]));
  const sourceName = options.source ?? 'estimate-buildings';
  let records = 0;
  let placed = 0;
  let batchId: number | null = null;
  if (!options.dryRun) {
    const writer = await store.beginBatch({
      kind: 'population', source: sourceName, file: options.buildingsFile, fileSha256: await sha256File(options.buildingsFile), fileBytes: statSync(options.buildingsFile).size,
      crs: 'EPSG:4326', mapping: { zone_id: 'id', weight: 'area_m2 × levels' }, note: `estimates: ${method}`, attribution: '© OpenStreetMap contributors, ODbL 1.0 (buildings); residents are estimates',
    });
    try {
      for (const c of result.counts) {
        if (c.count === 0) continue;
        const z = zoneById.get(c.zoneId)!;
        await writer.write({ source: sourceName, sourceId: `${c.zoneId}|${year}|${c.ageGroup}`, sourceRow: records + 1, zoneId: c.zoneId, zoneKind: 'building', unitCode: c.unitCode, lon: z.lon, lat: z.lat, year, ageGroup: c.ageGroup, count: c.count, estimated: true, method });
        records++;
        placed += c.count;
      }
      await writer.flush();
      batchId = (await writer.commit()).id;
    } catch (e) {
      await writer.rollback();
      throw e;
    }
  } else {
    for (const c of result.counts) if (c.count > 0) (records++, (placed += c.count));
  }
  return {
    dryRun: options.dryRun ?? false, level, year, method, buildings, buildingsWithLevels: withLevels, buildingsOutside: buildings - found.length, unitsWithTotals: allAges.size,
    unitsWithoutBuildings: result.unitsWithoutZones, residents: totals.reduce((s, t) => s + t.count, 0), residentsPlaced: placed, records,
    heldBack: held ? { mape: held.mape, medianApe: held.medianApe, maxApe: held.maxApe, within20: held.within20 } : null,
    batchId, warnings: source.warnings.format().join("\n"),
  };
}

import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Feature, Geometry } from 'geojson';
import { LifecircleError } from '../errors.ts';
import type { RecordKind } from '../model/records.ts';
import type { ProjectStore } from '../store/store.ts';

/** Columns exported per layer, in order: record field → column name (snake_case, as in the import fields). */
const COLUMNS: Record<RecordKind, Array<[string, string]>> = {
  units: [['code', 'code'], ['level', 'level'], ['name', 'name'], ['parentCode', 'parent_code'], ['centreLon', 'centre_lon'], ['centreLat', 'centre_lat'], ['centreKind', 'centre_kind']],
  facilities: [
    ['sourceId', 'id'], ['category', 'category'], ['name', 'name'], ['lon', 'lon'], ['lat', 'lat'], ['capacity', 'capacity'], ['capacityUnit', 'capacity_unit'],
    ['buildingAreaM2', 'building_area_m2'], ['landAreaM2', 'land_area_m2'], ['status', 'status'], ['openingYear', 'opening_year'], ['operator', 'operator'],
    ['unitCode', 'unit_code'], ['originalCrs', 'original_crs'], ['originalX', 'original_x'], ['originalY', 'original_y'],
  ],
  sites: [
    ['sourceId', 'id'], ['name', 'name'], ['lon', 'lon'], ['lat', 'lat'], ['floorAreaM2', 'floor_area_m2'], ['landAreaM2', 'land_area_m2'], ['owner', 'owner'],
    ['reuseKinds', 'reuse'], ['costCny', 'cost_cny'], ['unitCode', 'unit_code'], ['originalCrs', 'original_crs'], ['originalX', 'original_x'], ['originalY', 'original_y'],
  ],
  population: [
    ['zoneId', 'zone_id'], ['zoneKind', 'zone_kind'], ['unitCode', 'unit_code'], ['lon', 'lon'], ['lat', 'lat'], ['year', 'year'], ['ageGroup', 'age_group'],
    ['count', 'count'], ['estimated', 'estimated'], ['method', 'method'],
  ],
};
const PROVENANCE: Array<[string, string]> = [['source', 'source'], ['sourceRow', 'source_row'], ['batchId', 'batch_id']];

export const LAYERS = Object.keys(COLUMNS) as RecordKind[];

export function layerColumns(kind: RecordKind): Array<[string, string]> {
  return [...COLUMNS[kind], ...PROVENANCE];
}

/** A record's geometry for export: a unit's boundary (or its centre), else its point. */
export function recordGeometry(kind: RecordKind, r: Record<string, unknown>): Geometry | null {
  if (kind === 'units') {
    if (r.boundary) return r.boundary as Geometry;
    return r.centreLon !== null && r.centreLon !== undefined ? { type: 'Point', coordinates: [r.centreLon as number, r.centreLat as number] } : null;
  }
  return r.lon !== null && r.lon !== undefined ? { type: 'Point', coordinates: [r.lon as number, r.lat as number] } : null;
}

export function recordProperties(kind: RecordKind, r: Record<string, unknown>): Record<string, unknown> {
  const props: Record<string, unknown> = {};
  for (const [field, col] of layerColumns(kind)) {
    const v = r[field];
    props[col] = Array.isArray(v) ? v.join(';') : typeof v === 'boolean' ? (v ? 1 : 0) : (v ?? null);
  }
  return props;
}

/** Distinct attributions of the batches the exported records came from. */
export async function attributionsOf(store: ProjectStore, kind: RecordKind): Promise<string[]> {
  const status = await store.status();
  const set = new Set<string>();
  for (const b of status.batches) if (b.kind === kind && b.attribution) set.add(b.attribution);
  return [...set];
}

/** One CSV cell (RFC 4180): quoted when it holds a quote, comma or line break. */
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Exports a layer as GeoJSON (streamed; attribution and source list as foreign members), CSV (UTF-8 with
 * BOM so that Excel shows Chinese text; geometry as lon/lat columns, unit boundaries as WKT-free GeoJSON
 * text in a `geometry` column) or GeoPackage (by the output's extension). Returns the record count.
 */
export async function exportLayer(store: ProjectStore, kind: RecordKind, output: string): Promise<number> {
  const lower = output.toLowerCase();
  const attributions = await attributionsOf(store, kind);
  if (lower.endsWith('.gpkg')) {
    const { writeGeoPackage } = await import('./gpkg.ts');
    const features: Feature[] = [];
    for await (const r of store.records(kind)) features.push({ type: 'Feature', properties: recordProperties(kind, r as never), geometry: recordGeometry(kind, r as never) as Geometry });
    const types = new Set(features.map((f) => f.geometry?.type).filter(Boolean));
    const geometryType = types.size === 1 ? (String([...types][0]).toUpperCase() as 'POINT') : 'GEOMETRY';
    writeGeoPackage(output, [
      {
        name: kind,
        geometryType: geometryType === ('POLYGON' as string) ? 'MULTIPOLYGON' : geometryType,
        columns: layerColumns(kind).map(([field, col]) => ({ name: col, type: NUMERIC.has(field) ? 'REAL' : INTEGER.has(field) ? 'INTEGER' : 'TEXT' })),
        features,
        description: attributions.join('; ') || undefined,
      },
    ]);
    return features.length;
  }
  if (!lower.endsWith('.geojson') && !lower.endsWith('.json') && !lower.endsWith('.csv')) {
    throw new LifecircleError('ARGUMENT_INVALID', `${output}: unknown export format; use .geojson, .csv or .gpkg`, { file: output });
  }
  const out = createWriteStream(output);
  const write = async (s: string) => {
    if (!out.write(s)) await once(out, 'drain');
  };
  let n = 0;
  if (lower.endsWith('.csv')) {
    const cols = layerColumns(kind);
    await write('\uFEFF' + [...cols.map((c) => c[1]), ...(kind === 'units' ? ['boundary_geojson'] : [])].join(',') + '\n');
    for await (const r of store.records(kind)) {
      const props = recordProperties(kind, r as never);
      const cells = cols.map(([, col]) => csvCell(props[col]));
      if (kind === 'units') cells.push(csvCell((r as { boundary: unknown }).boundary ? JSON.stringify((r as { boundary: unknown }).boundary) : ''));
      await write(cells.join(',') + '\n');
      n++;
    }
  } else {
    await write(`{"type":"FeatureCollection","attribution":${JSON.stringify(attributions.join('; '))},"layer":${JSON.stringify(kind)},"features":[\n`);
    for await (const r of store.records(kind)) {
      const f = { type: 'Feature', properties: recordProperties(kind, r as never), geometry: recordGeometry(kind, r as never) };
      await write((n > 0 ? ',\n' : '') + JSON.stringify(f));
      n++;
    }
    await write('\n]}\n');
  }
  out.end();
  await once(out, 'finish');
  return n;
}

const NUMERIC = new Set(['lon', 'lat', 'capacity', 'buildingAreaM2', 'landAreaM2', 'floorAreaM2', 'costCny', 'originalX', 'originalY', 'centreLon', 'centreLat', 'count']);
const INTEGER = new Set(['openingYear', 'year', 'sourceRow', 'batchId', 'estimated']);

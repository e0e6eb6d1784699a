import { statSync } from 'node:fs';
import { sha256File } from '../util/hash.ts';
import { basename } from 'node:path';
import type { Geometry, MultiPolygon } from 'geojson';
import { LifecircleError } from '../errors.ts';
import type { FacilityCatalogue } from '../model/catalogue.ts';
import type { OsmTagTable } from '../model/osm-tags.ts';
import {
  FACILITY_STATUSES,
  REUSE_KINDS,
  ageBandRange,
  type AdminUnitRecord,
  type CandidateSiteRecord,
  type FacilityRecord,
  type FacilityStatus,
  type PopulationRecord,
  type RecordKind,
  type ReuseKind,
  type UnitLevel,
} from '../model/records.ts';
import type { BatchSummary, ProjectStore, RecordsByKind } from '../store/store.ts';
import { parseCrs, toWgs84, type CrsName } from './crs.ts';
import { FIELDS, resolveMapping } from './fields.ts';
import { asMultiPolygon, interiorPoint, mapCoordinates, parseWkt, polygonProblem, positions, repairPolygon } from './geometry.ts';
import { ProblemLog, type Problem, type ProblemCode } from './problems.ts';
import { fileHead, openRows, sniffFormat, type RawRow, type RowSource } from './rows.ts';
import { openOsmFeatures } from './osm-features.ts';
import { loadOsmTagTable } from '../model/osm-tags.ts';

/** Where records may lie: a lon/lat box (default: Shanghai's city boundary box, with a small margin). */
export interface ProjectArea {
  name: string;
  bbox: [number, number, number, number];
}

// The 16 districts' land extent (sh-districts, WGS84: 120.853–122.243 E, 30.678–31.875 N) plus ~5 km.
export const SHANGHAI_AREA: ProjectArea = { name: 'Shanghai', bbox: [120.8, 30.63, 122.3, 31.92] };

export interface ImportOptions {
  kind: RecordKind;
  file: string;
  /** Source name (identity of re-imports); default: the file's base name. */
  source?: string;
  crs?: string;
  /** field → column (or column → field is not accepted); `count:<band>` entries for wide population tables. */
  map?: Record<string, string>;
  encoding?: string;
  delimiter?: string;
  dryRun?: boolean;
  /** GeoPackage: which layer (default: the first). */
  layer?: string;
  /** One category for every row (a file of kindergartens). */
  category?: string;
  /** Source category values → catalogue ids (e.g. 养老机构 → elderly_care_institution). */
  categoryMap?: Record<string, string>;
  /**
   * Facilities from OSM tags (an OSM extract's tag columns): the category comes from this table; rows no
   * rule matches (post offices, …) are not catalogue facilities and are skipped, counted in `unmapped`.
   */
  osmTags?: OsmTagTable;
  defaultStatus?: FacilityStatus;
  /** Population: the year of every count, when the file has no year column. */
  year?: number;
  /** Population: mark every count as an estimate made by this method. */
  estimateMethod?: string;
  attribution?: string;
  /**
   * Write the valid records and skip (and report) the invalid ones, instead of refusing the whole batch.
   * The batch is still one transaction; the report lists every skipped record and why.
   */
  skipInvalid?: boolean;
  /**
   * Units: the official code list already stored is the authority. When a row's code belongs to a stored
   * unit of another name and exactly one stored unit under the same parent has the row's name (suffixes
   * 街道/镇/乡 ignored), the row is filed under that unit's code and the change reported in `recoded`;
   * stored names are kept. For boundary layers whose codes were joined by hand.
   */
  matchNames?: boolean;
  /** Repair self-touching or self-crossing polygons by a zero-width buffer when the area moves ≤ 1 %; reported in `repaired`. */
  repairGeometry?: boolean;
  area?: ProjectArea;
  catalogue: FacilityCatalogue;
  capPerProblem?: number;
  onProgress?: (rows: number) => void;
}

export interface ImportReport {
  ok: boolean;
  /** Records skipped for problems (only with skipInvalid). */
  skipped: number;
  /** Rows the OSM tag table maps to no category, by their most telling tag (osmTags only). */
  unmapped: Record<string, number>;
  /** Units filed under another code than the row's by matchNames: the name said which unit it is. */
  recoded: Array<{ record: string; name: string; givenCode: string; code: string }>;
  /** Polygons repaired by repairGeometry: what was wrong and the relative area change. */
  repaired: Array<{ record: string; recordId: string | null; problem: string; areaChange: number }>;
  dryRun: boolean;
  kind: RecordKind;
  file: string;
  source: string;
  format: string;
  encoding: string;
  delimiter?: string;
  crs: CrsName;
  mapping: Record<string, string>;
  rows: number;
  records: number;
  batch: BatchSummary | null;
  problemCount: number;
  problemCounts: Record<string, number>;
  problems: readonly Problem[];
}

const STATUS_WORDS: Record<string, FacilityStatus> = {
  existing: 'existing', exists: 'existing', open: 'existing', operating: 'existing', 现状: 'existing', 已建: 'existing', 已建成: 'existing', 运营: 'existing', 在营: 'existing', 现有: 'existing',
  under_construction: 'under_construction', 'under construction': 'under_construction', construction: 'under_construction', 在建: 'under_construction', 建设中: 'under_construction',
  planned: 'planned', plan: 'planned', proposed: 'planned', 规划: 'planned', 拟建: 'planned', 新建: 'planned',
  closed: 'closed', 关闭: 'closed', 停业: 'closed', 撤销: 'closed',
};
const REUSE_WORDS: Record<string, ReuseKind> = { stock: 'stock', 盘活存量: 'stock', 存量: 'stock', mixed: 'mixed', 复合利用: 'mixed', 复合: 'mixed', new: 'new', 新建: 'new', 规划完善: 'new' };
const LEVEL_BY_LENGTH: Record<number, UnitLevel> = { 6: 'district', 9: 'subdistrict', 12: 'committee' };

/**
 * The statistics bureau writes every level as 12 digits (district 310101000000, sub-district 310101002000,
 * committee 310101002001); lifecircle keys districts by 6 and sub-districts by 9 digits. Committees never end
 * in 000, so the padding can be stripped safely.
 */
export function normaliseUnitCode(code: string): string {
  if (/^\d{12}$/.test(code)) {
    if (code.endsWith('000000')) return code.slice(0, 6);
    if (code.endsWith('000')) return code.slice(0, 9);
  }
  return code;
}
const PARENT_LENGTH: Record<UnitLevel, number> = { district: 0, subdistrict: 6, committee: 9 };


/**
 * Imports one file of one record kind: read (streaming), map fields, convert coordinates to WGS84, validate
 * every record, and write the batch in one transaction that commits only if no record had a problem. A bad
 * batch writes nothing and the report lists every problem (capped per kind, counted exactly). `dryRun`
 * validates only. Records whose (source, id) is already stored are updated in place.
 */
/** Whether a file is an OSM extract (PBF or XML), by its first bytes. */
function isOsmFile(file: string): boolean {
  if (!/\.(osm|pbf|xml)$/i.test(file)) return false;
  try {
    const buf = fileHead(file, 512);
    const kind = sniffFormat(buf);
    return kind === 'pbf' || (kind === 'xml' && buf.includes('<osm'));
  } catch {
    return false;
  }
}

export async function importFile(store: ProjectStore | null, options: ImportOptions): Promise<ImportReport> {
  const { kind, file, catalogue } = options;
  const area = options.area ?? SHANGHAI_AREA;
  const source = options.source ?? basename(file);
  const problems = new ProblemLog(options.capPerProblem ?? 20);
  // An OSM extract (PBF or XML, by its bytes) is a facility source: tagged nodes and closed ways, categories
  // by the OSM tag table, areas (parks by size) from the polygons.
  const osmFile = kind === 'facilities' && isOsmFile(file);
  const opened: RowSource = osmFile ? openOsmFeatures(file, { kind: 'facilities' }) : openRows(file, { encoding: options.encoding, delimiter: options.delimiter, layer: options.layer });
  if (osmFile) {
    options = { ...options, osmTags: options.osmTags ?? loadOsmTagTable(catalogue), map: { land_area_m2: 'area_m2', ...options.map }, attribution: options.attribution ?? '© OpenStreetMap contributors, ODbL 1.0' };
  }
  // a GeoPackage says its CRS; an explicit --crs must agree with it
  const declared = opened.declaredCrs ? parseCrs(opened.declaredCrs) : null;
  if (declared && options.crs && parseCrs(options.crs) !== declared) {
    throw new LifecircleError('ARGUMENT_INVALID', `${file}: --crs ${options.crs} but the GeoPackage layer declares ${declared}`, { file, field: 'crs' });
  }
  const crs = declared ?? parseCrs(options.crs ?? 'EPSG:4326');
  const convert = toWgs84(crs);
  // GeoJSON has no header: take the columns from the first feature's properties.
  const iterator = opened.rows[Symbol.asyncIterator]();
  const first = await iterator.next();
  const columns = opened.format !== 'csv' && opened.columns.length === 0 && !first.done ? Object.keys(first.value.props) : opened.columns;
  const mapping = resolveMapping(kind, columns, options.map ?? {});
  const dryRun = options.dryRun ?? false;
  if (!dryRun && !store) throw new Error('importFile needs a store unless dryRun');

  // Columns named in the mapping must exist (CSV: the header is known up front).
  const firstRecord = opened.format === 'csv' ? 'row 1' : 'feature 1';
  for (const [field, column] of Object.entries(mapping)) {
    if (!column.split(field === 'id' ? '+' : '\u0000').every((c) => columns.includes(c))) {
      throw new LifecircleError('LAYER_FIELD_INVALID', `${file}: --map ${field}=${column}: no ${opened.format === 'csv' ? 'column' : 'property'} "${column}" in ${opened.format === 'csv' ? 'the header' : 'the first feature'} (${columns.join(', ')})`, { file, record: firstRecord, field });
    }
  }
  const required = FIELDS[kind].filter(
    (f) => f.required && !(kind === 'facilities' && f.field === 'category' && (options.category || options.osmTags)) && !(kind === 'population' && f.field === 'year' && options.year !== undefined),
  );
  const missing = required.filter((f) => mapping[f.field] === undefined && !(kind === 'population' && f.field === 'zone_id' && mapping.unit_code));
  if (missing.length > 0 && !first.done) {
    throw new LifecircleError(
      'LAYER_FIELD_INVALID',
      `${file}: no column for required field${missing.length > 1 ? 's' : ''} ${missing.map((m) => `${m.field} (${m.description})`).join('; ')}; columns are: ${columns.join(', ')}. Give --map ${missing[0].field}=<column>`,
      { file, record: firstRecord, field: missing[0].field },
    );
  }
  const hasPoint = (mapping.lon !== undefined && mapping.lat !== undefined) || mapping.wkt !== undefined || opened.format !== 'csv';
  if ((kind === 'facilities' || kind === 'sites') && !hasPoint) {
    throw new LifecircleError('LAYER_FIELD_INVALID', `${file}: no coordinates: give lon/lat columns (--map lon=<col> --map lat=<col>) or a WKT column (--map wkt=<col>); columns are: ${columns.join(', ')}`, { file, record: firstRecord, field: 'lon' });
  }
  const wideBands = Object.keys(mapping).filter((k) => k.startsWith('count:')).map((k) => k.slice(6));
  if (kind === 'population' && mapping.count === undefined && wideBands.length === 0) {
    throw new LifecircleError('LAYER_FIELD_INVALID', `${file}: no population count: map a count column (long format, with age_group) or one column per age band (--map count:60-79=<col>)`, { file, record: firstRecord, field: 'count' });
  }
  for (const band of wideBands) {
    if (!ageBandRange(band)) throw new LifecircleError('ARGUMENT_INVALID', `--map count:${band}: "${band}" is not an age band ("a-b", "a+" or "all")`, { field: 'map' });
  }

  const knownUnits = store ? await store.unitCodes().catch(() => new Map<string, { level: string; name: string }>()) : new Map();
  const batchUnits = new Set<string>();
  const pendingUnitRefs: Array<{ code: string; problem: Omit<Problem, 'en' | 'zh'> }> = [];
  const seenIds = new Set<string>();
  const writer = !dryRun && store ? await store.beginBatch({ kind, source, file, fileSha256: await sha256File(file), fileBytes: statSync(file).size, crs, mapping, note: options.estimateMethod ? `estimates: ${options.estimateMethod}` : undefined, attribution: options.attribution }) : null;

  let rows = 0;
  let records = 0;
  const unmapped: Record<string, number> = {};
  const recoded: ImportReport['recoded'] = [];
  const repaired: ImportReport['repaired'] = [];
  /** A valid polygon: as given, or repaired when allowed; null after reporting the problem. */
  const validPolygon = <G extends Geometry>(g: G): G | MultiPolygon | null => {
    const why = polygonProblem(g);
    if (!why) return g;
    if (options.repairGeometry) {
      const fixed = repairPolygon(g);
      if (fixed) {
        repaired.push({ record, recordId, problem: why, areaChange: fixed.areaChange });
        return fixed.geometry;
      }
    }
    problem('invalid-geometry', 'geometry', why, options.repairGeometry ? 'a valid polygon (a zero-width buffer could not repair it within 1 % of its area)' : 'a valid polygon (no self-intersections; --repair-geometry fixes self-touching rings)', options.repairGeometry ? '有效多边形（零宽缓冲无法在面积变化 1 % 以内修复）' : '有效多边形（不得自相交；--repair-geometry 可修复自接触的环）');
    return null;
  };
  const bareName = (n: string) => n.replace(/(街道|镇|乡)$/, '');
  // stored units by parent and bare name, for matchNames
  const byParentName = new Map<string, string[]>();
  if (options.matchNames) {
    for (const [code, u] of knownUnits) {
      const key = `${code.length === 12 ? code.slice(0, 9) : code.length === 9 ? code.slice(0, 6) : ''}|${bareName(u.name)}`;
      byParentName.set(key, [...(byParentName.get(key) ?? []), code]);
    }
  }
  const duplicateProblem = (sourceId: string, sourceRow: number) =>
    problems.add({ code: 'duplicate-id', file, record: `${opened.format === 'csv' ? 'row' : 'feature'} ${sourceRow}`, recordId: sourceId, field: 'id', value: sourceId, expected: 'an id not used by an earlier row of this file' });
  // --- one raw row → records (or problems) ------------------------------------------------------------
  // The helpers below are created once and read the current row from these variables: creating a dozen
  // closures per row cost more than parsing the CSV.
  let raw: RawRow = { row: 0, props: {}, geometry: null };
  let record = '';
  let recordId: string | null = null;
  let idText: string | null = null;
  const recordPrefix = opened.format === 'csv' ? 'row ' : 'feature ';
  // --map id=osm_type+osm_id: an id made of several columns (OSM node 5 and way 5 are different objects)
  const idColumns = mapping.id !== undefined ? mapping.id.split('+') : [];
  const get = (field: string): unknown => (mapping[field] !== undefined ? raw.props[mapping[field]] : undefined);
  const text = (field: string): string | null => {
    const v = get(field);
    if (v === undefined || v === null) return null;
    const s = typeof v === 'string' ? v.trim() : String(v).trim();
    return s.length > 0 ? s : null;
  };
  const problem = (code: ProblemCode, field: string | null, value: unknown, expected: string, expectedZh: string) =>
    problems.add({ code, file, record, recordId, field: field && mapping[field] ? `${field} (column ${mapping[field]})` : field, value: value === undefined || value === null ? null : String(value), expected, expectedZh });
  const number = (field: string, opts: { min?: number; max?: number; integer?: boolean; required?: boolean } = {}): number | null => {
    const v = get(field);
    if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) {
      if (opts.required) problem('missing-value', field, null, 'a number', '数字');
      return null;
    }
    const n = typeof v === 'number' ? v : Number(String(v).trim().replace(/,(?=\d{3}\b)/g, ''));
    if (!Number.isFinite(n)) {
      problem('not-a-number', field, v, `a number${opts.min !== undefined ? ` >= ${opts.min}` : ''}`, `${opts.min !== undefined ? `不小于 ${opts.min} 的` : ''}数字`);
      return null;
    }
    if ((opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max) || (opts.integer && !Number.isInteger(n))) {
      problem('out-of-range', field, v, `${opts.integer ? 'an integer' : 'a number'}${opts.min !== undefined ? ` >= ${opts.min}` : ''}${opts.max !== undefined ? ` and <= ${opts.max}` : ''}`, `${opts.min !== undefined ? `不小于 ${opts.min}` : ''}${opts.max !== undefined ? `且不大于 ${opts.max} ` : ''}的${opts.integer ? '整数' : '数字'}`);
      return null;
    }
    return n;
  };
  const unitRef = (field: string): string | null => {
    const given = text(field);
    if (given === null) return null;
    const code = normaliseUnitCode(given);
    if (!/^\d{6}(\d{3}(\d{3})?)?$/.test(code)) {
      problem('invalid-code', field, code, 'a 6-, 9- or 12-digit administrative code', '6、9 或 12 位行政区划代码');
      return null;
    }
    // facilities, sites and population refer to units imported before them: check now
    if (!knownUnits.has(code)) {
      problem('unknown-unit-code', field, code, 'the code of a unit already imported (lifecircle import units …)', '已导入单位的代码（先运行 lifecircle import units …）');
      return null;
    }
    return code;
  };
  const duplicate = (id: string) => {
    if (writer) return false; // the store reports duplicates as it writes
    if (seenIds.has(id)) {
      problem('duplicate-id', 'id', id, 'an id not used by an earlier row of this file', '本文件前面各行未用过的编号');
      return true;
    }
    seenIds.add(id);
    return false;
  };
  const [minLon, minLat, maxLon, maxLat] = area.bbox;
  const inside = (lon: number, lat: number) => lon >= minLon && lon <= maxLon && lat >= minLat && lat <= maxLat;
  /** The record's geometry in WGS84: a GeoJSON feature's, a WKT column, or lon/lat columns. */
  const geometryOf = (lonField = 'lon', latField = 'lat'): Geometry | null | 'bad' => {
    let g: Geometry | null = null;
    let original: Geometry | null = null;
    if (mapping[lonField] !== undefined && mapping[latField] !== undefined && (get(lonField) !== undefined || raw.geometry === null)) {
      const x = number(lonField, { required: true });
      const y = number(latField, { required: true });
      if (x === null || y === null) return 'bad';
      original = { type: 'Point', coordinates: [x, y] };
    } else if (mapping.wkt !== undefined && text('wkt') !== null) {
      try {
        original = parseWkt(text('wkt')!);
      } catch (e) {
        problem('invalid-geometry', 'wkt', text('wkt')!.slice(0, 60), `WKT (${(e as Error).message})`, `有效的 WKT（${(e as Error).message}）`);
        return 'bad';
      }
    } else if (raw.geometry) original = raw.geometry;
    if (!original) return null;
    for (const p of positions(original)) {
      if (!Number.isFinite(p[0]) || !Number.isFinite(p[1])) {
        problem('invalid-coordinates', mapping.lon ? lonField : 'geometry', JSON.stringify(p), 'finite coordinates', '有限数值坐标');
        return 'bad';
      }
    }
    if (original.type === 'Point') {
      // the common case, without the generic walk over positions
      const [lon, lat] = convert(original.coordinates[0], original.coordinates[1]);
      g = { type: 'Point', coordinates: [lon, lat] };
      if (inside(lon, lat)) return g;
    } else g = mapCoordinates(original, convert);
    for (const [lon, lat] of positions(g)) {
      if (inside(lon, lat)) continue;
      const [sx, sy] = crs === 'EPSG:4326' || crs === 'EPSG:4490' ? [lat, lon] : [NaN, NaN];
      if (inside(sx, sy)) problem('coordinates-swapped', mapping.lon ? `${lonField}/${latField}` : 'geometry', `${lon},${lat}`, `lon,lat inside ${area.name} — the values look like lat,lon: swap the columns (--map lon=${mapping[latField] ?? '?'} --map lat=${mapping[lonField] ?? '?'})`, `${area.name} 范围内的 经度,纬度——这些值像是 纬度,经度：请交换两列（--map lon=${mapping[latField] ?? '?'} --map lat=${mapping[lonField] ?? '?'}）`);
      else problem('outside-area', mapping.lon ? `${lonField}/${latField}` : 'geometry', `${lon.toFixed(6)},${lat.toFixed(6)}`, `a point inside ${area.name} [${area.bbox.join(', ')}] (after converting from ${crs})`, `${area.name} 范围 [${area.bbox.join(', ')}] 内的点（由 ${crs} 转换后）`);
      return 'bad';
    }
    return g;
  };
  const pointOf = (g: Geometry): [number, number] | null => {
    if (g.type === 'Point') return g.coordinates as [number, number];
    if (g.type === 'Polygon' || g.type === 'MultiPolygon') {
      const valid = validPolygon(g);
      return valid ? interiorPoint(valid) : null;
    }
    problem('geometry-type', 'geometry', g.type, 'a Point (or a Polygon, located at an interior point)', '点（或多边形，取其内部点）');
    return null;
  };
  const originalXY = (): [number, number] => {
    const x = Number(get('lon'));
    const y = Number(get('lat'));
    if (Number.isFinite(x) && Number.isFinite(y)) return [x, y];
    const g = raw.geometry;
    if (g && g.type === 'Point') return g.coordinates as [number, number];
    return [NaN, NaN];
  };


  function buildRecords(row: RawRow): Array<RecordsByKind[RecordKind]> {
    raw = row;
    record = opened.format === 'osm' && row.featureId ? row.featureId : recordPrefix + row.row;
    idText = idColumns.length > 1 ? idColumns.map((c) => String(row.props[c] ?? '').trim()).join('/') : (text('id') ?? row.featureId ?? null);
    recordId = kind === 'units' ? text('code') : kind === 'population' ? text('zone_id') ?? text('unit_code') : idText;
    const before = problems.total;
    switch (kind) {
      case 'facilities': {
        const sourceId = idText ?? String(raw.row);
        duplicate(sourceId);
        let category = options.category ?? (options.osmTags ? options.osmTags.categoryOf(raw.props) : text('category'));
        if (category === null && options.osmTags) {
          const telling = ['amenity', 'leisure', 'shop', 'healthcare', 'highway', 'railway', 'category'].find((k) => raw.props[k] !== undefined && raw.props[k] !== null && raw.props[k] !== '');
          const key = telling ? `${telling}=${String(raw.props[telling])}` : '(no tag)';
          unmapped[key] = (unmapped[key] ?? 0) + 1;
          return [];
        }
        if (category !== null && options.categoryMap && options.categoryMap[category] !== undefined) category = options.categoryMap[category];
        if (category === null) problem('missing-value', 'category', null, 'a facility category', '设施类别');
        else if (!catalogue.byId.has(category)) problem('unknown-category', 'category', category, `a category id of ${basename(catalogue.file)} (e.g. ${[...catalogue.byId.keys()].slice(0, 4).join(', ')}, …) or a value mapped with --category-map`, `${basename(catalogue.file)} 中的类别编号（如 ${[...catalogue.byId.keys()].slice(0, 4).join('、')} 等），或用 --category-map 映射的取值`);
        const statusText = text('status');
        let status: FacilityStatus = options.defaultStatus ?? 'existing';
        if (statusText !== null) {
          const s = STATUS_WORDS[statusText.toLowerCase()];
          if (s) status = s;
          else problem('unknown-status', 'status', statusText, `one of ${FACILITY_STATUSES.join(', ')} (or 现状, 在建, 规划, 关闭)`, `${FACILITY_STATUSES.join('、')} 之一（或 现状、在建、规划、关闭）`);
        }
        const capacity = number('capacity', { min: 0 });
        const buildingAreaM2 = number('building_area_m2', { min: 0 });
        const landAreaM2 = number('land_area_m2', { min: 0 });
        const openingYear = number('opening_year', { min: 1800, max: 2100, integer: true });
        const unitCode = unitRef('unit_code');
        const g = geometryOf();
        if (g === null) problem('missing-value', 'lon/lat', null, 'coordinates', '坐标');
        const p = g && g !== 'bad' ? pointOf(g) : null;
        if (problems.total > before || !p || category === null) return [];
        const [ox, oy] = originalXY();
        const r: FacilityRecord = {
          source, sourceId, sourceRow: raw.row, category, name: text('name'), lon: p[0], lat: p[1], capacity,
          capacityUnit: text('capacity_unit') ?? catalogue.byId.get(category)?.capacityUnit ?? null, buildingAreaM2, landAreaM2, status, openingYear,
          operator: text('operator'), unitCode, originalCrs: crs, originalX: Number.isFinite(ox) ? ox : p[0], originalY: Number.isFinite(oy) ? oy : p[1],
        };
        return [r];
      }
      case 'sites': {
        const sourceId = idText ?? String(raw.row);
        duplicate(sourceId);
        const reuseText = text('reuse');
        const reuseKinds: ReuseKind[] = [];
        for (const word of (reuseText ?? '').split(/[;,，、\s]+/).filter(Boolean)) {
          const k = REUSE_WORDS[word.toLowerCase()];
          if (k) {
            if (!reuseKinds.includes(k)) reuseKinds.push(k);
          } else problem('unknown-reuse-kind', 'reuse', word, `${REUSE_KINDS.join(' / ')} (or 盘活存量 / 复合利用 / 新建)`, `${REUSE_KINDS.join(' / ')}（或 盘活存量 / 复合利用 / 新建）`);
        }
        const floorAreaM2 = number('floor_area_m2', { min: 0 });
        const landAreaM2 = number('land_area_m2', { min: 0 });
        const costCny = number('cost_cny', { min: 0 });
        const unitCode = unitRef('unit_code');
        const g = geometryOf();
        if (g === null) problem('missing-value', 'lon/lat', null, 'coordinates', '坐标');
        const p = g && g !== 'bad' ? pointOf(g) : null;
        if (problems.total > before || !p) return [];
        const [ox, oy] = originalXY();
        const r: CandidateSiteRecord = {
          source, sourceId, sourceRow: raw.row, name: text('name'), lon: p[0], lat: p[1], floorAreaM2, landAreaM2, owner: text('owner'),
          reuseKinds, costCny, unitCode, originalCrs: crs,
          originalX: Number.isFinite(ox) ? ox : p[0], originalY: Number.isFinite(oy) ? oy : p[1],
        };
        return [r];
      }
      case 'units': {
        const given = text('code');
        let code = given === null ? null : normaliseUnitCode(given);
        if (code === null) {
          problem('missing-value', 'code', null, 'an administrative code', '行政区划代码');
          return [];
        }
        if (!/^\d{6}(\d{3}(\d{3})?)?$/.test(code)) {
          problem('invalid-code', 'code', code, 'a 6-digit district, 9-digit sub-district or 12-digit committee code', '6 位区、9 位街道/镇或 12 位居委/村委代码');
          return [];
        }
        let name = text('name');
        const stored = knownUnits.get(code);
        if (options.matchNames && stored && name !== null && bareName(stored.name) !== bareName(name)) {
          const parent = code.length === 12 ? code.slice(0, 9) : code.length === 9 ? code.slice(0, 6) : '';
          const candidates = byParentName.get(`${parent}|${bareName(name)}`) ?? [];
          if (candidates.length === 1) {
            recoded.push({ record, name, givenCode: code, code: candidates[0] });
            code = candidates[0];
            recordId = code;
          }
        }
        if (options.matchNames && knownUnits.has(code)) name = knownUnits.get(code)!.name;
        duplicate(code);
        if (name === null) problem('missing-value', 'name', null, 'the unit\'s name', '单位名称');
        const levelText = text('level');
        const level: UnitLevel = (levelText as UnitLevel | null) ?? LEVEL_BY_LENGTH[code.length];
        if (!LEVEL_BY_LENGTH[code.length] || (levelText !== null && !['district', 'subdistrict', 'committee'].includes(levelText))) problem('invalid-code', 'level', levelText, 'district / subdistrict / committee', 'district（区）/ subdistrict（街道/镇）/ committee（居委/村委）');
        let parentCode = text('parent_code') === null ? null : normaliseUnitCode(text('parent_code')!);
        if (parentCode === null && PARENT_LENGTH[level] > 0) parentCode = code.slice(0, PARENT_LENGTH[level]);
        if (parentCode !== null && !knownUnits.has(parentCode)) {
          pendingUnitRefs.push({ code: parentCode, problem: { code: 'unknown-parent-code', file, record, recordId: code, field: 'parent_code', value: parentCode, expected: 'the code of a unit already imported or in this file (import districts before sub-districts)' } });
        }
        // the boundary comes from the feature's geometry (or a WKT column); the centre from centre_lon /
        // centre_lat columns when the source gives one, else a point computed inside the boundary
        const shape = geometryOf('', '');
        const columnsCentre = mapping.centre_lon !== undefined && mapping.centre_lat !== undefined && text('centre_lon') !== null ? geometryOf('centre_lon', 'centre_lat') : null;
        let boundary = null;
        let centreLon: number | null = null;
        let centreLat: number | null = null;
        let centreKind: 'given' | 'computed' | null = null;
        if (shape && shape !== 'bad') {
          if (shape.type === 'Point') {
            [centreLon, centreLat] = shape.coordinates;
            centreKind = 'given';
          } else {
            boundary = asMultiPolygon(shape);
            if (!boundary) problem('geometry-type', 'geometry', shape.type, 'a Polygon or MultiPolygon boundary, or a Point centre', '多边形边界或点状中心');
            else boundary = validPolygon(boundary) as MultiPolygon | null;
          }
        }
        if (columnsCentre && columnsCentre !== 'bad' && columnsCentre.type === 'Point') {
          [centreLon, centreLat] = columnsCentre.coordinates;
          centreKind = 'given';
        } else if (boundary && centreLon === null) {
          [centreLon, centreLat] = interiorPoint(boundary);
          centreKind = 'computed';
        }
        if (problems.total > before || name === null) return [];
        batchUnits.add(code);
        const r: AdminUnitRecord = { source, sourceId: code, sourceRow: raw.row, code, level, name, parentCode, boundary, centreLon, centreLat, centreKind };
        return [r];
      }
      case 'population': {
        const unitCode = unitRef('unit_code');
        const zoneId = text('zone_id') ?? unitCode;
        if (zoneId === null) problem('missing-value', 'zone_id', null, 'a zone id (or a unit code)', '分区编号（或单位代码）');
        const year = mapping.year === undefined && options.year !== undefined ? options.year : number('year', { min: 1950, max: 2100, integer: true, required: true });
        const g = geometryOf();
        const p = g && g !== 'bad' ? pointOf(g) : null;
        const estimated = options.estimateMethod !== undefined || /^(1|true|yes|是|估算)$/i.test(text('estimated') ?? '');
        const zoneKind = (text('zone_kind') as PopulationRecord['zoneKind'] | null) ?? (text('zone_id') === null && unitCode !== null ? 'unit' : 'address');
        const counts: Array<[string, number | null]> = [];
        if (mapping.count !== undefined) {
          const band = text('age_group') ?? 'all';
          if (!ageBandRange(band)) problem('invalid-age-group', 'age_group', band, 'an age band "a-b", "a+" or "all" (e.g. 0-2, 60-79, 80+)', '年龄组 "a-b"、"a+" 或 "all"（如 0-2、60-79、80+）');
          counts.push([band, number('count', { min: 0, required: true })]);
        }
        for (const band of wideBands) counts.push([band, number(`count:${band}`, { min: 0, required: true })]);
        if (problems.total > before || zoneId === null || year === null) return [];
        return counts.map(([band, count]) => {
          const sourceId = `${zoneId}|${year}|${band}`;
          duplicate(sourceId);
          const r: PopulationRecord = {
            source, sourceId, sourceRow: raw.row, zoneId, zoneKind, unitCode, lon: p ? p[0] : null, lat: p ? p[1] : null, year, ageGroup: band,
            count: count ?? 0, estimated, method: options.estimateMethod ?? text('method'),
          };
          return r;
        });
      }
    }
  }

  try {
    for (let next = first; !next.done; next = await iterator.next()) {
      const raw = next.value;
      rows++;
      const built = buildRecords(raw);
      for (const r of built) {
        records++;
        if (writer && (problems.total === 0 || options.skipInvalid)) {
          if ((await writer.write(r as never)) === 'duplicate') duplicateProblem(r.sourceId, r.sourceRow);
        }
      }
      if (options.onProgress && rows % 10000 === 0) options.onProgress(rows);
    }
    for (const ref of pendingUnitRefs) if (!knownUnits.has(ref.code) && !batchUnits.has(ref.code)) problems.add(ref.problem);
    if (writer) for (const d of await writer.flush()) duplicateProblem(d.sourceId, d.sourceRow);
  } catch (e) {
    await writer?.rollback();
    throw e;
  }
  let batch: BatchSummary | null = null;
  // With skipInvalid, a row-level problem only skips its row; a dangling parent code (units) still fails all.
  const fatal = options.skipInvalid ? (problems.countsByCode()['unknown-parent-code'] ?? 0) : problems.total;
  if (writer) {
    if (fatal === 0 && records > 0) batch = await writer.commit();
    else await writer.rollback();
  }
  return {
    ok: problems.total === 0,
    skipped: options.skipInvalid ? problems.total : 0,
    unmapped,
    recoded,
    repaired,
    dryRun,
    kind,
    file,
    source,
    format: opened.format,
    encoding: opened.encoding,
    delimiter: opened.delimiter,
    crs,
    mapping,
    rows,
    records,
    batch,
    problemCount: problems.total,
    problemCounts: problems.countsByCode(),
    problems: problems.list(),
  };

}

import type { RecordKind } from '../model/records.ts';

/**
 * The fields each record kind has, and the column names recognised for them without a --map (English and
 * Chinese names common in bureau exports, AMap/Baidu POI dumps and OSM extracts). A --map field=column
 * always wins. Matching ignores case, spaces, underscores and hyphens.
 */
export interface FieldSpec {
  field: string;
  required: boolean;
  synonyms: string[];
  description: string;
}

const ID = { field: 'id', required: false, synonyms: ['id', 'source_id', 'sourceid', 'fid', 'objectid', 'osm_id', '编号', '序号', 'poiid', 'uid'], description: 'the record id in its source (default: the row number)' };
const LON = { field: 'lon', required: false, synonyms: ['lon', 'lng', 'long', 'longitude', 'x', '经度', 'lng_wgs84', 'wgs84_lng', 'lon_wgs84'], description: 'longitude or x (in --crs)' };
const LAT = { field: 'lat', required: false, synonyms: ['lat', 'latitude', 'y', '纬度', 'lat_wgs84', 'wgs84_lat'], description: 'latitude or y (in --crs)' };
const WKT = { field: 'wkt', required: false, synonyms: ['wkt', 'geometry', 'geom', 'the_geom', 'shape'], description: 'WKT geometry instead of lon/lat' };
const NAME = { field: 'name', required: false, synonyms: ['name', '名称', '机构名称', '设施名称', 'title', 'name_zh'], description: 'name' };
const UNIT = { field: 'unit_code', required: false, synonyms: ['unit_code', 'unitcode', 'nbs_code', 'nbs_code_2023', 'code_2023', '区划代码', '统计用区划代码', '居委代码', '街道代码'], description: 'code of the administrative unit it belongs to' };

export const FIELDS: Record<RecordKind, FieldSpec[]> = {
  facilities: [
    ID,
    { field: 'category', required: true, synonyms: ['category', 'type', 'class', 'kind', '类别', '类型', '设施类别', 'type_en'], description: 'facility category id (see catalogue/facility-categories.json), or a source value mapped with --category-map' },
    NAME,
    LON,
    LAT,
    WKT,
    { field: 'capacity', required: false, synonyms: ['capacity', '容量', '床位', '床位数', '学位', '学位数', '托位', 'beds', 'seats', 'places'], description: 'capacity (beds, seats, places)' },
    { field: 'capacity_unit', required: false, synonyms: ['capacity_unit', 'unit', '单位'], description: 'unit of the capacity (default: the category\'s)' },
    { field: 'building_area_m2', required: false, synonyms: ['building_area_m2', 'building_area', 'floor_area', '建筑面积'], description: 'building floor area, m²' },
    { field: 'land_area_m2', required: false, synonyms: ['land_area_m2', 'land_area', 'site_area', '用地面积', '占地面积'], description: 'land area, m²' },
    { field: 'status', required: false, synonyms: ['status', '状态', '建设状态', '现状'], description: 'existing / under_construction / planned / closed (also 现状, 在建, 规划, 关闭)' },
    { field: 'opening_year', required: false, synonyms: ['opening_year', 'year_opened', 'open_year', '开办年份', '建成年份'], description: 'year it opened' },
    { field: 'operator', required: false, synonyms: ['operator', '运营单位', '举办单位', '主管单位'], description: 'operator' },
    UNIT,
  ],
  sites: [
    ID,
    NAME,
    LON,
    LAT,
    WKT,
    { field: 'floor_area_m2', required: false, synonyms: ['floor_area_m2', 'floor_area', 'building_area', '建筑面积'], description: 'floor area, m²' },
    { field: 'land_area_m2', required: false, synonyms: ['land_area_m2', 'land_area', '用地面积', '占地面积'], description: 'land area, m²' },
    { field: 'owner', required: false, synonyms: ['owner', '产权单位', '权属', '权属单位'], description: 'owner' },
    { field: 'reuse', required: false, synonyms: ['reuse', 'reuse_kinds', 'method', '利用方式', '实施方式'], description: 'allowed reuse: stock / mixed / new, several separated by ; or , (also 盘活存量, 复合利用, 新建)' },
    { field: 'cost_cny', required: false, synonyms: ['cost_cny', 'cost', '投资', '估算投资', '造价'], description: 'cost estimate, CNY' },
    UNIT,
  ],
  units: [
    { field: 'code', required: true, synonyms: ['code', '区划代码', '统计用区划代码', 'nbs_code', 'nbs_code_2023', 'code_2023', 'adcode'], description: '6-digit district, 9-digit sub-district or 12-digit committee code' },
    { field: 'name', required: true, synonyms: ['name', '名称', 'name_zh'], description: 'name' },
    { field: 'level', required: false, synonyms: ['level', '级别', '层级'], description: 'district / subdistrict / committee (default: from the code length)' },
    { field: 'parent_code', required: false, synonyms: ['parent_code', 'parent', 'streetcode', 'street_code', 'areacode', 'area_code', '上级代码'], description: 'code of the parent unit (default: from the code\'s prefix)' },
    { field: 'centre_lon', required: false, synonyms: ['centre_lon', 'center_lon', 'lon', 'lng', '经度'], description: 'service centre longitude' },
    { field: 'centre_lat', required: false, synonyms: ['centre_lat', 'center_lat', 'lat', '纬度'], description: 'service centre latitude' },
    WKT,
  ],
  population: [
    { field: 'zone_id', required: true, synonyms: ['zone_id', 'zone', 'id', 'building_id', 'grid_id', 'address', '编号'], description: 'the zone (unit, building, grid cell, address) the count is for' },
    { field: 'zone_kind', required: false, synonyms: ['zone_kind', 'zone_type'], description: 'unit / building / grid / address (default: unit when unit_code names the zone, else address)' },
    UNIT,
    LON,
    LAT,
    WKT,
    { field: 'year', required: true, synonyms: ['year', '年份', '统计年份'], description: 'year of the count' },
    { field: 'age_group', required: false, synonyms: ['age_group', 'age', 'age_band', '年龄组', '年龄段'], description: 'age band "a-b", "a+" or "all" (long format)' },
    { field: 'count', required: false, synonyms: ['count', 'population', 'pop', 'residents', '人口', '常住人口', '人数'], description: 'residents (long format); wide tables map one column per band: --map count:60-79=col' },
    { field: 'estimated', required: false, synonyms: ['estimated', 'is_estimate', '估算'], description: 'true when the count is an estimate' },
    { field: 'method', required: false, synonyms: ['method', 'estimation_method', '方法'], description: 'how an estimate was made' },
  ],
};

const norm = (s: string) => s.toLowerCase().replace(/[\s_\-]/g, '');

/** field → column: explicit --map entries first, then the first column matching a synonym. */
export function resolveMapping(kind: RecordKind, columns: string[], explicit: Record<string, string>): Record<string, string> {
  const mapping: Record<string, string> = {};
  const byNorm = new Map(columns.map((c) => [norm(c), c]));
  for (const spec of FIELDS[kind]) {
    if (explicit[spec.field] !== undefined) {
      mapping[spec.field] = explicit[spec.field];
      continue;
    }
    for (const syn of spec.synonyms) {
      const col = byNorm.get(norm(syn));
      if (col !== undefined && !Object.values(mapping).includes(col)) {
        mapping[spec.field] = col;
        break;
      }
    }
  }
  // wide population bands (count:<band>=column) and anything else given explicitly
  for (const [k, v] of Object.entries(explicit)) if (!(k in mapping)) mapping[k] = v;
  return mapping;
}

import type { MultiPolygon } from 'geojson';

/**
 * The plan's data, as records the importers produce and the store keeps. Every record carries the source
 * it came from and its id there (`sourceId`), so a number in a report traces back to the file and row; the
 * store adds the import batch. Coordinates are WGS84 degrees; the original CRS and coordinates are kept.
 */
export const RECORD_KINDS = ['units', 'facilities', 'sites', 'population'] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

export const UNIT_LEVELS = ['district', 'subdistrict', 'committee'] as const;
export type UnitLevel = (typeof UNIT_LEVELS)[number];

/** Digits of a unit's code at each level (national statistical codes; 12-digit padded forms are trimmed on import). */
export const UNIT_CODE_LENGTH: Record<UnitLevel, number> = { district: 6, subdistrict: 9, committee: 12 };

export const FACILITY_STATUSES = ['existing', 'under_construction', 'planned', 'closed'] as const;
export type FacilityStatus = (typeof FACILITY_STATUSES)[number];

/** Pudong's three project kinds: 盘活存量 stock revitalisation, 复合利用 composite use, 规划完善 new build. */
export const REUSE_KINDS = ['stock', 'mixed', 'new'] as const;
export type ReuseKind = (typeof REUSE_KINDS)[number];

/**
 * The age bands the standards ask about (childcare 0-2, kindergarten 3-5, primary 6-11, middle 12-14,
 * working age 15-59, elderly 60-79 and 80+). Sources keep their own bands ("0-14", "65+", "all"): a band is
 * stored as given and later stages map the ages a rule needs onto stored bands by overlap, labelling any
 * split as an estimate.
 */
export const STANDARD_AGE_BANDS = ['0-2', '3-5', '6-11', '12-14', '15-59', '60-79', '80+'] as const;

/** An age band label: "a-b" (inclusive years), "a+" or "all". */
export type AgeGroup = string;
export const AGE_BAND_PATTERN = /^(\d{1,3})-(\d{1,3})$|^(\d{1,3})\+$|^all$/;

/** [minAge, maxAge] in whole years of an age band label (maxAge Infinity for "a+" and "all"); null if malformed. */
export function ageBandRange(label: string): [number, number] | null {
  const m = AGE_BAND_PATTERN.exec(label);
  if (!m) return null;
  if (label === 'all') return [0, Infinity];
  if (m[3] !== undefined) return [Number(m[3]), Infinity];
  const a = Number(m[1]);
  const b = Number(m[2]);
  return a <= b ? [a, b] : null;
}

export interface Provenance {
  /** Source name (e.g. "osm-2026-05", "民政局 2025 list"); with sourceId the record's identity. */
  source: string;
  sourceId: string;
  /** 1-based row or feature number in the imported file. */
  sourceRow: number;
}

export interface AdminUnitRecord extends Provenance {
  code: string;
  level: UnitLevel;
  name: string;
  parentCode: string | null;
  boundary: MultiPolygon | null;
  centreLon: number | null;
  centreLat: number | null;
  /** 'given' (a committee's service centre from the source) or 'computed' (a point inside the boundary). */
  centreKind: 'given' | 'computed' | null;
}

export interface FacilityRecord extends Provenance {
  category: string;
  name: string | null;
  lon: number;
  lat: number;
  capacity: number | null;
  capacityUnit: string | null;
  buildingAreaM2: number | null;
  landAreaM2: number | null;
  status: FacilityStatus;
  openingYear: number | null;
  operator: string | null;
  unitCode: string | null;
  originalCrs: string;
  originalX: number;
  originalY: number;
}

export interface CandidateSiteRecord extends Provenance {
  name: string | null;
  lon: number;
  lat: number;
  floorAreaM2: number | null;
  landAreaM2: number | null;
  owner: string | null;
  /** Which kinds of reuse the site allows (stock / mixed / new); empty when the source does not say. */
  reuseKinds: ReuseKind[];
  costCny: number | null;
  unitCode: string | null;
  originalCrs: string;
  originalX: number;
  originalY: number;
}

/** Residents of one zone (a unit, a building, a grid cell, a residential compound) in one age group. */
export interface PopulationRecord extends Provenance {
  /** The zone's id within the source (sourceId identifies zone + age group). */
  zoneId: string;
  zoneKind: 'unit' | 'building' | 'grid' | 'address';
  unitCode: string | null;
  lon: number | null;
  lat: number | null;
  year: number;
  ageGroup: AgeGroup;
  count: number;
  /** True when the number is derived (disaggregated, modelled), not counted: reports label it an estimate. */
  estimated: boolean;
  method: string | null;
}

export type AnyRecord = AdminUnitRecord | FacilityRecord | CandidateSiteRecord | PopulationRecord;

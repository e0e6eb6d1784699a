import type { MultiPolygon } from 'geojson';
import type { Gap, RuleResult } from '../analysis/assess.ts';
import type { UnitLevel } from '../standards/schema.ts';

/**
 * Everything the HTML report shows, gathered once by the assessment run (src/cli/assess.ts) so the report
 * renders from data alone (no store, no graph): an overview and one page per sub-district (一街镇一策).
 */
export interface ReportData {
  title: string;
  /** ISO time of the run. */
  generatedAt: string;
  /** Where the project is (file path or URL without password). */
  project: string;
  inputs: {
    catalogueVersion: string;
    catalogueSha256: string;
    graph: { file: string; modes: string[]; nodes: number; attribution: string };
    /** Data batches the numbers come from. */
    batches: Array<{ id: number; kind: string; source: string; file: string; importedAt: string; attribution: string | null; note: string | null }>;
  };
  /** What the reader must know about the data (OSM under-mapping, estimated population, units without boundaries …), one sentence each. */
  caveats: Array<{ en: string; zh: string }>;
  /** Attribution lines to print on every page (e.g. "© OpenStreetMap contributors, ODbL 1.0"). */
  attribution: string[];
  rules: ReportRule[];
  units: ReportUnit[];
  results: RuleResult[];
  /** Gaps with their homes trimmed (the largest unserved homes first). */
  gaps: Gap[];
  /** Residents' nearest-facility times per unit and reach field: resident counts per whole minute 0 … 29, and 30+ (index 30). */
  nearestTimes: Array<{ unitCode: string; field: string; label: { en: string; zh: string }; residentsByMinute: number[] }>;
  skipped: Array<{ ruleId: string; reason: string }>;
  /** Units the data leaves partly unassessable (no residents; no street near any home). */
  unitIssues: Array<{ unitCode: string; unitName: string; level: string; kind: string; en: string; zh: string }>;
}

export interface ReportRule {
  id: string;
  title: { zh: string; en: string };
  kind: string;
  domain: string;
  categories: string[];
  unitLevel: UnitLevel;
  /** The norm in words, e.g. "≥ 100 % of residents aged 3-5 within 4 min walk (300 m)". */
  norm: { en: string; zh: string };
  verification: string;
  mandatory: boolean | string;
  citation: { document: string; clause: string; note?: string };
}

export interface ReportUnit {
  code: string;
  level: UnitLevel;
  name: string;
  parentCode: string | null;
  boundary: MultiPolygon | null;
  /** Residents (all ages) the assessment counted in the unit. */
  residents: number;
}

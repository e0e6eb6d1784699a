import type { RuleResult, Verdict } from '../analysis/assess.ts';
import type { UnitLevel } from '../standards/schema.ts';
import type { ReportRule } from './model.ts';

/**
 * Text helpers of the HTML report: escaping (every string that comes from data goes through {@link esc}),
 * bilingual labels, and numbers formatted per rule kind.
 */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escape text for HTML element content and attribute values (double- or single-quoted). */
export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** JSON for a `<script type="application/json">` block: `<`, `>`, `&` and the JS line separators escaped. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Chinese first, English beneath (hidden by the language toggle as chosen). Both escaped. */
export function bi(zh: string, en: string): string {
  return `<span class="zh">${esc(zh)}</span><span class="en">${esc(en)}</span>`;
}

/** A file name for a unit's page: the code with anything but letters, digits, `_` and `-` replaced. */
export function subdistrictFile(code: string): string {
  return `subdistrict-${code.replace(/[^A-Za-z0-9_-]/g, '_')}.html`;
}

const intFmt = new Intl.NumberFormat('en', { maximumFractionDigits: 0 });
const dec1 = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });
const dec2 = new Intl.NumberFormat('en', { maximumFractionDigits: 2 });

/** Whole number with thousands separators ("12,345"); "—" for null/NaN. */
export function fmtInt(x: number | null | undefined): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '—';
  if (!Number.isFinite(x)) return '∞';
  return intFmt.format(x);
}

/** Residents, which may be fractional after age apportioning: whole above 10, one decimal below. */
export function fmtPeople(x: number): string {
  if (!Number.isFinite(x)) return '—';
  return Math.abs(x) >= 10 || Number.isInteger(x) ? intFmt.format(x) : dec1.format(x);
}

/** A share 0–1 as a percentage with one decimal ("87.5%"), whole when exact ("100%"). */
export function fmtPct(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  const p = x * 100;
  return `${Math.abs(p - Math.round(p)) < 0.05 ? intFmt.format(p) : dec1.format(p)}%`;
}

export function fmtNum(x: number, digits = 2): string {
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '—';
  return digits === 1 ? dec1.format(x) : digits === 0 ? intFmt.format(x) : dec2.format(x);
}

/** Comparator a rule's threshold is read with (the threshold is the value that still passes). */
export function comparator(kind: string): '≥' | '≤' {
  return kind === 'population_per_facility' ? '≤' : '≥';
}

/** Whether a kind's value is a share 0–1. */
export function isShareKind(kind: string): boolean {
  return kind === 'reach' || kind === 'rail_bus_share';
}

/**
 * A measured value (or threshold) in the rule's terms, as HTML: shares as %, counts whole, residents per
 * facility, m² per 1,000 residents, m² per resident, places per 1,000 target residents.
 * The level summary of a count rule (unit `*`) is a share of units.
 */
export function fmtValue(kind: string, x: number | null | undefined, unitCode = ''): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '<span class="muted">—</span>';
  if (unitCode === '*' || isShareKind(kind)) return esc(fmtPct(x));
  switch (kind) {
    case 'count_per_unit':
      return `${esc(fmtInt(x))}<span class="u"> 处</span>`;
    case 'population_per_facility':
      return Number.isFinite(x) ? `${esc(fmtInt(x))}<span class="u"> 人/处</span>` : `∞<span class="u"> 无设施 no facility</span>`;
    case 'area_per_1000':
      return `${esc(fmtNum(x, 1))}<span class="u"> m²/千人</span>`;
    case 'per_capita_area':
      return `${esc(fmtNum(x, 2))}<span class="u"> m²/人</span>`;
    case 'capacity_ratio':
      return `${esc(fmtNum(x * 1000, 1))}<span class="u"> /千人</span>`;
    default:
      return esc(fmtNum(x, 2));
  }
}

/** The unit of a kind's values in words (zh, en), for table captions and tooltips. */
export function valueUnit(kind: string): { zh: string; en: string } {
  switch (kind) {
    case 'reach':
      return { zh: '目标居民覆盖比例', en: 'share of target residents within reach' };
    case 'rail_bus_share':
      return { zh: '有公交接驳的站点比例', en: 'share of stations with a bus stop' };
    case 'count_per_unit':
      return { zh: '设施数量（处）', en: 'facilities in the unit' };
    case 'population_per_facility':
      return { zh: '每处设施服务人口', en: 'residents per facility' };
    case 'area_per_1000':
      return { zh: '每千人面积（m²）', en: 'm² per 1,000 residents' };
    case 'per_capita_area':
      return { zh: '人均面积（m²）', en: 'm² per resident' };
    case 'capacity_ratio':
      return { zh: '每千名目标居民床位/学位', en: 'places per 1,000 target residents' };
    default:
      return { zh: kind, en: kind };
  }
}

export const VERDICT_LABEL: Record<Verdict, { zh: string; en: string; mark: string }> = {
  pass: { zh: '达标', en: 'pass', mark: '✓' },
  fail: { zh: '未达标', en: 'fail', mark: '✗' },
  'not-applicable': { zh: '不适用', en: 'n/a', mark: '–' },
};

export function verdictChip(v: Verdict): string {
  const l = VERDICT_LABEL[v];
  return `<span class="chip v-${v}"><span aria-hidden="true">${l.mark}</span> ${esc(l.zh)} <span class="chip-en">${esc(l.en)}</span></span>`;
}

export const LEVEL_LABEL: Record<UnitLevel, { zh: string; en: string }> = {
  district: { zh: '区', en: 'district' },
  subdistrict: { zh: '街镇', en: 'sub-district' },
  committee: { zh: '居村委', en: 'committee' },
};

export const KIND_LABEL: Record<string, { zh: string; en: string }> = {
  reach: { zh: '可达覆盖', en: 'reach' },
  count_per_unit: { zh: '设施数量', en: 'count' },
  population_per_facility: { zh: '服务人口', en: 'residents per facility' },
  area_per_1000: { zh: '千人指标', en: 'area per 1,000' },
  per_capita_area: { zh: '人均面积', en: 'area per resident' },
  capacity_ratio: { zh: '床位/学位', en: 'capacity ratio' },
  rail_bus_share: { zh: '轨交接驳', en: 'rail–bus link' },
};

export const DOMAIN_LABEL: Record<string, { zh: string; en: string }> = {
  education: { zh: '教育', en: 'Education' },
  health: { zh: '医疗卫生', en: 'Health' },
  elderly: { zh: '养老', en: 'Elderly care' },
  culture: { zh: '文化', en: 'Culture' },
  sports: { zh: '体育', en: 'Sports' },
  green_space: { zh: '绿地', en: 'Green space' },
  transport: { zh: '交通', en: 'Transport' },
  childcare: { zh: '托育', en: 'Childcare' },
  commerce: { zh: '商业', en: 'Commerce' },
  admin_services: { zh: '社区服务', en: 'Community services' },
};

export function label(map: Record<string, { zh: string; en: string }>, key: string): { zh: string; en: string } {
  return map[key] ?? { zh: key, en: key };
}

/** Rules whose figure must be checked before compliance use get a visible badge. */
export function isUnverified(rule: Pick<ReportRule, 'verification'>): boolean {
  return rule.verification === 'unverified' || rule.verification === 'secondary (low authority)';
}

export function unverifiedBadge(rule: Pick<ReportRule, 'verification'>): string {
  if (!isUnverified(rule)) return '';
  const low = rule.verification === 'secondary (low authority)';
  const tip = low ? 'Secondary source of low authority: check the figure before compliance use' : 'Figure not verified against the source: check before compliance use';
  return ` <span class="badge badge-warn" title="${esc(tip)}">待核实 unverified${low ? ' · 低权威 low authority' : ''}</span>`;
}

export function mandatoryBadge(m: boolean | string): string {
  if (m === true) return '<span class="badge badge-req" title="required (应)">应 required</span>';
  if (m === false) return '<span class="badge badge-rec" title="recommended (宜)">宜 recommended</span>';
  return `<span class="badge badge-rec">${esc(m)}</span>`;
}

/** An ISO time as "2025-05-01 14:03" in Shanghai time (UTC+8), or the text itself when it is not a date. */
export function fmtTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(d);
  const p = (t: string) => parts.find((x) => x.type === t)?.value ?? '';
  return `${p('year')}-${p('month')}-${p('day')} ${p('hour')}:${p('minute')} (UTC+8)`;
}

/** Nearest time of a home in minutes, or "> budget" when beyond the field (Infinity, or null after JSON). */
export function fmtMinutes(timeS: number | null | undefined): string {
  if (timeS === null || timeS === undefined || !Number.isFinite(timeS)) return '> 预算 budget';
  return `${dec1.format(timeS / 60)} min`;
}

/** Verdict counts of a list of results. */
export function countVerdicts(results: Iterable<RuleResult>): Record<Verdict, number> {
  const c: Record<Verdict, number> = { pass: 0, fail: 0, 'not-applicable': 0 };
  for (const r of results) c[r.verdict]++;
  return c;
}

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Gap, RuleResult } from '../analysis/assess.ts';
import { DOMAINS } from '../standards/schema.ts';
import type { ReportData, ReportRule, ReportUnit } from './model.ts';
import {
  bi, comparator, countVerdicts, DOMAIN_LABEL, esc, fmtInt, fmtMinutes, fmtPct, fmtPeople, fmtTime, fmtValue, isShareKind, KIND_LABEL, label, LEVEL_LABEL,
  mandatoryBadge, scriptJson, subdistrictFile, unverifiedBadge, valueUnit, VERDICT_LABEL, verdictChip,
} from './format.ts';
import { CSS, SCRIPT } from './style.ts';
import { mapSvg, minuteChart, minuteShares, NO_DATA_FILL, SHARE_BREAKS, SHARE_COLORS, shareBar, shareClassLabels, shareColor, type MapPoint, type MapShape } from './svg.ts';

/**
 * The assessment's HTML report: `index.html` (overview: inputs, caveats, a choropleth of sub-districts, rules ×
 * verdicts, skipped rules, links) and one `subdistrict-<code>.html` per sub-district with results (一街镇一策:
 * its map with committees, rule table, committee matrix, nearest-time charts, gap list).
 *
 * Pages are self-contained (inline CSS, inline SVG, one small inline script for the language toggle, the map
 * selector and tooltips): they open offline and print on A4. Every string from data is escaped.
 *
 * @example
 *   const { files } = writeHtmlReport(data, 'out/report'); // ['out/report/index.html', 'out/report/subdistrict-310101002.html', …]
 */
export function writeHtmlReport(data: ReportData, outDir: string): { files: string[] } {
  const pages = renderHtmlReport(data);
  mkdirSync(outDir, { recursive: true });
  const files: string[] = [];
  for (const [name, html] of pages) {
    const file = join(outDir, name);
    writeFileSync(file, html);
    files.push(file);
  }
  return { files };
}

/** The report's pages in memory: file name → HTML (index.html first). */
export function renderHtmlReport(data: ReportData): Map<string, string> {
  const ctx = new Context(data);
  const pages = new Map<string, string>();
  pages.set('index.html', overviewPage(ctx));
  for (const code of ctx.subdistricts) pages.set(subdistrictFile(code), subdistrictPage(ctx, code));
  return pages;
}

// ---------------------------------------------------------------------------------------------------------------
// Derived views of the data

class Context {
  readonly data: ReportData;
  readonly rules: ReportRule[];
  readonly ruleById: Map<string, ReportRule>;
  readonly unitByCode: Map<string, ReportUnit>;
  /** Sub-district codes with results (their own or their committees'), sorted. */
  readonly subdistricts: string[];
  /** Results per sub-district: its own and its committees'. */
  readonly resultsIn = new Map<string, RuleResult[]>();
  /** Results per unit code (as reported: the level summary under `*`). */
  readonly resultsOf = new Map<string, RuleResult[]>();
  readonly gapsIn = new Map<string, Gap[]>();
  readonly estimated: boolean;
  readonly attribution: string[];
  /** Reach rules with results, for the map selectors. */
  readonly reachRules: ReportRule[];

  constructor(data: ReportData) {
    this.data = data;
    this.unitByCode = new Map(data.units.map((u) => [u.code, u]));
    // rules in the data's order; rules that only appear in results get a placeholder
    this.rules = [...data.rules];
    this.ruleById = new Map(this.rules.map((r) => [r.id, r]));
    for (const r of data.results) {
      if (this.ruleById.has(r.ruleId)) continue;
      const placeholder: ReportRule = { id: r.ruleId, title: { zh: r.ruleId, en: r.ruleId }, kind: r.kind, domain: '', categories: [], unitLevel: r.level, norm: { zh: '', en: '' }, verification: 'unverified', mandatory: '', citation: { document: '—', clause: '—' } };
      this.rules.push(placeholder);
      this.ruleById.set(r.ruleId, placeholder);
    }
    for (const r of data.results) {
      let own = this.resultsOf.get(r.unitCode);
      if (!own) this.resultsOf.set(r.unitCode, (own = []));
      own.push(r);
      const sd = this.subdistrictOf(r.unitCode, r.level);
      if (sd === null) continue;
      let a = this.resultsIn.get(sd);
      if (!a) this.resultsIn.set(sd, (a = []));
      a.push(r);
    }
    this.subdistricts = [...this.resultsIn.keys()].sort();
    for (const g of data.gaps) {
      const sd = this.subdistrictOf(g.unitCode, g.level);
      if (sd === null) continue;
      let a = this.gapsIn.get(sd);
      if (!a) this.gapsIn.set(sd, (a = []));
      a.push(g);
    }
    for (const a of this.gapsIn.values()) a.sort((p, q) => q.unservedResidents - p.unservedResidents || q.shortfall - p.shortfall);
    this.estimated = data.results.some((r) => r.estimatedPopulation);
    const lines = [...data.attribution, data.inputs.graph.attribution, ...data.inputs.batches.map((b) => b.attribution ?? '')];
    this.attribution = [...new Set(lines.map((l) => l.trim()).filter((l) => l.length > 0))];
    const withResults = new Set(data.results.map((r) => r.ruleId));
    this.reachRules = this.rules.filter((r) => r.kind === 'reach' && withResults.has(r.id));
  }

  /** The sub-district a unit belongs to (itself, a committee's parent), or null (districts, the level summary `*`). */
  subdistrictOf(code: string, level: string): string | null {
    if (code === '*') return null;
    if (level === 'subdistrict') return code;
    if (level === 'committee') {
      const parent = this.unitByCode.get(code)?.parentCode;
      return parent ?? (code.length >= 9 ? code.slice(0, 9) : null);
    }
    return null;
  }

  unitName(code: string): string {
    const u = this.unitByCode.get(code);
    if (u) return u.name;
    return this.resultsOf.get(code)?.[0]?.unitName ?? this.data.gaps.find((g) => g.unitCode === code)?.unitName ?? code;
  }

  districtOf(sd: string): ReportUnit | null {
    const parent = this.unitByCode.get(sd)?.parentCode ?? sd.slice(0, 6);
    const u = this.unitByCode.get(parent);
    return u && u.level === 'district' ? u : null;
  }

  /** Committees of a sub-district: units whose parent it is, and committees with results in it. */
  committeesOf(sd: string): string[] {
    const codes = new Set<string>();
    for (const u of this.data.units) if (u.level === 'committee' && (u.parentCode === sd || (u.parentCode === null && u.code.startsWith(sd)))) codes.add(u.code);
    for (const r of this.resultsIn.get(sd) ?? []) if (r.level === 'committee') codes.add(r.unitCode);
    return [...codes].sort();
  }

  /** Share of results that pass (n/a left out), or null when none apply. */
  static passShare(results: RuleResult[]): { share: number | null; pass: number; n: number } {
    const c = countVerdicts(results);
    const n = c.pass + c.fail;
    return { share: n > 0 ? c.pass / n : null, pass: c.pass, n };
  }

  /** A reach rule's share for a sub-district: its own value, else its committees' (weighted by target residents), else its district's. */
  reachValueFor(ruleId: string, sd: string): number | null {
    const mine = (this.resultsIn.get(sd) ?? []).filter((r) => r.ruleId === ruleId && r.verdict !== 'not-applicable' && r.value !== null);
    const own = mine.find((r) => r.level === 'subdistrict');
    if (own) return own.value;
    if (mine.length > 0) return weightedShare(mine);
    const district = this.districtOf(sd)?.code ?? sd.slice(0, 6);
    const d = (this.resultsOf.get(district) ?? []).find((r) => r.ruleId === ruleId && r.level === 'district' && r.value !== null);
    return d ? d.value : null;
  }
}

/** Served share over several units: (target − unserved) / target summed, or the mean value when no targets are known. */
function weightedShare(results: RuleResult[]): number | null {
  const vals = results.filter((r) => r.value !== null && Number.isFinite(r.value));
  if (vals.length === 0) return null;
  const target = vals.reduce((a, r) => a + r.targetResidents, 0);
  if (target > 0) return vals.reduce((a, r) => a + r.value! * r.targetResidents, 0) / target;
  return vals.reduce((a, r) => a + r.value!, 0) / vals.length;
}

// ---------------------------------------------------------------------------------------------------------------
// Page frame

function page(ctx: Context, opts: { title: string; header: string; body: string }): string {
  return `<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<meta name="generator" content="lifecircle">
<link rel="icon" href="data:,">
<title>${esc(opts.title)}</title>
<style>${CSS}</style>
</head>
<body data-lang="both">
<header class="top"><div class="wrap">${opts.header}</div></header>
<main><div class="wrap">
${opts.body}
</div></main>
${footer(ctx)}
<script>${SCRIPT}</script>
</body>
</html>
`;
}

function langToggle(): string {
  return `<div class="lang" role="group" aria-label="语言 Language"><button type="button" data-lang="both" aria-pressed="true">中 / EN</button><button type="button" data-lang="zh" aria-pressed="false">中文</button><button type="button" data-lang="en" aria-pressed="false">EN</button></div>`;
}

function footer(ctx: Context): string {
  const lines = ctx.attribution.map((l) => `<p class="attr">${esc(l)}</p>`).join('');
  const est = ctx.estimated
    ? `<p class="est"><b>估算人口</b>：居民数为按建筑或地址分配的估算值，非普查实数。 <span class="en">Estimated population: resident counts are estimates disaggregated to buildings or addresses, not census counts.</span></p>`
    : '';
  return `<footer><div class="wrap">
<p class="attr"><b>数据署名 Attribution</b></p>${lines}${est}
<p class="gen">lifecircle · ${esc(ctx.data.title)} · ${esc(fmtTime(ctx.data.generatedAt))} · 目录 catalogue ${esc(ctx.data.inputs.catalogueVersion)} (${esc(ctx.data.inputs.catalogueSha256.slice(0, 12))})</p>
</div></footer>`;
}

function h2(zh: string, en: string): string {
  return `<h2><span class="zh">${esc(zh)}</span><span class="en">${esc(en)}</span></h2>`;
}

function kpi(value: string, zh: string, en: string, cls = ''): string {
  return `<div class="kpi${cls ? ` ${cls}` : ''}"><div class="v">${value}</div><div class="k">${bi(zh, en)}</div></div>`;
}

function ruleCell(rule: ReportRule, withId = true): string {
  return `<div class="rule-title">${bi(rule.title.zh, rule.title.en)}</div>${withId ? `<div class="rule-id mono">${esc(rule.id)}</div>` : ''}<div>${mandatoryBadge(rule.mandatory)}${unverifiedBadge(rule)}</div>`;
}

function citeCell(rule: ReportRule): string {
  return `<div class="cite">${esc(rule.citation.document)}<div class="clause">${esc(rule.citation.clause)}</div></div>`;
}

function normCell(rule: ReportRule): string {
  return `<div class="norm">${bi(rule.norm.zh, rule.norm.en)}</div>`;
}

function legendHtml(title: string, withHomes = false): string {
  const labels = shareClassLabels();
  const sw = SHARE_COLORS.map((c, i) => `<span class="sw"><i style="background:${c}"></i>${esc(labels[i])}</span>`).join('');
  return `<div class="legend"><span class="title">${esc(title)}</span>${sw}<span class="sw"><i class="hatch"></i>无数据 no data</span>${withHomes ? '<span class="sw"><i class="dot"></i>未覆盖住宅 unserved homes</span>' : ''}</div>`;
}

interface MapMetric {
  id: string;
  option: string;
  legend: string;
}

/** The JSON the inline script recolours a map from. */
function mapJson(metrics: MapMetric[], units: Record<string, { name: string; values: Record<string, number | null>; lines: Record<string, string> }>): string {
  return `<script type="application/json">${scriptJson({
    colors: SHARE_COLORS,
    breaks: SHARE_BREAKS,
    noData: NO_DATA_FILL,
    metrics: Object.fromEntries(metrics.map((m) => [m.id, { legend: m.legend }])),
    units,
  })}</script>`;
}

function metricSelect(id: string, metrics: MapMetric[]): string {
  if (metrics.length < 2) return '';
  return `<div class="map-controls"><label for="${esc(id)}">着色指标 Colour by</label><select id="${esc(id)}">${metrics.map((m) => `<option value="${esc(m.id)}">${esc(m.option)}</option>`).join('')}</select></div>`;
}

// ---------------------------------------------------------------------------------------------------------------
// Overview

function overviewPage(ctx: Context): string {
  const { data } = ctx;
  const unitResults = data.results.filter((r) => r.unitCode !== '*');
  const all = countVerdicts(unitResults);
  const committees = new Set(unitResults.filter((r) => r.level === 'committee').map((r) => r.unitCode));
  const residents = ctx.subdistricts.reduce((a, sd) => a + (ctx.unitByCode.get(sd)?.residents ?? 0), 0);
  const evaluated = new Set(data.results.map((r) => r.ruleId));
  const sha = data.inputs.catalogueSha256;

  const header = `<div class="toolbar"><div>
<div class="crumbs">15分钟社区生活圈 · 公共服务评估报告 <span class="en" style="display:inline">15-minute community life circle · service assessment</span></div>
<h1>${esc(data.title)}<span class="en">Overview of the assessment</span></h1>
</div>${langToggle()}</div>
<div class="meta"><span>生成时间 Generated <b>${esc(fmtTime(data.generatedAt))}</b></span><span>项目 Project <code>${esc(data.project)}</code></span><span>规则目录 Catalogue <b>${esc(data.inputs.catalogueVersion)}</b> · sha256 <code title="${esc(sha)}">${esc(sha.slice(0, 12))}</code></span><span>路网 Graph <code>${esc(data.inputs.graph.file)}</code> (${esc(data.inputs.graph.modes.join(', '))})</span></div>`;

  const kpis = `<div class="kpis">
${kpi(fmtInt(ctx.subdistricts.length), '街镇', 'sub-districts assessed')}
${kpi(fmtInt(committees.size), '居村委', 'committees with results')}
${kpi(esc(fmtInt(residents)), ctx.estimated ? '常住居民（估算）' : '常住居民', ctx.estimated ? 'residents counted (estimated)' : 'residents counted')}
${kpi(`${fmtInt(evaluated.size)} <small>/ ${fmtInt(ctx.rules.length)}</small>`, '已评估规则', 'rules evaluated')}
${kpi(fmtInt(all.pass), '达标结果', 'results passing', 'pass')}
${kpi(fmtInt(all.fail), '未达标结果', 'results failing', 'fail')}
${kpi(fmtInt(data.gaps.length), '服务缺口', 'gaps listed')}
</div>`;

  const caveats = data.caveats.length
    ? `<section class="caveats" aria-label="caveats">${h2('阅读须知', 'Read this first')}<ul>${data.caveats.map((c) => `<li><span class="zh">${esc(c.zh)}</span><span class="en">${esc(c.en)}</span></li>`).join('')}</ul></section>`
    : '';

  return page(ctx, {
    title: `${data.title} — 总览 Overview`,
    header,
    body: `${kpis}${caveats}
${overviewMap(ctx)}
${rulesTable(ctx)}
${skippedSection(ctx)}
${inputsSection(ctx)}`,
  });
}

function overviewMap(ctx: Context): string {
  const sdUnits = ctx.data.units.filter((u) => u.level === 'subdistrict');
  const withShape = sdUnits.filter((u) => u.boundary);
  const metrics: MapMetric[] = [
    { id: 'overall', option: '可达规则达标比例 · share of reach results passing', legend: '可达规则达标比例 Share of reach results passing' },
    ...ctx.reachRules.map((r) => ({ id: `rule:${r.id}`, option: `${r.title.zh} · ${r.title.en}`, legend: `${r.title.zh} — 覆盖比例 reach share` })),
  ];
  const units: Record<string, { name: string; values: Record<string, number | null>; lines: Record<string, string> }> = {};
  const overallOf = new Map<string, ReturnType<typeof Context.passShare>>();
  for (const u of sdUnits) {
    const rs = (ctx.resultsIn.get(u.code) ?? []).filter((r) => r.kind === 'reach');
    const o = Context.passShare(rs);
    overallOf.set(u.code, o);
    const values: Record<string, number | null> = { overall: o.share };
    const lines: Record<string, string> = { overall: o.n > 0 ? `${fmtPct(o.share)} — ${o.pass} / ${o.n} 项可达结果达标 reach results pass` : '无可达结果 no reach results' };
    for (const r of ctx.reachRules) {
      const v = ctx.reachValueFor(r.id, u.code);
      values[`rule:${r.id}`] = v;
      lines[`rule:${r.id}`] = v === null ? '无数据 no data' : `${fmtPct(v)} · ${r.norm.zh || r.norm.en}`;
    }
    units[u.code] = { name: u.name, values, lines };
  }
  const hasPage = new Set(ctx.subdistricts);
  const shapes: MapShape[] = withShape.map((u) => ({
    code: u.code,
    name: u.name,
    shape: u.boundary!,
    fill: shareColor(overallOf.get(u.code)?.share ?? null),
    href: hasPage.has(u.code) ? subdistrictFile(u.code) : undefined,
    title: `${u.name} — ${units[u.code].lines.overall}`,
  }));
  const map = shapes.length
    ? `<div class="mapblock">${metricSelect('metric-overview', metrics)}<div class="mapbox">${mapSvg({ id: 'map-overview', shapes, aria: '街镇达标比例地图 Map of sub-districts by share of results passing' })}<div class="tip" role="tooltip"></div></div>${legendHtml(metrics[0].legend)}${mapJson(metrics, units)}</div>`
    : `<p class="empty">无街镇边界，无法绘制地图。 No sub-district boundaries in the data: no map.</p>`;
  const noShape = sdUnits.filter((u) => !u.boundary && hasPage.has(u.code)).length;

  const rows = ctx.subdistricts
    .map((sd) => {
      const rs = ctx.resultsIn.get(sd) ?? [];
      const o = overallOf.get(sd) ?? Context.passShare(rs.filter((r) => r.kind === 'reach'));
      const fails = rs.filter((r) => r.verdict === 'fail').length;
      const u = ctx.unitByCode.get(sd);
      return `<tr><td><a href="${esc(subdistrictFile(sd))}"><b>${esc(ctx.unitName(sd))}</b></a><div class="mono muted">${esc(sd)}</div></td><td class="num">${u ? esc(fmtInt(u.residents)) : '—'}</td><td style="white-space:nowrap">${shareBar(o.share)}</td><td class="num">${fails > 0 ? `<span class="counts"><b class="f">${fmtInt(fails)}</b></span>` : '<span class="muted">0</span>'}</td><td class="num">${fmtInt((ctx.gapsIn.get(sd) ?? []).length)}</td></tr>`;
    })
    .join('');
  const list = `<div class="tablewrap sidelist"><table class="sdlist"><thead><tr><th>${bi('街镇', 'Sub-district')}</th><th class="num">${bi('居民', 'Residents')}</th><th>${bi('可达达标', 'Reach pass')}</th><th class="num">${bi('未达标', 'Fails')}</th><th class="num">${bi('缺口', 'Gaps')}</th></tr></thead><tbody>${rows || `<tr><td colspan="5" class="empty">无结果 no results</td></tr>`}</tbody></table></div>`;

  return `<section class="card">${h2('街镇地图与一街镇一策', 'Sub-districts: map and pages')}
<div class="grid2"><div>${map}${noShape > 0 ? `<p class="small muted">${fmtInt(noShape)} 个街镇无边界，仅列于右表。 ${fmtInt(noShape)} sub-district(s) without a boundary are listed only.</p>` : ''}</div><div>${list}</div></div></section>`;
}

function verdictStack(c: Record<'pass' | 'fail' | 'not-applicable', number>): string {
  const n = c.pass + c.fail + c['not-applicable'];
  if (n === 0) return '<span class="muted small">未评估 not evaluated</span>';
  const w = (x: number) => `${((x / n) * 100).toFixed(1)}%`;
  return `<div class="stack" title="pass ${c.pass} · fail ${c.fail} · n/a ${c['not-applicable']}"><span class="p" style="width:${w(c.pass)}"></span><span class="f" style="width:${w(c.fail)}"></span><span class="n" style="width:${w(c['not-applicable'])}"></span></div><div class="counts"><b class="p">✓ ${c.pass}</b> · <b class="f">✗ ${c.fail}</b> · <span>– ${c['not-applicable']}</span></div>`;
}

function rulesTable(ctx: Context): string {
  const byRule = new Map<string, RuleResult[]>();
  for (const r of ctx.data.results) {
    let a = byRule.get(r.ruleId);
    if (!a) byRule.set(r.ruleId, (a = []));
    a.push(r);
  }
  const skipped = new Set(ctx.data.skipped.map((s) => s.ruleId));
  const domains = [...DOMAINS, ...new Set(ctx.rules.map((r) => r.domain).filter((d) => !(DOMAINS as readonly string[]).includes(d)))];
  const body = domains
    .map((d) => {
      const rules = ctx.rules.filter((r) => r.domain === d);
      if (rules.length === 0) return '';
      const dl = label(DOMAIN_LABEL, d || 'other');
      const rows = rules.map((rule) => {
        const rs = byRule.get(rule.id) ?? [];
        const perUnit = rs.filter((r) => r.unitCode !== '*');
        const summary = rs.find((r) => r.unitCode === '*');
        const lv = LEVEL_LABEL[rule.unitLevel] ?? { zh: rule.unitLevel, en: rule.unitLevel };
        const kd = label(KIND_LABEL, rule.kind);
        const sum = summary ? `<div class="small" style="margin-top:6px"><span class="muted">层级汇总 level summary</span><br>${verdictChip(summary.verdict)} <span class="muted">${esc(summary.note ?? '')}${summary.value !== null ? ` (${esc(fmtPct(summary.value))}; 目标 target ${comparator(summary.kind)} ${esc(fmtPct(summary.threshold))})` : ''}</span></div>` : '';
        const skip = skipped.has(rule.id) ? `<div class="small muted" style="margin-top:3px">部分跳过 partly skipped ↓</div>` : '';
        return `<tr id="rule-${esc(rule.id)}"><td>${ruleCell(rule)}</td><td class="small">${bi(lv.zh, lv.en)}<div class="muted">${esc(kd.zh)} · ${esc(kd.en)}</div></td><td>${normCell(rule)}</td><td>${verdictStack(countVerdicts(perUnit))}${sum}${skip}</td><td>${citeCell(rule)}</td></tr>`;
      });
      return `<tr class="group"><td colspan="5"><span class="zh">${esc(dl.zh)}</span><span class="en">${esc(dl.en)}</span></td></tr>${rows.join('')}`;
    })
    .join('');
  return `<section class="card">${h2('规则与达标情况', 'Rules and verdicts across units')}
<p class="small muted" style="margin-top:-6px">每条规则在其评估层级的各单元的结果数：✓ 达标 pass · ✗ 未达标 fail · – 不适用 not applicable。标有“待核实”的规则数值未经原文核实，用于合规判断前须核对。<span class="en">Results per rule over the units of its level. Rules marked “unverified” rest on figures not checked against the source: check them before compliance use.</span></p>
<div class="tablewrap"><table class="rules"><thead><tr><th>${bi('规则', 'Rule')}</th><th>${bi('层级 · 类型', 'Level · kind')}</th><th>${bi('标准', 'Norm')}</th><th>${bi('结果', 'Verdicts')}</th><th>${bi('依据', 'Citation')}</th></tr></thead><tbody>${body}</tbody></table></div></section>`;
}

function skippedSection(ctx: Context): string {
  const items = ctx.data.skipped
    .map((s) => {
      const rule = ctx.ruleById.get(s.ruleId);
      return `<li>${rule ? `<b>${esc(rule.title.zh)}</b> <span class="muted">${esc(rule.title.en)}</span> ` : ''}<span class="mono muted">${esc(s.ruleId)}</span><div class="small">${esc(s.reason)}</div></li>`;
    })
    .join('');
  const shown = ctx.data.unitIssues.slice(0, 200);
  const units = shown.map((u) => `<li><span class="zh">${esc(u.zh)}</span><span class="en">${esc(u.en)}</span></li>`).join('');
  const more = ctx.data.unitIssues.length - shown.length;
  return `<section class="card">${h2('未评估或部分跳过的规则', 'Skipped rules')}${items ? `<ul class="plain">${items}</ul>` : '<p class="empty">无 none</p>'}${
    units ? `${h2('数据不足的单元', 'Units the data leaves short')}<ul class="plain">${units}</ul>${more > 0 ? `<p class="small muted">另有 ${more} 个 · ${more} more</p>` : ''}` : ''
  }</section>`;
}

function inputsSection(ctx: Context): string {
  const { inputs, project } = ctx.data;
  const rows = inputs.batches
    .map((b) => `<tr><td class="num">${esc(b.id)}</td><td>${esc(b.kind)}</td><td>${esc(b.source)}</td><td class="mono">${esc(b.file)}</td><td class="small">${esc(fmtTime(b.importedAt))}</td><td class="small">${esc(b.attribution ?? '—')}${b.note ? `<div class="muted">${esc(b.note)}</div>` : ''}</td></tr>`)
    .join('');
  return `<section class="card">${h2('输入数据', 'Inputs')}
<dl class="inputs">
<dt>项目 Project</dt><dd class="mono">${esc(project)}</dd>
<dt>规则目录 Catalogue</dt><dd>${esc(inputs.catalogueVersion)} · sha256 <code title="${esc(inputs.catalogueSha256)}">${esc(inputs.catalogueSha256.slice(0, 12))}…</code></dd>
<dt>路网 Graph</dt><dd><span class="mono">${esc(inputs.graph.file)}</span> · ${esc(inputs.graph.modes.join(', '))} · ${esc(fmtInt(inputs.graph.nodes))} 节点 nodes<div class="small muted">${esc(inputs.graph.attribution)}</div></dd>
</dl>
<h3>${bi('数据批次', 'Data batches')}</h3>
<div class="tablewrap"><table><thead><tr><th class="num">#</th><th>${bi('类型', 'Kind')}</th><th>${bi('来源', 'Source')}</th><th>${bi('文件', 'File')}</th><th>${bi('导入时间', 'Imported')}</th><th>${bi('署名', 'Attribution')}</th></tr></thead><tbody>${rows || '<tr><td colspan="6" class="empty">无 none</td></tr>'}</tbody></table></div></section>`;
}

// ---------------------------------------------------------------------------------------------------------------
// Sub-district page

function subdistrictPage(ctx: Context, sd: string): string {
  const { data } = ctx;
  const unit = ctx.unitByCode.get(sd);
  const name = ctx.unitName(sd);
  const district = ctx.districtOf(sd);
  const results = ctx.resultsIn.get(sd) ?? [];
  const own = results.filter((r) => r.unitCode === sd);
  const committeeResults = results.filter((r) => r.level === 'committee');
  const gaps = ctx.gapsIn.get(sd) ?? [];
  const committees = ctx.committeesOf(sd);
  const ownC = countVerdicts(own);
  const comC = countVerdicts(committeeResults);
  const reach = Context.passShare(results.filter((r) => r.kind === 'reach'));

  const header = `<div class="toolbar"><div>
<div class="crumbs"><a href="index.html">总览 Overview</a>${district ? ` › ${esc(district.name)}` : ''} › 一街镇一策 sub-district page</div>
<h1>${esc(name)} <span class="code">${esc(sd)}</span><span class="en">${esc(data.title)}</span></h1>
</div>${langToggle()}</div>
<div class="meta"><span>居民 Residents <b>${unit ? esc(fmtInt(unit.residents)) : '—'}</b>${ctx.estimated ? ' (估算 estimated)' : ''}</span><span>居村委 Committees <b>${fmtInt(committees.length)}</b></span>${district ? `<span>区 District <b>${esc(district.name)}</b></span>` : ''}<span>生成时间 Generated <b>${esc(fmtTime(data.generatedAt))}</b></span></div>`;

  const kpis = `<div class="kpis">
${kpi(esc(unit ? fmtInt(unit.residents) : '—'), ctx.estimated ? '常住居民（估算）' : '常住居民', ctx.estimated ? 'residents (estimated)' : 'residents')}
${kpi(`${ownC.pass} <small>/ ${ownC.pass + ownC.fail}</small>`, '街镇级规则达标', 'sub-district rules passing', ownC.fail > 0 ? 'fail' : 'pass')}
${committeeResults.length ? kpi(`${comC.pass} <small>/ ${comC.pass + comC.fail}</small>`, '居村委级结果达标', 'committee results passing', comC.fail > 0 ? 'fail' : 'pass') : ''}
${kpi(esc(fmtPct(reach.share)), '可达结果达标比例', 'reach results passing')}
${kpi(fmtInt(gaps.length), '服务缺口', 'gaps', gaps.length ? 'fail' : '')}
</div>`;

  return page(ctx, {
    title: `${name} ${sd} — ${data.title}`,
    header,
    body: `${kpis}
${subdistrictMap(ctx, sd, committees, gaps)}
${subdistrictRules(ctx, sd, results)}
${committeeMatrix(ctx, sd, committees, committeeResults)}
${nearestCharts(ctx, sd)}
${gapList(ctx, gaps)}`,
  });
}

function subdistrictMap(ctx: Context, sd: string, committees: string[], gaps: Gap[]): string {
  const unit = ctx.unitByCode.get(sd);
  const results = ctx.resultsIn.get(sd) ?? [];
  const comUnits = committees.map((c) => ctx.unitByCode.get(c)).filter((u): u is ReportUnit => !!u && !!u.boundary);
  const comRules = ctx.reachRules.filter((r) => results.some((x) => x.ruleId === r.id && x.level === 'committee'));
  const metrics: MapMetric[] = [
    { id: 'overall', option: '居村委级规则达标比例 · share of committee results passing', legend: '居村委级规则达标比例 Share of committee results passing' },
    ...comRules.map((r) => ({ id: `rule:${r.id}`, option: `${r.title.zh} · ${r.title.en}`, legend: `${r.title.zh} — 覆盖比例 reach share` })),
  ];
  const units: Record<string, { name: string; values: Record<string, number | null>; lines: Record<string, string> }> = {};
  const shapes: MapShape[] = [];
  for (const u of comUnits) {
    const rs = results.filter((r) => r.unitCode === u.code);
    const o = Context.passShare(rs);
    const values: Record<string, number | null> = { overall: o.share };
    const lines: Record<string, string> = { overall: o.n > 0 ? `${fmtPct(o.share)} — ${o.pass} / ${o.n} 项达标 results pass · 居民 ${fmtInt(u.residents)} residents` : `无结果 no results · 居民 ${fmtInt(u.residents)} residents` };
    for (const r of comRules) {
      const x = rs.find((y) => y.ruleId === r.id && y.verdict !== 'not-applicable');
      const v = x?.value ?? null;
      values[`rule:${r.id}`] = v;
      lines[`rule:${r.id}`] = v === null ? '无数据 no data' : `${fmtPct(v)} ${x ? VERDICT_LABEL[x.verdict].mark : ''} · ${r.norm.zh || r.norm.en}`;
    }
    units[u.code] = { name: u.name, values, lines };
    shapes.push({ code: u.code, name: u.name, shape: u.boundary!, fill: shareColor(o.share), title: `${u.name} — ${lines.overall}`, cls: 'committee' });
  }
  const homes: MapPoint[] = [];
  const maxRes = Math.max(1, ...gaps.flatMap((g) => g.homes.map((h) => h.residents)));
  for (const g of gaps) {
    const rule = ctx.ruleById.get(g.ruleId);
    for (const h of g.homes.slice(0, 50)) {
      if (!Number.isFinite(h.lon) || !Number.isFinite(h.lat)) continue;
      homes.push({ lon: h.lon, lat: h.lat, r: 2 + 5 * Math.sqrt(h.residents / maxRes), title: `${h.id}: ${fmtPeople(h.residents)} 人 residents · ${fmtMinutes(h.nearestTimeS)} · ${rule?.title.zh ?? g.ruleId}` });
    }
  }
  if (!unit?.boundary && shapes.length === 0) {
    return `<section class="card">${h2('地图', 'Map')}<p class="empty">数据中无此街镇的边界。 No boundary for this sub-district in the data.</p></section>`;
  }
  const outline = unit?.boundary ?? null;
  let svg: string;
  let mapBlock: string;
  if (shapes.length === 0 && outline) {
    // no committee boundaries: the sub-district's outline on a neutral fill, with its unserved homes
    const shape: MapShape = { code: sd, name: unit!.name, shape: outline, fill: '#e8edf1', title: unit!.name, cls: 'plain' };
    const svg = mapSvg({ id: 'map-subdistrict', shapes: [shape], outline, points: homes, aria: `${unit!.name} 边界 boundary`, maxHeight: 520 });
    mapBlock = `<div class="mapbox">${svg}</div>${homes.length ? '<div class="legend"><span class="sw"><i class="dot"></i>未覆盖住宅（点大小示居民数） unserved homes, sized by residents</span></div>' : ''}`;
  } else {
    const svg = mapSvg({ id: 'map-subdistrict', shapes, outline, points: homes, aria: `${unit?.name ?? sd} 居村委地图 map of committees`, maxHeight: 520 });
    mapBlock = `<div class="mapblock">${metricSelect('metric-subdistrict', metrics)}<div class="mapbox">${svg}<div class="tip" role="tooltip"></div></div>${legendHtml(metrics[0].legend, homes.length > 0)}${mapJson(metrics, units)}</div>`;
  }
  const note = shapes.length === 0 && committees.length > 0 ? `<p class="small muted">居村委无边界数据，仅绘制街镇边界。 Committees have no boundaries in the data: the sub-district outline only.</p>` : '';

  // side list: committees with their pass share
  const side = committees.length
    ? `<div class="tablewrap sidelist"><table><thead><tr><th>${bi('居村委', 'Committee')}</th><th class="num">${bi('居民', 'Residents')}</th><th>${bi('达标比例', 'Pass share')}</th></tr></thead><tbody>${committees
        .map((c) => {
          const o = Context.passShare(results.filter((r) => r.unitCode === c));
          const u = ctx.unitByCode.get(c);
          return `<tr><td><b>${esc(ctx.unitName(c))}</b><div class="mono muted">${esc(c)}</div></td><td class="num">${u ? esc(fmtInt(u.residents)) : '—'}</td><td style="white-space:nowrap">${shareBar(o.share)}</td></tr>`;
        })
        .join('')}</tbody></table></div>`
    : '';
  return `<section class="card">${h2('地图', 'Map')}${side ? `<div class="grid2"><div>${mapBlock}${note}</div><div>${side}</div></div>` : `${mapBlock}${note}`}</section>`;
}

function measuredCell(r: RuleResult): string {
  const extra: string[] = [];
  if (r.kind === 'reach' && r.targetResidents > 0) extra.push(`${fmtPeople(r.targetResidents - r.unservedResidents)} / ${fmtPeople(r.targetResidents)} 人 residents`);
  if (r.offNetworkResidents > 0) extra.push(`${fmtPeople(r.offNetworkResidents)} 人不在路网 off network`);
  if (r.kind !== 'reach' && r.kind !== 'count_per_unit' && r.verdict !== 'not-applicable') extra.push(`${fmtInt(r.facilities)} 处设施 facilities`);
  if (r.agesApportioned) extra.push('≈ 年龄按比例折算 ages apportioned');
  const u = valueUnit(r.kind);
  return `<div class="num" title="${esc(`${u.zh} ${u.en}`)}"><b>${fmtValue(r.kind, r.value, r.unitCode)}</b></div>${extra.map((e) => `<div class="small muted">${esc(e)}</div>`).join('')}${r.note ? `<div class="small muted">${esc(r.note)}</div>` : ''}`;
}

function thresholdCell(r: RuleResult): string {
  if (r.verdict === 'not-applicable' && r.threshold === 0) return '<span class="muted">—</span>';
  return `<span class="num">${comparator(r.kind)} ${fmtValue(r.kind, r.threshold, r.unitCode)}</span>`;
}

function subdistrictRules(ctx: Context, sd: string, results: RuleResult[]): string {
  const order = new Map(ctx.rules.map((r, i) => [r.id, i]));
  const byOrder = (a: { ruleId: string }, b: { ruleId: string }) => (order.get(a.ruleId) ?? 0) - (order.get(b.ruleId) ?? 0);
  const head = `<thead><tr><th>${bi('规则', 'Rule')}</th><th>${bi('标准', 'Norm')}</th><th class="num">${bi('实测', 'Measured')}</th><th class="num">${bi('阈值', 'Threshold')}</th><th>${bi('结果', 'Verdict')}</th><th>${bi('依据', 'Citation')}</th></tr></thead>`;
  const rows: string[] = [];
  const own = results.filter((r) => r.unitCode === sd).sort(byOrder);
  if (own.length) {
    rows.push(`<tr class="group"><td colspan="6"><span class="zh">街镇级规则</span><span class="en">Sub-district rules</span></td></tr>`);
    for (const r of own) {
      const rule = ctx.ruleById.get(r.ruleId)!;
      rows.push(`<tr><td>${ruleCell(rule)}</td><td>${normCell(rule)}</td><td class="num">${measuredCell(r)}</td><td class="num">${thresholdCell(r)}</td><td>${verdictChip(r.verdict)}</td><td>${citeCell(rule)}</td></tr>`);
    }
  }
  // committee-level rules: one summary row each (details in the matrix below)
  const com = new Map<string, RuleResult[]>();
  for (const r of results) if (r.level === 'committee') {
    let a = com.get(r.ruleId);
    if (!a) com.set(r.ruleId, (a = []));
    a.push(r);
  }
  if (com.size) {
    rows.push(`<tr class="group"><td colspan="6"><span class="zh">居村委级规则（汇总）</span><span class="en">Committee rules, summed over the committees (details below)</span></td></tr>`);
    for (const [ruleId, rs] of [...com].sort((a, b) => byOrder({ ruleId: a[0] }, { ruleId: b[0] }))) {
      const rule = ctx.ruleById.get(ruleId)!;
      const c = countVerdicts(rs);
      const v = isShareKind(rule.kind) ? weightedShare(rs.filter((r) => r.verdict !== 'not-applicable')) : null;
      const target = rs.reduce((a, r) => a + r.targetResidents, 0);
      const unserved = rs.reduce((a, r) => a + r.unservedResidents, 0);
      const measured = v !== null
        ? `<div><b>${esc(fmtPct(v))}</b></div>${rule.kind === 'reach' && target > 0 ? `<div class="small muted">${esc(fmtPeople(target - unserved))} / ${esc(fmtPeople(target))} 人 residents</div>` : ''}`
        : '<span class="muted">—</span>';
      const threshold = rs.find((r) => r.verdict !== 'not-applicable')?.threshold;
      const verdict = `<div class="counts"><b class="p">✓ ${c.pass}</b> · <b class="f">✗ ${c.fail}</b>${c['not-applicable'] ? ` · – ${c['not-applicable']}` : ''}</div><div class="small muted">${esc(`${c.pass} / ${c.pass + c.fail}`)} 个居村委达标 committees pass</div>`;
      rows.push(`<tr><td>${ruleCell(rule)}</td><td>${normCell(rule)}</td><td class="num">${measured}</td><td class="num">${threshold !== undefined ? `<span class="num">${comparator(rule.kind)} ${fmtValue(rule.kind, threshold)}</span>` : '—'}</td><td>${verdict}</td><td>${citeCell(rule)}</td></tr>`);
    }
  }
  // district-level results of the district this sub-district lies in, for context
  const district = ctx.districtOf(sd)?.code ?? sd.slice(0, 6);
  const dist = (ctx.resultsOf.get(district) ?? []).filter((r) => r.level === 'district').sort(byOrder);
  if (dist.length) {
    rows.push(`<tr class="group"><td colspan="6"><span class="zh">区级规则（参考）</span><span class="en">District rules, for context</span></td></tr>`);
    for (const r of dist) {
      const rule = ctx.ruleById.get(r.ruleId)!;
      rows.push(`<tr><td>${ruleCell(rule)}</td><td>${normCell(rule)}</td><td class="num">${measuredCell(r)}</td><td class="num">${thresholdCell(r)}</td><td>${verdictChip(r.verdict)}</td><td>${citeCell(rule)}</td></tr>`);
    }
  }
  return `<section class="card">${h2('规则检测', 'Rules for this sub-district')}
${rows.length ? `<div class="tablewrap"><table class="rules">${head}<tbody>${rows.join('')}</tbody></table></div>` : '<p class="empty">无结果 no results</p>'}</section>`;
}

function committeeMatrix(ctx: Context, sd: string, committees: string[], results: RuleResult[]): string {
  if (results.length === 0) return '';
  const order = new Map(ctx.rules.map((r, i) => [r.id, i]));
  const ruleIds = [...new Set(results.map((r) => r.ruleId))].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
  const cell = new Map(results.map((r) => [`${r.unitCode}|${r.ruleId}`, r]));
  const head = `<thead><tr><th class="name">${bi('居村委', 'Committee')}</th><th class="num">${bi('居民', 'Residents')}</th>${ruleIds
    .map((id) => {
      const rule = ctx.ruleById.get(id)!;
      return `<th class="rule" title="${esc(`${rule.title.en} (${rule.id})`)}">${bi(rule.title.zh, rule.title.en)}${unverifiedBadge(rule) ? '<div><span class="badge badge-warn">待核实</span></div>' : ''}</th>`;
    })
    .join('')}</tr></thead>`;
  const rows = committees
    .map((c) => {
      const u = ctx.unitByCode.get(c);
      const cells = ruleIds
        .map((id) => {
          const r = cell.get(`${c}|${id}`);
          if (!r) return '<td><span class="muted" title="not evaluated">○</span></td>';
          const rule = ctx.ruleById.get(id)!;
          const short = r.value === null ? '' : fmtValue(rule.kind, r.value);
          const tip = `${ctx.unitName(c)} · ${rule.title.en}: ${VERDICT_LABEL[r.verdict].en}${r.value !== null ? ` (${stripTags(fmtValue(rule.kind, r.value))} vs ${comparator(rule.kind)} ${stripTags(fmtValue(rule.kind, r.threshold))})` : ''}`;
          return `<td><span class="cell v-${r.verdict}" title="${esc(tip)}">${VERDICT_LABEL[r.verdict].mark}${short ? `<small>${short}</small>` : ''}</span></td>`;
        })
        .join('');
      return `<tr><td class="name"><b>${esc(ctx.unitName(c))}</b><div class="mono muted">${esc(c)}</div></td><td class="num">${u ? esc(fmtInt(u.residents)) : '—'}</td>${cells}</tr>`;
    })
    .join('');
  return `<section class="card">${h2('居村委结果矩阵', 'Committees × rules')}
<div class="tablewrap"><table class="matrix">${head}<tbody>${rows}</tbody></table></div>
<p class="small muted" style="margin:8px 0 0">✓ 达标 pass · ✗ 未达标 fail · – 不适用 not applicable · ○ 未评估 not evaluated</p></section>`;
}

function stripTags(html: string): string {
  return html.replace(/<[^>]*>/g, '').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'");
}

function nearestCharts(ctx: Context, sd: string): string {
  const fields = ctx.data.nearestTimes.filter((t) => t.unitCode === sd);
  if (fields.length === 0) return '';
  const tier = (c: string, m: number, v: number) => `<span><i style="background:${c}"></i>${m} 分钟内<span class="chip-en"> within ${m}′</span> <b>${esc(fmtPct(v))}</b></span>`;
  const cards = fields
    .map((f) => {
      const s = minuteShares(f.residentsByMinute);
      return `<div class="chartcard"><h3>${bi(f.label.zh, f.label.en)}</h3><div class="tiers">${tier('#1d4e6b', 5, s.within[5])}${tier('#3f7fa8', 10, s.within[10])}${tier('#8bb8d2', 15, s.within[15])}<span class="muted">${esc(fmtInt(s.total))} 人 residents</span></div>${minuteChart(f.residentsByMinute, `${f.label.zh} ${f.label.en}`)}<div class="small muted mono">${esc(f.field)}</div></div>`;
    })
    .join('');
  return `<section class="card">${h2('最近设施步行时间分布', 'Residents by time to the nearest facility')}
<p class="small muted" style="margin-top:-6px">按整分钟统计居民数（30 分钟及以上合并）；虚线为 5、10、15 分钟。 <span class="en">Residents per whole minute to the nearest facility (30+ pooled); dashed lines mark 5, 10 and 15 minutes.</span></p>
<div class="charts">${cards}</div></section>`;
}

function gapList(ctx: Context, gaps: Gap[]): string {
  const items = gaps
    .map((g) => {
      const rule = ctx.ruleById.get(g.ruleId);
      const lv = LEVEL_LABEL[g.level] ?? { zh: g.level, en: g.level };
      const big = g.unservedResidents > 0
        ? `<div class="big">${esc(fmtInt(g.unservedResidents))} <small>人未覆盖 residents unserved</small></div>`
        : `<div class="big">${esc(fmtPct(g.shortfall))} <small>缺口 shortfall</small></div>`;
      const homes = g.homes.slice(0, 5);
      const table = homes.length
        ? `<div class="tablewrap"><table><thead><tr><th>${bi('住宅', 'Home')}</th><th class="num">${bi('目标居民', 'Target residents')}</th><th class="num">${bi('最近设施用时', 'Nearest time')}</th><th>${bi('最近设施', 'Nearest facility')}</th></tr></thead><tbody>${homes
            .map((h) => `<tr><td class="mono">${esc(h.id)}</td><td class="num">${esc(fmtPeople(h.residents))}</td><td class="num">${esc(fmtMinutes(h.nearestTimeS))}</td><td class="mono">${esc(h.nearestFacility ?? '—')}</td></tr>`)
            .join('')}</tbody></table></div>${g.homes.length > homes.length ? `<div class="small muted">另有 ${fmtInt(g.homes.length - homes.length)} 处住宅 and ${fmtInt(g.homes.length - homes.length)} more homes</div>` : ''}`
        : '';
      return `<div class="gap"><div class="head"><div><div class="rule-title">${rule ? bi(rule.title.zh, rule.title.en) : esc(g.ruleId)}${rule ? unverifiedBadge(rule) : ''}</div><div class="who">${esc(lv.zh)} ${esc(lv.en)} · <b>${esc(g.unitName)}</b> <span class="mono">${esc(g.unitCode)}</span></div></div>${big}</div><p><span class="zh">${esc(g.zh)}</span><span class="en">${esc(g.en)}</span></p>${table}</div>`;
    })
    .join('');
  return `<section class="card">${h2('服务缺口', 'Gaps')}${items ? `<div class="gaps">${items}</div>` : '<p class="empty">无缺口 no gaps</p>'}</section>`;
}


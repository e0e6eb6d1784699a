import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { LifecircleError } from '../errors.ts';
import { DEFAULT_CATALOGUE, loadFacilityCatalogue, type FacilityCatalogue } from '../model/catalogue.ts';
import { STANDARD_AGE_BANDS, ageBandRange } from '../model/records.ts';
import { REPO_ROOT } from '../util/data-dir.ts';
import {
  ALL_RULE_FIELDS,
  BuiltinFileSchema,
  COMMON_FIELDS,
  KIND_FIELDS,
  OverrideFileSchema,
  RULE_KINDS,
  RuleSchema,
  WALK_SPEED_MPS,
  type AssessableRule,
  type EffectiveRule,
  type NotAssessable,
  type RuleKind,
} from './schema.ts';

/** The built-in catalogue of assessable rules. */
export const BUILTIN_RULES = join(REPO_ROOT, 'catalogue', 'rules.json');

export interface LoadCatalogueOptions {
  /** A project's override file (YAML or JSON, by extension, else by content): `version`, `override`, `add`, `disable`. */
  overridePath?: string;
  /** Another built-in catalogue (tests, or a fork of catalogue/rules.json). */
  builtinPath?: string;
  /** The facility categories rules may name (default catalogue/facility-categories.json). */
  facilityCataloguePath?: string;
}

/** A problem found in a rules file: where (file, record, field) and what. */
export interface CatalogueIssue {
  file: string;
  /** `rule "id" (rules[3])`, `override of rule "id"`, `rule "id" (add[0])`, `disable[1]`; '' for the file's top level. */
  record: string;
  field?: string;
  message: string;
}

export interface LoadedCatalogue {
  /** The effective rules: built-in (overridden) then added, `enabled` resolved; disabled rules are kept with enabled false. */
  rules: EffectiveRule[];
  /** `${builtin}` or `${builtin}+${override}`. */
  version: string;
  /** sha256 (hex) of the canonical JSON of the effective rules (sorted by id, keys sorted): a content key for caches and reports. */
  sha256: string;
  /** Shared rules (../shared/standards/standards.json) the catalogue does not assess, with the reason. */
  notAssessable: NotAssessable[];
  /** Warnings that do not stop loading (a stale distance after an override, ages off the standard bands …). */
  problems: CatalogueIssue[];
  files: { builtin: string; override?: string; facilityCategories: string };
}

/** Thrown on any invalid rules input; `issues` lists every problem found, the message has one line per problem. */
export class RulesError extends LifecircleError {
  readonly issues: CatalogueIssue[];

  constructor(issues: CatalogueIssue[]) {
    const lines = issues.map(formatIssue);
    const message = lines.length === 1 ? lines[0] : `${lines.length} problems in the rules:\n${lines.join('\n')}`;
    const first = issues[0];
    super('RULES_INVALID', message, { file: first?.file, record: first?.record || undefined, field: first?.field });
    this.name = 'RulesError';
    this.issues = issues;
  }
}

export function formatIssue(i: CatalogueIssue): string {
  const where = [i.record, i.field ? `field ${i.field}` : ''].filter((x) => x !== '').join(' ');
  return `${i.file}: ${where ? `${where}: ` : ''}${i.message}`;
}

/**
 * Loads the built-in catalogue (catalogue/rules.json), then an optional project override file, and validates
 * everything: every rule against the schema, every facility category against the facility catalogue, every
 * override/disable against the ids that exist. Throws a {@link RulesError} (key RULES_INVALID) listing each
 * problem with file, rule id (or index) and field.
 *
 * @example
 * const { rules, version, sha256 } = loadCatalogue({ overridePath: 'huangpu-rules.yaml' });
 */
export function loadCatalogue(options: LoadCatalogueOptions = {}): LoadedCatalogue {
  const builtinFile = options.builtinPath ?? BUILTIN_RULES;
  const facilities = loadFacilityCatalogue(options.facilityCataloguePath ?? DEFAULT_CATALOGUE);
  const ctx: CheckContext = { facilities, categoryIds: [...facilities.byId.keys()] };

  // 1. The built-in catalogue: valid on its own, or nothing else is looked at.
  const builtinRaw = readStructured(builtinFile);
  const builtinParsed = BuiltinFileSchema.safeParse(builtinRaw);
  if (!builtinParsed.success) throw new RulesError(zodIssues(builtinParsed.error, builtinRaw, builtinFile, '', topKeys(BUILTIN_KEYS)));
  const builtin = builtinParsed.data;
  const issues: CatalogueIssue[] = [];
  const rules: AssessableRule[] = [];
  builtin.rules.forEach((raw, i) => {
    const r = checkRule(raw, ctx, builtinFile, recordName(raw, `rules[${i}]`), issues);
    if (r) rules.push(r);
  });
  checkDuplicateIds(rules, builtinFile, issues);
  const naSeen = new Set<string>();
  const usedSources = sourceIndex(rules);
  builtin.notAssessable.forEach((na, i) => {
    const record = `notAssessable[${i}] ("${na.sourceRuleId}")`;
    if (naSeen.has(na.sourceRuleId)) issues.push({ file: builtinFile, record, field: 'sourceRuleId', message: `shared rule "${na.sourceRuleId}" is listed twice` });
    naSeen.add(na.sourceRuleId);
    const users = usedSources.get(na.sourceRuleId);
    if (users) issues.push({ file: builtinFile, record, field: 'sourceRuleId', message: `shared rule "${na.sourceRuleId}" is listed as not assessable but rule "${users[0]}" derives from it` });
  });
  if (issues.length > 0) throw new RulesError(issues);

  // 2. The project's override.
  let effective: AssessableRule[] = rules;
  let version = builtin.version;
  let touched = new Set<string>();
  if (options.overridePath !== undefined) {
    const res = applyOverride(rules, options.overridePath, ctx);
    effective = res.rules;
    touched = res.touched;
    version = `${builtin.version}+${res.version}`;
  }

  const out: EffectiveRule[] = effective.map((r) => ({ ...r, enabled: r.enabled ?? true }));
  const fileOf = (id: string) => (touched.has(id) && options.overridePath ? options.overridePath : builtinFile);
  const problems = findProblems(out, ctx, fileOf);
  const nowUsed = sourceIndex(out);
  const notAssessable = builtin.notAssessable.filter((na) => {
    const users = nowUsed.get(na.sourceRuleId);
    if (!users) return true;
    problems.push({
      file: fileOf(users[0]),
      record: `rule "${users[0]}"`,
      field: 'sourceRuleIds',
      message: `now assesses shared rule "${na.sourceRuleId}", listed as not assessable in the built-in catalogue (${na.reason}); it is left out of notAssessable`,
    });
    return false;
  });
  return {
    rules: out,
    version,
    sha256: rulesSha256(out),
    notAssessable,
    problems,
    files: { builtin: builtinFile, override: options.overridePath, facilityCategories: facilities.file },
  };
}

/** sha256 (hex) of the canonical JSON of a rule set: rules sorted by id, object keys sorted, `enabled` defaulted to true. */
export function rulesSha256(rules: readonly AssessableRule[]): string {
  const sorted = rules.map((r) => ({ ...r, enabled: r.enabled ?? true })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return createHash('sha256').update(canonicalJson(sorted)).digest('hex');
}

/** JSON with object keys sorted at every depth (arrays keep their order; undefined members dropped as JSON does). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isPlainObject(v)) {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) if (v[k] !== undefined) o[k] = sortKeys(v[k]);
    return o;
  }
  return v;
}

// ---------------------------------------------------------------------------------------------------------------
// override

interface CheckContext {
  facilities: FacilityCatalogue;
  categoryIds: string[];
}

function applyOverride(builtin: AssessableRule[], file: string, ctx: CheckContext): { rules: AssessableRule[]; version: string; touched: Set<string> } {
  const raw = readStructured(file);
  const parsed = OverrideFileSchema.safeParse(raw);
  if (!parsed.success) throw new RulesError(zodIssues(parsed.error, raw, file, '', topKeys(OVERRIDE_KEYS)));
  const ov = parsed.data;
  const issues: CatalogueIssue[] = [];
  const byId = new Map(builtin.map((r) => [r.id, r]));
  const builtinIds = [...byId.keys()];
  const result = new Map(byId);

  // override: partial fields merged into a built-in rule
  const entries: { id: unknown; patch: Record<string, unknown>; record: string }[] = [];
  if (Array.isArray(ov.override)) {
    ov.override.forEach((e, i) => {
      const { id, ...patch } = e;
      entries.push({ id, patch, record: typeof id === 'string' ? `override of rule "${id}" (override[${i}])` : `override[${i}]` });
    });
  } else if (ov.override) {
    for (const [id, patch] of Object.entries(ov.override)) {
      const { id: renamed, ...rest } = patch;
      if (renamed !== undefined && renamed !== id) {
        issues.push({ file, record: `override of rule "${id}"`, field: 'id', message: `an override cannot rename a rule (got ${show(renamed)}); add a new rule and disable this one` });
      }
      entries.push({ id, patch: rest, record: `override of rule "${id}"` });
    }
  }
  const overridden = new Set<string>();
  for (const { id, patch, record } of entries) {
    if (typeof id !== 'string') {
      issues.push({ file, record, field: 'id', message: `expected the id of the rule to override, got ${show(id)}` });
      continue;
    }
    const base = byId.get(id);
    if (!base) {
      issues.push({ file, record, message: `no rule with this id exists in the built-in catalogue${closeMatchText(id, builtinIds)}` });
      continue;
    }
    if (overridden.has(id)) {
      issues.push({ file, record, message: `rule "${id}" is overridden twice` });
      continue;
    }
    overridden.add(id);
    const merged = mergeRule(base, patch);
    const r = checkRule(merged, ctx, file, record, issues);
    if (r) result.set(id, r);
  }

  // add: whole new rules
  const added = new Set<string>();
  (ov.add ?? []).forEach((raw, i) => {
    const record = recordName(raw, `add[${i}]`);
    const r = checkRule(raw, ctx, file, record, issues);
    if (!r) return;
    if (byId.has(r.id)) {
      issues.push({ file, record, field: 'id', message: `rule id "${r.id}" already exists in the built-in catalogue: use override to change it` });
    } else if (added.has(r.id)) {
      issues.push({ file, record, field: 'id', message: `rule id "${r.id}" is added twice` });
    } else {
      added.add(r.id);
      result.set(r.id, r);
    }
  });

  // disable: ids of built-in or added rules
  const known = [...result.keys()];
  (ov.disable ?? []).forEach((id, i) => {
    const r = result.get(id);
    if (!r) {
      issues.push({ file, record: `disable[${i}]`, message: `disable of rule id "${id}": no rule with this id exists${closeMatchText(id, known)}` });
      return;
    }
    result.set(id, { ...r, enabled: false });
  });

  if (issues.length > 0) throw new RulesError(issues);
  return { rules: [...result.values()], version: ov.version, touched: new Set([...overridden, ...added, ...(ov.disable ?? [])]) };
}

/** Merges an override's fields into a rule: plain objects merged recursively, anything else replaced, a top-level null removes the field. */
function mergeRule(base: AssessableRule, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  if (typeof patch.kind === 'string' && patch.kind !== base.kind) {
    // a new kind starts from the common fields only
    for (const f of KIND_FIELDS[base.kind]) delete out[f];
  }
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = isPlainObject(v) && isPlainObject(out[k]) ? deepMerge(out[k] as Record<string, unknown>, v) : v;
  }
  return out;
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = isPlainObject(v) && isPlainObject(out[k]) ? deepMerge(out[k] as Record<string, unknown>, v) : v;
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// checks

function checkRule(raw: unknown, ctx: CheckContext, file: string, record: string, issues: CatalogueIssue[]): AssessableRule | null {
  if (!isPlainObject(raw)) {
    issues.push({ file, record, message: `expected a rule object, got ${show(raw)}` });
    return null;
  }
  const kind = raw.kind;
  if (typeof kind !== 'string' || !(RULE_KINDS as readonly string[]).includes(kind)) {
    const got = kind === undefined ? 'missing' : `unknown kind ${show(kind)}`;
    const hint = typeof kind === 'string' ? didYouMean(kind, RULE_KINDS) : '';
    issues.push({ file, record, field: 'kind', message: `${got} (expected one of ${RULE_KINDS.join(', ')}${hint})` });
    return null;
  }
  const parsed = RuleSchema.safeParse(raw);
  if (!parsed.success) {
    issues.push(...zodIssues(parsed.error, raw, file, record, ruleKeys(kind as RuleKind), kind as RuleKind));
    return null;
  }
  const rule = parsed.data;
  const before = issues.length;
  const checkCats = (list: readonly string[], field: string) =>
    list.forEach((c, i) => {
      if (!ctx.facilities.byId.has(c)) {
        issues.push({
          file,
          record,
          field: `${field}[${i}]`,
          message: `unknown facility category "${c}" (not in ${ctx.facilities.file}${closeMatchText(c, ctx.categoryIds) || '; no close match'})`,
        });
      }
    });
  checkCats(rule.categories, 'categories');
  if (rule.kind === 'rail_bus_share') checkCats(rule.busCategories, 'busCategories');
  return issues.length === before ? rule : null;
}

function checkDuplicateIds(rules: AssessableRule[], file: string, issues: CatalogueIssue[]): void {
  const seen = new Set<string>();
  rules.forEach((r) => {
    if (seen.has(r.id)) issues.push({ file, record: `rule "${r.id}"`, field: 'id', message: `rule id "${r.id}" appears twice` });
    seen.add(r.id);
  });
}

/** Non-fatal warnings on the effective rules. */
function findProblems(rules: EffectiveRule[], ctx: CheckContext, fileOf: (id: string) => string): CatalogueIssue[] {
  const problems: CatalogueIssue[] = [];
  const bandStarts = new Set<number>();
  const bandEnds = new Set<number | null>();
  for (const label of STANDARD_AGE_BANDS) {
    const range = ageBandRange(label);
    if (!range) continue;
    bandStarts.add(range[0]);
    bandEnds.add(Number.isFinite(range[1]) ? range[1] : null);
  }
  const mPerMin = WALK_SPEED_MPS * 60;
  for (const r of rules) {
    const file = fileOf(r.id);
    const record = `rule "${r.id}"`;
    if (r.kind === 'reach' && r.distanceM !== undefined) {
      const expected = r.distanceM / mPerMin;
      if (Math.abs(expected - r.minutes) > 0.006) {
        problems.push({
          file,
          record,
          field: 'minutes',
          message: `${r.minutes} min no longer matches the source distance distanceM ${r.distanceM} m (${round2(expected)} min at ${WALK_SPEED_MPS} m/s); distanceM keeps the source's figure`,
        });
      }
      if (r.mode !== 'walk') {
        problems.push({ file, record, field: 'mode', message: `mode ${r.mode} with a distance converted at the walk speed (${WALK_SPEED_MPS} m/s)` });
      }
    }
    const ages = r.kind === 'reach' || r.kind === 'capacity_ratio' ? r.ages : undefined;
    if (ages && (!bandStarts.has(ages.min) || !bandEnds.has(ages.max))) {
      problems.push({
        file,
        record,
        field: 'ages',
        message: `ages ${ages.min}${ages.max === null ? '+' : `-${ages.max}`} do not fall on the standard age bands (${STANDARD_AGE_BANDS.join(', ')}): population counted in those bands cannot be split exactly`,
      });
    }
    if (r.kind === 'capacity_ratio') {
      for (const c of r.categories) {
        if (ctx.facilities.byId.get(c)?.capacityUnit == null) {
          problems.push({ file, record, field: 'categories', message: `category "${c}" has no capacity unit in the facility catalogue, so its facilities add no capacity` });
        }
      }
    }
  }
  return problems;
}

function sourceIndex(rules: readonly AssessableRule[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const r of rules) for (const s of r.sourceRuleIds) m.set(s, [...(m.get(s) ?? []), r.id]);
  return m;
}

// ---------------------------------------------------------------------------------------------------------------
// reading and messages

/** Reads a JSON or YAML file: by extension (.json, .yaml, .yml), else JSON when it starts with { or [, else YAML. */
function readStructured(file: string): unknown {
  if (!existsSync(file)) throw new LifecircleError('FILE_NOT_FOUND', `${file}: rules file not found`, { file });
  let text: string;
  try {
    text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  } catch (e) {
    throw new LifecircleError('FILE_NOT_FOUND', `${file}: cannot read the rules file (${(e as Error).message})`, { file });
  }
  if (text.trim() === '') throw new RulesError([{ file, record: '', message: 'the file is empty' }]);
  const ext = extname(file).toLowerCase();
  const asJson = ext === '.json' || (ext !== '.yaml' && ext !== '.yml' && /^\s*[[{]/.test(text));
  if (asJson) {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new RulesError([{ file, record: '', message: `not valid JSON: ${(e as Error).message}${jsonLine(text, e as Error)}` }]);
    }
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter });
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    const pos = lineCounter.linePos(err.pos[0]);
    throw new RulesError([{ file, record: '', message: `not valid YAML (line ${pos.line}, column ${pos.col}): ${err.message.split('\n')[0]}` }]);
  }
  return doc.toJS();
}

function jsonLine(text: string, e: Error): string {
  const m = /position (\d+)/.exec(e.message);
  if (!m || /line \d+/.test(e.message)) return '';
  const before = text.slice(0, Number(m[1]));
  const line = before.split('\n').length;
  return ` (line ${line}, column ${Number(m[1]) - before.lastIndexOf('\n')})`;
}

function recordName(raw: unknown, index: string): string {
  return isPlainObject(raw) && typeof raw.id === 'string' ? `rule "${raw.id}" (${index})` : index;
}

/** Turns zod issues into located, readable issues (field path, reason, the value found). */
function zodIssues(error: z.ZodError, input: unknown, file: string, record: string, knownKeys: (path: (string | number)[]) => readonly string[], kind?: RuleKind): CatalogueIssue[] {
  return error.issues.map((issue) => {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    const got = valueAt(input, path);
    let field = formatPath(path);
    let message: string;
    switch (issue.code) {
      case 'unrecognized_keys': {
        const keys = issue.keys;
        const known = knownKeys(path);
        const parts = keys.map((k) => {
          const other = kind && path.length === 0 && ALL_RULE_FIELDS.includes(k) ? ` (a field of another kind, not of kind "${kind}")` : didYouMean(k, known);
          return `"${k}"${other}`;
        });
        field = formatPath([...path, keys[0]]);
        message = `unknown field${keys.length > 1 ? 's' : ''} ${parts.join(', ')}`;
        break;
      }
      case 'invalid_type':
        message = got === undefined ? `missing (expected ${issue.expected})` : `expected ${issue.expected}, got ${show(got)}`;
        if (issue.expected === 'string' && typeof got === 'number') message += ' (in YAML, put it in quotes)';
        break;
      case 'invalid_value': {
        const values = issue.values.map(String);
        message = `expected one of ${values.join(', ')}, got ${show(got)}${typeof got === 'string' ? didYouMean(got, values) : ''}`;
        break;
      }
      case 'invalid_union':
        message = got === undefined ? 'missing' : `${issue.message}, got ${show(got)}`;
        break;
      case 'custom':
        message = issue.message;
        break;
      default:
        message = got === undefined ? `missing (${issue.message})` : `${issue.message}, got ${show(got)}`;
    }
    return { file, record, field: field || undefined, message };
  });
}

const BUILTIN_KEYS = ['version', 'description', 'rules', 'notAssessable'];
const OVERRIDE_KEYS = ['version', 'description', 'override', 'add', 'disable'];

function topKeys(keys: readonly string[]): (path: (string | number)[]) => readonly string[] {
  return (path) => (path.length === 0 ? keys : []);
}

/** Field names allowed at a path of a rule of this kind (for "did you mean"). */
function ruleKeys(kind: RuleKind): (path: (string | number)[]) => readonly string[] {
  return (path) => {
    if (path.length === 0) return [...COMMON_FIELDS, ...KIND_FIELDS[kind]];
    const last = path[path.length - 1];
    if (last === 'title') return ['zh', 'en'];
    if (last === 'citation') return ['document', 'clause', 'note'];
    if (last === 'ages') return ['min', 'max'];
    return [];
  };
}

function valueAt(input: unknown, path: (string | number)[]): unknown {
  let v: unknown = input;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

function formatPath(path: (string | number)[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${p}` : p;
  return s;
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  if (Array.isArray(v)) return 'an array';
  return 'an object';
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Up to 3 candidates close to `word`: edit distance within a quarter of its length (at least 2) or one containing the other, and within 2 of the best. */
export function closeMatches(word: string, candidates: readonly string[], max = 3): string[] {
  const w = word.toLowerCase();
  const scored: { c: string; d: number }[] = [];
  for (const c of candidates) {
    const cl = c.toLowerCase();
    const d = levenshtein(w, cl);
    const contains = w.length >= 3 && (cl.includes(w) || w.includes(cl));
    if (d <= Math.max(2, Math.floor(w.length / 4)) || contains) scored.push({ c, d: contains ? Math.min(d, 1.5) : d });
  }
  scored.sort((a, b) => a.d - b.d || (a.c < b.c ? -1 : 1));
  const best = scored[0]?.d ?? 0;
  return scored.filter((s) => s.d <= best + 2).slice(0, max).map((s) => s.c);
}

/** `; close matches: "a", "b"`, or '' when none is close. */
function closeMatchText(word: string, candidates: readonly string[]): string {
  const m = closeMatches(word, candidates);
  return m.length === 0 ? '' : `; close matches: ${m.map((x) => `"${x}"`).join(', ')}`;
}

function didYouMean(word: string, candidates: readonly string[]): string {
  const m = closeMatches(word, candidates, 1);
  return m.length > 0 ? `; did you mean "${m[0]}"?` : '';
}

function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

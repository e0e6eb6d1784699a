import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { LifecircleError } from '../../src/errors.ts';
import { DEFAULT_CATALOGUE } from '../../src/model/catalogue.ts';
import { BUILTIN_RULES, loadCatalogue, RulesError, rulesSha256 } from '../../src/standards/catalogue.ts';
import { RULE_KINDS, WALK_SPEED_MPS, type AssessableRule } from '../../src/standards/schema.ts';
import { REPO_ROOT, sharedDataDir } from '../../src/util/data-dir.ts';

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'rules');
const fx = (name: string) => join(FIXTURES, name);
const builtinJson = () => JSON.parse(readFileSync(BUILTIN_RULES, 'utf8')) as { version: string; rules: AssessableRule[]; notAssessable: { sourceRuleId: string; reason: string }[] };

/** ../shared/standards (beside the shared data folder), or null when the shared reference data is absent. */
function sharedStandardsFile(): string | null {
  try {
    const file = join(dirname(sharedDataDir()), 'standards', 'standards.json');
    return existsSync(file) ? file : null;
  } catch {
    return null;
  }
}

const tmp = mkdtempSync(join(tmpdir(), 'lifecircle-rules-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let tmpN = 0;
function writeTmp(content: unknown, ext = '.json'): string {
  const file = join(tmp, `case-${++tmpN}${ext}`);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 1));
  return file;
}

/** Asserts that loading throws RULES_INVALID whose message has every expected line, and returns the error. */
function expectRulesError(load: () => unknown, lines: string[]): RulesError {
  let caught: unknown;
  assert.throws(load, (e: unknown) => {
    caught = e;
    return true;
  });
  assert.ok(caught instanceof LifecircleError, `expected a LifecircleError, got ${String(caught)}`);
  assert.ok(caught instanceof RulesError);
  assert.equal(caught.key, 'RULES_INVALID');
  assert.equal(caught.status, 400);
  const got = caught.message.split('\n');
  for (const line of lines) assert.ok(got.includes(line), `missing line:\n  ${line}\nin message:\n  ${got.join('\n  ')}`);
  assert.equal(caught.issues.length, lines.length, `expected ${lines.length} issues, got:\n  ${got.join('\n  ')}`);
  return caught;
}

describe('built-in catalogue', () => {
  test('validates, and every kind is used', () => {
    const c = loadCatalogue();
    assert.equal(c.version, builtinJson().version);
    assert.match(c.sha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(c.problems, []);
    assert.ok(c.rules.length > 0);
    for (const kind of RULE_KINDS) assert.ok(c.rules.some((r) => r.kind === kind), `no rule of kind ${kind}`);
    assert.equal(new Set(c.rules.map((r) => r.id)).size, c.rules.length);
    assert.ok(c.rules.every((r) => typeof r.enabled === 'boolean'));
  });

  test('walking distances are converted at 1.25 m/s', () => {
    for (const r of loadCatalogue().rules) {
      if (r.kind !== 'reach' || r.distanceM === undefined) continue;
      assert.equal(r.mode, 'walk', r.id);
      assert.equal(r.minutes, Math.round((r.distanceM / (WALK_SPEED_MPS * 60)) * 100) / 100, r.id);
      assert.match(r.conversion ?? '', /1\.25 m\/s/, r.id);
    }
  });

  test('area-scoped rules ship disabled, with their scope', () => {
    const c = loadCatalogue();
    for (const r of c.rules) if (!r.enabled) assert.ok(r.scope, `${r.id} is disabled without a scope`);
    assert.equal(c.rules.find((r) => r.id === 'pudong-15min-health')?.enabled, false);
    assert.equal(c.rules.find((r) => r.id === 'gb50180-kindergarten-300m')?.enabled, true);
  });
});

describe('every shared rule is assessed or listed as not assessable', () => {
  const file = sharedStandardsFile();
  test('against ../shared/standards/standards.json', { skip: file ? false : 'shared standards not present' }, () => {
    type Shared = { id: string; value: unknown; metric: string; mandatory: boolean | string; verification: string; source: { document: string; clause_or_table: string } };
    const shared = new Map((JSON.parse(readFileSync(file as string, 'utf8')) as Shared[]).map((r) => [r.id, r]));
    const c = loadCatalogue();
    const used = new Set(c.rules.flatMap((r) => r.sourceRuleIds));
    const na = c.notAssessable.map((n) => n.sourceRuleId);
    assert.equal(new Set(na).size, na.length, 'a shared rule is listed twice as not assessable');
    for (const id of [...used, ...na]) assert.ok(shared.has(id), `"${id}" is not a shared rule id`);
    for (const id of na) assert.ok(!used.has(id), `"${id}" is both used and listed as not assessable`);
    const missing = [...shared.keys()].filter((id) => !used.has(id) && !na.includes(id));
    assert.deepEqual(missing, [], 'shared rules neither used nor listed as not assessable');
    assert.equal(used.size + na.length, shared.size);
    for (const n of c.notAssessable) assert.ok(n.reason.length > 20, `no real reason for ${n.sourceRuleId}`);

    const rank = ['primary', 'secondary', 'secondary (low authority)', 'unverified'];
    for (const r of c.rules) {
      const cited = shared.get(r.sourceRuleIds[0]);
      assert.ok(cited, `${r.id} cites no shared rule`);
      assert.equal(r.citation.document, cited.source.document, `${r.id}: citation document`);
      assert.equal(r.citation.clause, cited.source.clause_or_table, `${r.id}: citation clause`);
      assert.deepEqual(r.mandatory, cited.mandatory, `${r.id}: mandatory`);
      // the rule keeps the weakest verification of the shared rules it derives from
      const weakest = r.sourceRuleIds.map((id) => rank.indexOf(shared.get(id)!.verification)).reduce((a, b) => Math.max(a, b));
      assert.equal(r.verification, rank[weakest], `${r.id}: verification`);
      if (r.kind === 'reach' && r.distanceM !== undefined && cited.metric === 'walk_distance_m') {
        assert.equal(r.distanceM, cited.value, `${r.id}: distanceM differs from the source`);
      }
    }
  });
});

describe('project override', () => {
  test('YAML: stricter threshold, enable, nested merge, disable, add', () => {
    const base = loadCatalogue();
    const file = fx('override-huangpu.yaml');
    const c = loadCatalogue({ overridePath: file });
    assert.equal(c.version, `${base.version}+huangpu-2026.1`);
    assert.equal(c.rules.length, base.rules.length + 1);
    assert.equal(c.files.override, file);

    const kg = c.rules.find((r) => r.id === 'gb50180-kindergarten-300m');
    const kg0 = base.rules.find((r) => r.id === 'gb50180-kindergarten-300m');
    assert.ok(kg?.kind === 'reach' && kg0?.kind === 'reach');
    assert.equal(kg.minutes, 3);
    assert.equal(kg.note, 'The district asks for 225 m (3 min at 1.25 m/s).');
    assert.deepEqual({ ...kg, minutes: kg0.minutes, note: kg0.note }, kg0, 'only minutes and note change');

    assert.equal(c.rules.find((r) => r.id === 'sh2024-bus-stop-300m-inner-ring')?.enabled, true);
    assert.equal(c.rules.find((r) => r.id === 'gb50180-rail-station-800m')?.enabled, false);

    const el = c.rules.find((r) => r.id === 'sh-elderly-community-area-40-per-1000');
    const el0 = base.rules.find((r) => r.id === 'sh-elderly-community-area-40-per-1000');
    assert.ok(el?.kind === 'area_per_1000' && el0);
    assert.equal(el.minAreaM2Per1000, 50);
    assert.equal(el.citation.document, el0.citation.document, 'nested objects are merged, not replaced');
    assert.equal(el.citation.clause, el0.citation.clause);
    assert.equal(el.citation.note, "District target above the city's 40 m² (test value).");

    const added = c.rules[c.rules.length - 1];
    assert.equal(added.id, 'huangpu-pharmacy-500m');
    assert.equal(added.enabled, true);
    assert.deepEqual(added.categories, ['pharmacy']);

    assert.notEqual(c.sha256, base.sha256);
    assert.deepEqual(c.notAssessable, base.notAssessable);
    // the stricter minutes no longer match the source's 300 m: a warning, not an error
    assert.deepEqual(
      c.problems.map((p) => [p.file, p.record, p.field]),
      [[file, 'rule "gb50180-kindergarten-300m"', 'minutes']],
    );
    assert.match(c.problems[0].message, /3 min no longer matches the source distance distanceM 300 m \(4 min at 1\.25 m\/s\)/);
  });

  test('JSON with other key order gives the same rules and the same sha256 as YAML', () => {
    const y = loadCatalogue({ overridePath: fx('override-huangpu.yaml') });
    const j = loadCatalogue({ overridePath: fx('override-huangpu.json') });
    assert.deepEqual(j.rules, y.rules);
    assert.equal(j.version, y.version);
    assert.equal(j.sha256, y.sha256);
  });

  test('format sniffed from content; override given as a list', () => {
    const c = loadCatalogue({ overridePath: fx('override-sniffed.txt') });
    assert.equal(c.version, '2026.1+sniffed-1');
    const r = c.rules.find((x) => x.id === 'gb50180-primary-school-500m');
    assert.ok(r?.kind === 'reach');
    assert.equal(r.targetShare, 0.95);
  });

  test('changing the kind drops the old kind fields; nested ages merge', () => {
    const c = loadCatalogue({ overridePath: fx('override-kind-change.yml') });
    const hc = c.rules.find((r) => r.id === 'gb50180-health-centre-1000m');
    assert.ok(hc?.kind === 'count_per_unit');
    assert.equal(hc.minCount, 1);
    for (const f of ['mode', 'minutes', 'targetShare', 'distanceM', 'conversion']) assert.ok(!(f in hc), `${f} kept`);
    const dc = c.rules.find((r) => r.id === 'gb50180-elderly-day-care-300m');
    assert.ok(dc?.kind === 'reach');
    assert.deepEqual(dc.ages, { min: 65, max: null });
    assert.deepEqual(
      c.problems.map((p) => `${p.record} ${p.field}: ${p.message}`),
      ['rule "gb50180-elderly-day-care-300m" ages: ages 65+ do not fall on the standard age bands (0-2, 3-5, 6-11, 12-14, 15-59, 60-79, 80+): population counted in those bands cannot be split exactly'],
    );
  });

  test('a missing override file is FILE_NOT_FOUND', () => {
    assert.throws(() => loadCatalogue({ overridePath: fx('no-such-file.yaml') }), (e: unknown) => e instanceof LifecircleError && e.key === 'FILE_NOT_FOUND');
  });
});

describe('bad input names file, rule, field and reason', () => {
  test('unknown kind', () => {
    const f = fx('bad-kind.yaml');
    const e = expectRulesError(() => loadCatalogue({ overridePath: f }), [
      `${f}: rule "typo-kind" (add[0]) field kind: unknown kind "reachh" (expected one of reach, count_per_unit, population_per_facility, area_per_1000, per_capita_area, capacity_ratio, rail_bus_share; did you mean "reach"?)`,
    ]);
    assert.equal(e.file, f);
    assert.equal(e.record, 'rule "typo-kind" (add[0])');
    assert.equal(e.field, 'kind');
  });

  test('negative minutes', () => {
    const f = fx('bad-negative-minutes.yaml');
    expectRulesError(() => loadCatalogue({ overridePath: f }), [
      `${f}: override of rule "gb50180-kindergarten-300m" field minutes: expected a number > 0, got -5`,
    ]);
  });

  test('a rule without its unit level, and one with a level that does not exist', () => {
    const f = fx('bad-unit-level.yaml');
    expectRulesError(() => loadCatalogue({ overridePath: f }), [
      `${f}: rule "my-library-15min" (add[0]) field unitLevel: expected one of committee, subdistrict, district, got nothing`,
      `${f}: rule "my-library-street" (add[1]) field unitLevel: expected one of committee, subdistrict, district, got "street"`,
    ]);
  });

  test('unknown facility category, with close matches', () => {
    const f = fx('bad-category.yaml');
    const e = expectRulesError(() => loadCatalogue({ overridePath: f }), [
      `${f}: override of rule "gb50180-kindergarten-300m" field categories[0]: unknown facility category "kindergarden" (not in ${DEFAULT_CATALOGUE}; close matches: "kindergarten")`,
      `${f}: rule "market-400m" (add[0]) field categories[0]: unknown facility category "foo" (not in ${DEFAULT_CATALOGUE}; close matches: "food_market_or_fresh_supermarket")`,
    ]);
    assert.equal(e.message.split('\n')[0], '2 problems in the rules:');
  });

  test('override or disable of a rule id that does not exist', () => {
    const f = fx('bad-unknown-rule.yaml');
    expectRulesError(() => loadCatalogue({ overridePath: f }), [
      `${f}: override of rule "kindergarten-300m": no rule with this id exists in the built-in catalogue; close matches: "gb50180-kindergarten-300m"`,
      `${f}: disable[0]: disable of rule id "gb50180-rail-station-80m": no rule with this id exists; close matches: "gb50180-rail-station-800m"`,
    ]);
  });

  test('unknown fields, out-of-range share, field of another kind, duplicate add, cross-field check', () => {
    const f = fx('bad-fields.json');
    expectRulesError(() => loadCatalogue({ overridePath: f }), [
      `${f}: override of rule "gb50180-primary-school-500m" field targetShare: expected a share from 0 to 1, got 1.5`,
      `${f}: override of rule "gb50180-primary-school-500m" field minutess: unknown field "minutess"; did you mean "minutes"?`,
      `${f}: override of rule "gb50180-bus-stop-500m" field minCount: unknown field "minCount" (a field of another kind, not of kind "reach")`,
      `${f}: rule "gb50180-kindergarten-300m" (add[0]) field id: rule id "gb50180-kindergarten-300m" already exists in the built-in catalogue: use override to change it`,
      `${f}: rule "health-station-per-3" (add[1]) field perCommittees: a count per N committees needs unitLevel subdistrict or district, got committee`,
    ]);
  });

  test('missing version and a misspelt section', () => {
    const f = fx('bad-top-level.yaml');
    expectRulesError(() => loadCatalogue({ overridePath: f }), [
      `${f}: field version: missing (expected string)`,
      `${f}: field overrides: unknown field "overrides"; did you mean "override"?`,
    ]);
  });

  test('YAML syntax error with its line', () => {
    const f = fx('bad-syntax.yaml');
    const e = expectRulesError(() => loadCatalogue({ overridePath: f }), [
      `${f}: not valid YAML (line 5, column 1): All mapping items must start at the same column`,
    ]);
    assert.equal(e.file, f);
  });

  test('JSON syntax error with its line', () => {
    const f = writeTmp('{\n "version": "x",\n "override": {\n  "a": 1,\n}\n', '.json');
    assert.throws(
      () => loadCatalogue({ overridePath: f }),
      (e: unknown) => e instanceof RulesError && (e.key as string) === 'RULES_INVALID' && e.file === f && e.message.startsWith(`${f}: not valid JSON: `) && /line 5/.test(e.message),
    );
  });

  test('built-in catalogue errors: bad rule by index, unknown kind, duplicate id, rule both used and not assessable', () => {
    const b = builtinJson();
    const [r0, r1] = b.rules;
    const f = writeTmp({
      ...b,
      rules: [{ ...r0, id: undefined }, { ...r1, kind: 'reachh' }, r0, r0],
      notAssessable: [...b.notAssessable, { sourceRuleId: r0.sourceRuleIds[0], reason: 'listed by mistake' }],
    });
    expectRulesError(() => loadCatalogue({ builtinPath: f }), [
      `${f}: rules[0] field id: missing (expected string)`,
      `${f}: rule "${r1.id}" (rules[1]) field kind: unknown kind "reachh" (expected one of reach, count_per_unit, population_per_facility, area_per_1000, per_capita_area, capacity_ratio, rail_bus_share; did you mean "reach"?)`,
      `${f}: rule "${r0.id}" field id: rule id "${r0.id}" appears twice`,
      `${f}: notAssessable[${b.notAssessable.length}] ("${r0.sourceRuleIds[0]}") field sourceRuleId: shared rule "${r0.sourceRuleIds[0]}" is listed as not assessable but rule "${r0.id}" derives from it`,
    ]);
  });
});

describe('sha256 of the effective rule set', () => {
  function reverseKeys(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(reverseKeys);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reverseKeys(x)]));
    return v;
  }

  test('stable across key order, rule order and an explicit enabled: true', () => {
    const b = builtinJson();
    const base = loadCatalogue().sha256;
    const reordered = writeTmp(reverseKeys({ ...b, rules: [...b.rules].reverse() }));
    assert.equal(loadCatalogue({ builtinPath: reordered }).sha256, base);
    const explicit = writeTmp({ ...b, rules: b.rules.map((r) => ({ ...r, enabled: r.enabled ?? true })) });
    assert.equal(loadCatalogue({ builtinPath: explicit }).sha256, base);
    assert.equal(rulesSha256(loadCatalogue().rules), base);
  });

  test('changes when a threshold changes or a rule is disabled', () => {
    const b = builtinJson();
    const base = loadCatalogue().sha256;
    const i = b.rules.findIndex((r) => r.kind === 'reach');
    const stricter = writeTmp({ ...b, rules: b.rules.map((r, k) => (k === i ? { ...r, targetShare: 0.9 } : r)) });
    assert.notEqual(loadCatalogue({ builtinPath: stricter }).sha256, base);
    const off = writeTmp('version: off-1\ndisable: [gb50180-kindergarten-300m]\n', '.yaml');
    assert.notEqual(loadCatalogue({ overridePath: off }).sha256, base);
    // descriptive text outside the rules does not change it
    const described = writeTmp({ ...b, description: 'another description' });
    assert.equal(loadCatalogue({ builtinPath: described }).sha256, base);
  });
});

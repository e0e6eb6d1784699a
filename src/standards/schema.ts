import { z } from 'zod';

/**
 * One ASSESSABLE rule of the standards catalogue (`catalogue/rules.json`): a figure from a cited standard or plan
 * turned into something the analysis can check from facilities, population and the street network.
 *
 * A rule is evaluated for every unit of its `unitLevel` (residents' committee, sub-district, district) and passes
 * or fails there. Its `kind` says what is measured; the comparator is implied by the kind (see each kind below),
 * so a threshold is always the value that still passes:
 *
 * | kind | measured for a unit | passes when |
 * |---|---|---|
 * | `reach` | share of the target residents (`ages`, default all) whose network travel time by `mode` to the nearest facility of `categories` is `<= minutes` | share `>= targetShare` |
 * | `count_per_unit` | facilities of `categories` located in the unit | count `>= minCount`, or `>= minCount × ceil(committees in the unit / perCommittees)` when `perCommittees` is set; with `unitShare`, the rule passes for the level when that share of its units pass |
 * | `population_per_facility` | residents ÷ facilities of `categories` in the unit | `<= maxResidentsPerFacility` (a unit with residents and no facility fails) |
 * | `area_per_1000` | `areaField` area (m²) of facilities of `categories` per 1,000 residents | `>= minAreaM2Per1000`; with `withinM`, only area within `withinM` metres of walking network counts (floating catchment: each facility's area shared among the residents within reach; the unit's residents' mean compared) |
 * | `per_capita_area` | `areaField` area (m²) of facilities of `categories` per resident | `>= minM2PerResident` |
 * | `capacity_ratio` | capacity (places, beds, seats) of facilities of `categories` per target resident (`ages`) | `>= minPlacesPerTarget`; with `withinMinutes`, only capacity reachable within that time by `mode` (default walk) counts (floating catchment) |
 * | `rail_bus_share` | share of the unit's stations of `categories` (rail) with a stop of `busCategories` within `withinM` metres of walking network | share `>= targetShare` |
 *
 * A source range ("one station per 1–2万 residents", "800–1000 m") is stored as the end that still passes (the
 * lenient end); the rule's `note` says so. Distances stated in metres for walking are turned into minutes at the
 * walk speed {@link WALK_SPEED_MPS} (`conversion` says so, `distanceM` keeps the source's figure).
 */

/** Walk speed used to turn a walking distance into minutes: 1.25 m/s = 4.5 km/h = 75 m per minute (the walk profile's speed). */
export const WALK_SPEED_MPS = 1.25;

/** Pudong's 9 domains (education … commerce) plus community/administrative services. */
export const DOMAINS = ['education', 'health', 'elderly', 'culture', 'sports', 'green_space', 'transport', 'childcare', 'commerce', 'admin_services'] as const;
export const UNIT_LEVELS = ['committee', 'subdistrict', 'district'] as const;
export const RULE_MODES = ['walk', 'elderly', 'bike'] as const;
export const AREA_FIELDS = ['building', 'land'] as const;
/** As in ../shared/standards/standards.json: how the figure was confirmed. `unverified` = check before compliance use. */
export const VERIFICATIONS = ['primary', 'secondary', 'secondary (low authority)', 'unverified'] as const;
export const RULE_KINDS = ['reach', 'count_per_unit', 'population_per_facility', 'area_per_1000', 'per_capita_area', 'capacity_ratio', 'rail_bus_share'] as const;

export type Domain = (typeof DOMAINS)[number];
export type UnitLevel = (typeof UNIT_LEVELS)[number];
export type RuleMode = (typeof RULE_MODES)[number];
export type AreaField = (typeof AREA_FIELDS)[number];
export type Verification = (typeof VERIFICATIONS)[number];
export type RuleKind = (typeof RULE_KINDS)[number];

export const RULE_ID_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

const text = z.string().trim().min(1, { error: 'expected a non-empty string' });
const share = z.number().min(0, { error: 'expected a share from 0 to 1' }).max(1, { error: 'expected a share from 0 to 1' });
const positive = z.number().positive({ error: 'expected a number > 0' });
const positiveInt = z.number().int({ error: 'expected a whole number' }).positive({ error: 'expected a whole number > 0' });
const age = z.number().int({ error: 'expected a whole age in years' }).min(0, { error: 'expected an age >= 0' }).max(130, { error: 'expected an age <= 130' });

/** Target population by age in whole years, inclusive; `max: null` = open-ended ("60+"). */
export const AgeRangeSchema = z.strictObject({ min: age, max: age.nullable() });
export type AgeRange = z.infer<typeof AgeRangeSchema>;

export const CitationSchema = z.strictObject({
  /** The document as named in the shared standards (standard number and title, or plan). */
  document: text,
  /** Clause, table or section. */
  clause: text,
  /** The shared catalogue's note on the figure (in our words). */
  note: text.optional(),
});
export type Citation = z.infer<typeof CitationSchema>;

/** Fields every rule has, whatever its kind. */
const common = {
  /** Unique kebab-case id (stable key; overrides refer to it). */
  id: z.string().regex(RULE_ID_PATTERN, { error: 'expected a kebab-case id (lower-case letters and digits joined by "-")' }),
  title: z.strictObject({ zh: text, en: text }),
  domain: z.enum(DOMAINS),
  /** Facility category ids (catalogue/facility-categories.json); a facility of any of them satisfies the rule. */
  categories: z.array(text).min(1, { error: 'expected at least one facility category' }),
  /** The unit the rule is evaluated for. */
  unitLevel: z.enum(UNIT_LEVELS),
  /** true ("应", required), false ("宜", recommended), or the source's own label (约束性, "planning target (2025)" …). */
  mandatory: z.union([z.boolean(), text]),
  verification: z.enum(VERIFICATIONS),
  citation: CitationSchema,
  /** Ids in ../shared/standards/standards.json the rule derives from (first = the cited one); [] for a project's own rule. */
  sourceRuleIds: z.array(text),
  /** Where the source sets the target when narrower than Shanghai (e.g. "Pudong New Area"); absent = wherever the cited standard applies. */
  scope: text.optional(),
  /** How we read the source: which end of a range, category mapping, approximations. */
  note: text.optional(),
  /** Default true. Area-scoped rules ship disabled; a project enables them by override. */
  enabled: z.boolean().optional(),
};

export const ReachRuleSchema = z.strictObject({
  ...common,
  kind: z.literal('reach'),
  mode: z.enum(RULE_MODES),
  /** Travel-time budget in minutes (inclusive). */
  minutes: positive.max(240, { error: 'expected at most 240 minutes' }),
  /** Share (0–1) of the target residents that must be within `minutes`. */
  targetShare: share,
  /** Target residents by age; absent = all residents. */
  ages: AgeRangeSchema.optional(),
  /** The source's walking distance in metres, when the rule was stated as a distance. */
  distanceM: positive.optional(),
  /** How `minutes` was derived from `distanceM` (speed and arithmetic). */
  conversion: text.optional(),
});

export const CountPerUnitRuleSchema = z.strictObject({
  ...common,
  kind: z.literal('count_per_unit'),
  /** Facilities required in the unit (per `perCommittees` committees when that is set). */
  minCount: positiveInt,
  /** One set of `minCount` per this many residents' committees of the unit (e.g. one health station per 5 committees). */
  perCommittees: positiveInt.optional(),
  /** Share (0–1) of the level's units that must pass (e.g. 0.85 of sub-districts); default 1 = every unit. */
  unitShare: share.optional(),
});

export const PopulationPerFacilityRuleSchema = z.strictObject({
  ...common,
  kind: z.literal('population_per_facility'),
  /** Most residents one facility may serve. */
  maxResidentsPerFacility: positive,
});

export const AreaPer1000RuleSchema = z.strictObject({
  ...common,
  kind: z.literal('area_per_1000'),
  /** Least facility area (m²) per 1,000 residents. */
  minAreaM2Per1000: positive,
  areaField: z.enum(AREA_FIELDS),
  /** Catchment radius in metres of walking network (e.g. elderly care 40 m² per 1,000 residents within 1,000 m). */
  withinM: positive.optional(),
});

export const PerCapitaAreaRuleSchema = z.strictObject({
  ...common,
  kind: z.literal('per_capita_area'),
  /** Least facility area (m²) per resident. */
  minM2PerResident: positive,
  areaField: z.enum(AREA_FIELDS),
});

export const CapacityRatioRuleSchema = z.strictObject({
  ...common,
  kind: z.literal('capacity_ratio'),
  /** Least capacity (places, beds, seats: the categories' capacity unit) per target resident (40 per 1,000 = 0.04). */
  minPlacesPerTarget: positive,
  ages: AgeRangeSchema,
  /** Only capacity reachable within this many minutes counts (floating catchment). */
  withinMinutes: positive.optional(),
  /** Mode for `withinMinutes` (default walk). */
  mode: z.enum(RULE_MODES).optional(),
});

export const RailBusShareRuleSchema = z.strictObject({
  ...common,
  kind: z.literal('rail_bus_share'),
  /** Walking network distance in metres from a station (of `categories`) to a bus stop. */
  withinM: positive,
  /** Share (0–1) of stations that must have a stop within `withinM`. */
  targetShare: share,
  /** Facility categories counted as a bus stop. */
  busCategories: z.array(text).min(1, { error: 'expected at least one bus stop category' }),
});

/** One assessable rule (validated): the common fields plus the fields of its kind. */
export const RuleSchema = z
  .discriminatedUnion('kind', [
    ReachRuleSchema,
    CountPerUnitRuleSchema,
    PopulationPerFacilityRuleSchema,
    AreaPer1000RuleSchema,
    PerCapitaAreaRuleSchema,
    CapacityRatioRuleSchema,
    RailBusShareRuleSchema,
  ])
  .superRefine((rule, ctx) => {
    const ages = 'ages' in rule ? rule.ages : undefined;
    if (ages && ages.max !== null && ages.max < ages.min) {
      ctx.addIssue({ code: 'custom', path: ['ages', 'max'], message: `expected max >= min (${ages.min}), got ${ages.max}` });
    }
    if (rule.kind === 'count_per_unit' && rule.perCommittees !== undefined && rule.unitLevel === 'committee') {
      ctx.addIssue({ code: 'custom', path: ['perCommittees'], message: 'a count per N committees needs unitLevel subdistrict or district, got committee' });
    }
    if (rule.kind === 'capacity_ratio' && rule.mode !== undefined && rule.withinMinutes === undefined) {
      ctx.addIssue({ code: 'custom', path: ['mode'], message: 'mode is only used with withinMinutes, which is missing' });
    }
    if (rule.kind === 'reach' && rule.conversion !== undefined && rule.distanceM === undefined) {
      ctx.addIssue({ code: 'custom', path: ['distanceM'], message: 'a conversion note needs the source distance distanceM, which is missing' });
    }
    const seen = new Set<string>();
    rule.categories.forEach((c, i) => {
      if (seen.has(c)) ctx.addIssue({ code: 'custom', path: ['categories', i], message: `category "${c}" is listed twice` });
      seen.add(c);
    });
  });

export type AssessableRule = z.infer<typeof RuleSchema>;
export type ReachRule = z.infer<typeof ReachRuleSchema>;
export type CountPerUnitRule = z.infer<typeof CountPerUnitRuleSchema>;
export type PopulationPerFacilityRule = z.infer<typeof PopulationPerFacilityRuleSchema>;
export type AreaPer1000Rule = z.infer<typeof AreaPer1000RuleSchema>;
export type PerCapitaAreaRule = z.infer<typeof PerCapitaAreaRuleSchema>;
export type CapacityRatioRule = z.infer<typeof CapacityRatioRuleSchema>;
export type RailBusShareRule = z.infer<typeof RailBusShareRuleSchema>;

/** A rule as returned by the loader: `enabled` resolved (default true). */
export type EffectiveRule = AssessableRule & { enabled: boolean };

/** The fields each kind adds to the common ones (used to drop them when an override changes a rule's kind). */
export const KIND_FIELDS: Record<RuleKind, readonly string[]> = {
  reach: Object.keys(ReachRuleSchema.shape).filter((k) => !(k in common)),
  count_per_unit: Object.keys(CountPerUnitRuleSchema.shape).filter((k) => !(k in common)),
  population_per_facility: Object.keys(PopulationPerFacilityRuleSchema.shape).filter((k) => !(k in common)),
  area_per_1000: Object.keys(AreaPer1000RuleSchema.shape).filter((k) => !(k in common)),
  per_capita_area: Object.keys(PerCapitaAreaRuleSchema.shape).filter((k) => !(k in common)),
  capacity_ratio: Object.keys(CapacityRatioRuleSchema.shape).filter((k) => !(k in common)),
  rail_bus_share: Object.keys(RailBusShareRuleSchema.shape).filter((k) => !(k in common)),
};

/** Field names every rule has, whatever its kind. */
export const COMMON_FIELDS: readonly string[] = Object.keys(common);

/** Every field name a rule of any kind may carry. */
export const ALL_RULE_FIELDS: readonly string[] = [...new Set([...Object.keys(common), ...Object.values(KIND_FIELDS).flat()])];

/** A shared rule the catalogue does not assess, and why. */
export const NotAssessableSchema = z.strictObject({ sourceRuleId: text, reason: text });
export type NotAssessable = z.infer<typeof NotAssessableSchema>;

/** The built-in catalogue file: rules are checked one by one (see RuleSchema), so here they are only an array. */
export const BuiltinFileSchema = z.strictObject({
  version: text,
  description: text,
  rules: z.array(z.unknown()),
  notAssessable: z.array(NotAssessableSchema),
});

/** A project override file (YAML or JSON). `override` maps a rule id to the fields to change (objects merged, arrays replaced, top-level null removes an optional field). */
export const OverrideFileSchema = z.strictObject({
  version: text,
  description: text.optional(),
  override: z.union([z.record(z.string(), z.record(z.string(), z.unknown())), z.array(z.record(z.string(), z.unknown()))]).optional(),
  add: z.array(z.unknown()).optional(),
  disable: z.array(text).optional(),
});
export type OverrideFile = z.infer<typeof OverrideFileSchema>;

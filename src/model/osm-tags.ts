import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { LifecircleError } from '../errors.ts';
import { REPO_ROOT } from '../util/data-dir.ts';
import type { FacilityCatalogue } from './catalogue.ts';

const RuleSchema = z.object({
  when: z.record(z.string(), z.union([z.string(), z.array(z.string())])),
  category: z.string(),
});
const TableSchema = z.object({ version: z.string(), description: z.string(), rules: z.array(RuleSchema).min(1) });

export const DEFAULT_OSM_TAGS = join(REPO_ROOT, 'catalogue', 'osm-tags.json');

type Test = (value: unknown) => boolean;

export interface OsmTagTable {
  file: string;
  version: string;
  /** The category of an object with these tags (or columns), or null when no rule matches. */
  categoryOf(tags: Record<string, unknown>): string | null;
}

/** Normalised key: OSM's "isced:level" and CSV-friendly "isced_level" are the same condition. */
const keyOf = (k: string) => k.replace(/:/g, '_');

function condition(expected: string | string[]): Test {
  if (expected === '*') return (v) => v !== undefined && v !== null && v !== '';
  if (typeof expected === 'string') {
    const m = /^(>=|<=|>|<)\s*(-?\d+(\.\d+)?)$/.exec(expected);
    if (m) {
      const n = Number(m[2]);
      const op = m[1];
      return (v) => {
        const x = typeof v === 'number' ? v : Number(v);
        if (v === null || v === undefined || v === '' || !Number.isFinite(x)) return false;
        return op === '>=' ? x >= n : op === '<=' ? x <= n : op === '>' ? x > n : x < n;
      };
    }
    return (v) => v !== null && v !== undefined && String(v) === expected;
  }
  const set = new Set(expected);
  return (v) => v !== null && v !== undefined && set.has(String(v));
}

/**
 * Loads the editable OSM-tag → category table (catalogue/osm-tags.json) and checks every category it names
 * exists in the facility catalogue.
 */
export function loadOsmTagTable(catalogue: FacilityCatalogue, file = DEFAULT_OSM_TAGS): OsmTagTable {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new LifecircleError('FILE_NOT_FOUND', `${file}: cannot read the OSM tag table (${(e as Error).message})`, { file });
  }
  const parsed = TableSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LifecircleError('LAYER_INVALID', `${file}: ${issue.path.join('.')}: ${issue.message}`, { file, field: issue.path.join('.') });
  }
  const rules = parsed.data.rules.map((r, i) => {
    if (!catalogue.byId.has(r.category)) {
      throw new LifecircleError('LAYER_INVALID', `${file}: rule ${i + 1} gives category "${r.category}", which ${catalogue.file} does not define`, { file, record: `rule ${i + 1}`, field: 'category' });
    }
    return { category: r.category, tests: Object.entries(r.when).map(([k, v]) => [keyOf(k), condition(v)] as const) };
  });
  return {
    file,
    version: parsed.data.version,
    categoryOf(tags) {
      const normalised: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(tags)) normalised[keyOf(k)] = v;
      for (const r of rules) if (r.tests.every(([k, t]) => t(normalised[k]))) return r.category;
      return null;
    },
  };
}

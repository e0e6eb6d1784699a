import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { LifecircleError } from '../errors.ts';
import { REPO_ROOT } from '../util/data-dir.ts';

const CategorySchema = z.object({
  id: z.string().regex(/^[a-z][a-z0-9_]*$/, 'snake_case id'),
  domain: z.string(),
  zh: z.string().min(1),
  en: z.string().min(1),
  capacityUnit: z.string().nullable(),
  pudong9: z.boolean(),
  source: z.string().min(1),
});

const CatalogueSchema = z.object({
  version: z.string(),
  description: z.string(),
  domains: z.array(z.object({ id: z.string(), zh: z.string() })),
  categories: z.array(CategorySchema),
});

export type FacilityCategory = z.infer<typeof CategorySchema>;
export type FacilityCatalogue = z.infer<typeof CatalogueSchema> & { byId: Map<string, FacilityCategory>; file: string };

export const DEFAULT_CATALOGUE = join(REPO_ROOT, 'catalogue', 'facility-categories.json');

/** Loads and checks a facility-category catalogue (default: catalogue/facility-categories.json). */
export function loadFacilityCatalogue(file = DEFAULT_CATALOGUE): FacilityCatalogue {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new LifecircleError('FILE_NOT_FOUND', `${file}: cannot read the facility catalogue (${(e as Error).message})`, { file });
  }
  const parsed = CatalogueSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LifecircleError('LAYER_INVALID', `${file}: ${issue.path.join('.')}: ${issue.message}`, { file, field: issue.path.join('.') });
  }
  const byId = new Map<string, FacilityCategory>();
  const domains = new Set(parsed.data.domains.map((d) => d.id));
  for (const c of parsed.data.categories) {
    if (byId.has(c.id)) throw new LifecircleError('LAYER_INVALID', `${file}: category id "${c.id}" appears twice`, { file, field: 'categories.id' });
    if (!domains.has(c.domain)) throw new LifecircleError('LAYER_INVALID', `${file}: category "${c.id}" names domain "${c.domain}", not in the domains list`, { file, field: 'categories.domain' });
    byId.set(c.id, c);
  }
  return { ...parsed.data, byId, file };
}

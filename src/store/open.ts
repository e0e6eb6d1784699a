import { LifecircleError } from '../errors.ts';
import { SqliteStore } from './sqlite.ts';
import type { ProjectStore } from './store.ts';

export const DEFAULT_PROJECT = 'lifecircle.sqlite';

/**
 * Opens a project by location: a file path is an embedded SQLite project; a postgres:// or postgresql://
 * URL is a PostgreSQL/PostGIS project.
 */
export async function openStore(location: string = process.env.LIFECIRCLE_PROJECT ?? DEFAULT_PROJECT, options: { create?: boolean } = {}): Promise<ProjectStore> {
  if (/^postgres(ql)?:\/\//.test(location)) {
    const { PostgisStore } = await import('./postgis.ts').catch(() => {
      throw new LifecircleError('ARGUMENT_INVALID', `${location}: PostgreSQL/PostGIS projects are not available in this build`, { field: 'project' });
    });
    return PostgisStore.connect(location);
  }
  return new SqliteStore(location, options);
}

import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LifecircleError } from '../errors.ts';

/** The repository root (two levels above src/util). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Where the shared reference data lives: an explicit path, else $LIFECIRCLE_DATA, else ../shared/data beside
 * the repository. Real data is never copied into the repository.
 */
export function sharedDataDir(explicit?: string): string {
  const dir = explicit ?? process.env.LIFECIRCLE_DATA ?? resolve(REPO_ROOT, '..', 'shared', 'data');
  if (!existsSync(dir)) {
    throw new LifecircleError('FILE_NOT_FOUND', `data folder ${dir} not found: put the shared data beside the repository (../shared/data) or set LIFECIRCLE_DATA`, { file: dir });
  }
  return dir;
}

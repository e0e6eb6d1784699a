/**
 * A separate process for the crash test: imports a file into a project, printing "rows N" as it goes, so
 * the test can SIGKILL it halfway through the batch. Usage: import-child.ts <project> <csv>
 */
import { importFile } from '../../src/import/importer.ts';
import { loadFacilityCatalogue } from '../../src/model/catalogue.ts';
import { openStore } from '../../src/store/open.ts';

const [project, file] = process.argv.slice(2);
const store = await openStore(project);
const report = await importFile(store, {
  kind: 'facilities',
  file,
  source: 'crash-test',
  catalogue: loadFacilityCatalogue(),
  onProgress: (rows) => process.stdout.write(`rows ${rows}\n`),
});
process.stdout.write(`done ${report.batch?.inserted ?? 0}\n`);
await store.close();

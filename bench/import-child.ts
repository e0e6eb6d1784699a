/**
 * One import in a fresh process, for the benchmark's figures (time and the process's own peak RSS):
 *   node --import tsx bench/import-child.ts <project> <file> <kind>
 */
import { importFile } from '../src/import/importer.ts';
import { loadFacilityCatalogue } from '../src/model/catalogue.ts';
import type { RecordKind } from '../src/model/records.ts';
import { openStore } from '../src/store/open.ts';

const [project, file, kind] = process.argv.slice(2);
const store = await openStore(project, { create: true });
await store.init({ name: 'bench' });
const t = performance.now();
const report = await importFile(store, { kind: kind as RecordKind, file, source: 'bench', catalogue: loadFacilityCatalogue() });
const seconds = (performance.now() - t) / 1000;
await store.close();
process.stdout.write(JSON.stringify({ ok: report.ok, records: report.records, inserted: report.batch?.inserted ?? 0, seconds, peakRssBytes: process.resourceUsage().maxRSS * 1024 }) + '\n');

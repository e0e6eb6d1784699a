// @ts-check
/**
 * Writes one import batch into a SQLite project on a worker thread, so that the main thread parses and
 * validates the next rows while SQLite stores the previous ones: on two cores the import runs at the speed
 * of the slower half instead of the sum of both (binding 19 parameters and updating the B-trees costs
 * ~5 µs per row, as much as reading and checking it).
 *
 * Plain JavaScript because a worker thread starts without the TypeScript loader. It knows no schema: the
 * main thread (src/store/sqlite.ts) passes every SQL statement and the positions of the key columns.
 *
 * Messages in:  {type: 'rows', args: unknown[], n}   n rows of `width` positional arguments each
 *               {type: 'commit'} | {type: 'rollback'}
 * Messages out: {type: 'ready', batchId} once the batch row is inserted inside BEGIN IMMEDIATE
 *               {type: 'ack', duplicates: [{sourceId, sourceRow}]} per 'rows' message
 *               {type: 'committed', inserted, updated, importedAt} | {type: 'rolledBack'}
 *               {type: 'error', message} (the transaction is rolled back; the worker exits)
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

/** @type {{file: string, batchSql: string, batchArgs: unknown[], upsertSql: string, upsertChunkSql: string, chunk: number, width: number, batchIdArg: number, keyArgs: number[], rowArg: number, storedRowSql: string, countSql: string, updateBatchSql: string, importedAtSql: string}} */
const job = workerData;
const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);

const db = new Database(job.file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('foreign_keys = ON');
db.pragma('busy_timeout = 5000');
db.pragma('cache_size = -65536');
db.pragma('temp_store = MEMORY');

let open = false;
let batchId = 0;
let before = 0;
let written = 0;
/** @type {import('better-sqlite3').Statement} */ let upsertOne;
/** @type {import('better-sqlite3').Statement} */ let upsertChunk;
/** @type {import('better-sqlite3').Statement} */ let storedRow;
/** @type {import('better-sqlite3').Statement} */ let countRows;

function fail(/** @type {unknown} */ e) {
  if (open && db.inTransaction) db.exec('ROLLBACK');
  open = false;
  db.close();
  port.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  port.close();
}

try {
  db.exec('BEGIN IMMEDIATE');
  open = true;
  batchId = Number(db.prepare(job.batchSql).run(...job.batchArgs).lastInsertRowid);
  upsertOne = db.prepare(job.upsertSql);
  upsertChunk = db.prepare(job.upsertChunkSql);
  storedRow = db.prepare(job.storedRowSql);
  countRows = db.prepare(job.countSql);
  before = /** @type {{n: number}} */ (countRows.get()).n;
  port.postMessage({ type: 'ready', batchId });
} catch (e) {
  fail(e);
}

/** Writes n rows of positional arguments; returns the ones this batch had already written (duplicate ids). */
function writeRows(/** @type {unknown[]} */ args, /** @type {number} */ n) {
  const { chunk, width, keyArgs, rowArg } = job;
  const duplicates = [];
  let r = 0;
  while (r < n) {
    const take = n - r >= chunk ? chunk : 1;
    const slice = args.slice(r * width, (r + take) * width);
    for (let k = 0; k < take; k++) slice[k * width + job.batchIdArg] = batchId;
    const changes = (take === chunk ? upsertChunk : upsertOne).run(slice).changes;
    written += changes;
    if (changes < take) {
      // Some ids were already written by this batch (the upsert's WHERE left them alone): find which by the
      // row number stored for them. Rare, so a lookup per row of this chunk is fine.
      const seen = new Set();
      for (let k = 0; k < take; k++) {
        const o = k * width;
        const keys = keyArgs.map((i) => slice[o + i]);
        const key = String(keys[keys.length - 1]);
        const stored = /** @type {{row: number} | undefined} */ (storedRow.get(...keys));
        if (seen.has(key) || (stored && stored.row !== slice[o + rowArg])) duplicates.push({ sourceId: key, sourceRow: Number(slice[o + rowArg]) });
        seen.add(key);
      }
    }
    r += take;
  }
  return duplicates;
}

port.on('message', (/** @type {{type: string, args?: unknown[], n?: number}} */ m) => {
  if (!open) return;
  try {
    if (m.type === 'rows') {
      port.postMessage({ type: 'ack', duplicates: writeRows(/** @type {unknown[]} */ (m.args), /** @type {number} */ (m.n)) });
    } else if (m.type === 'commit') {
      const inserted = /** @type {{n: number}} */ (countRows.get()).n - before;
      const updated = written - inserted;
      db.prepare(job.updateBatchSql).run(inserted, updated, batchId);
      db.exec('COMMIT');
      open = false;
      const importedAt = /** @type {{imported_at: string}} */ (db.prepare(job.importedAtSql).get(batchId)).imported_at;
      db.close();
      port.postMessage({ type: 'committed', inserted, updated, importedAt });
      port.close();
    } else if (m.type === 'rollback') {
      if (db.inTransaction) db.exec('ROLLBACK');
      open = false;
      db.close();
      port.postMessage({ type: 'rolledBack' });
      port.close();
    }
  } catch (e) {
    fail(e);
  }
});

/**
 * Reads a user's travel-time matrix (long CSV: origin, destination, minutes) with a demand table (id, value)
 * and a supply table (id, value) into the CSR arrays of src/analysis/accessibility.ts, with the id maps
 * between external ids and dense indices (kept at the boundary, as pandana does).
 *
 * - Origins are the demand table's ids, in its row order; destinations the supply table's. A matrix row
 *   whose origin or destination is in neither is an error naming the table (or is skipped and counted with
 *   `unknownIds: 'skip'`, for a full zone × zone matrix read against facility cells only).
 * - Columns are found by header name, case-insensitively: origin / from_id / from …, destination / to_id /
 *   to …, time / travel_time / minutes …, id, value; `matrixColumns` etc. name them explicitly. Extra columns
 *   (mode, monetary_cost …) are ignored.
 * - Text: UTF-8 or GBK sniffed (or `encoding`), BOM dropped, delimiter sniffed (or `delimiter`); parsed by the
 *   streaming CsvParser of ./csv.ts (RFC 4180, physical line numbers).
 * - Errors are LifecircleErrors naming file, line and field, with got vs expected: a non-numeric or
 *   negative time, an unknown id, a repeated (origin, destination) pair (both lines), a repeated table id,
 *   a missing column.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { LifecircleError } from '../errors.ts';
import { CsvParser, CsvError } from './csv.ts';
import { fileHead, sniffDelimiter, sniffEncoding, sniffFormat } from './rows.ts';
import { GrowableArray } from '../util/growable.ts';
import { travelMatrixFromPairs, type TravelMatrix } from '../analysis/accessibility.ts';

export interface TravelMatrixColumns {
  origin?: string;
  destination?: string;
  time?: string;
}

export interface ValueTableColumns {
  id?: string;
  value?: string;
}

export interface ReadTravelMatrixOptions {
  /** Path of the long travel-time matrix CSV (times in minutes). */
  matrix: string;
  /** Path of the demand table (one row per origin). */
  demand: string;
  /** Path of the supply table (one row per destination); may be the same file as `demand` with another value column. */
  supply: string;
  matrixColumns?: TravelMatrixColumns;
  demandColumns?: ValueTableColumns;
  supplyColumns?: ValueTableColumns;
  /** Applies to all three files; sniffed per file when absent. */
  delimiter?: string;
  encoding?: string;
  /** 'error' (default): a matrix id missing from its table is an error; 'skip': the row is dropped and counted. */
  unknownIds?: 'error' | 'skip';
}

export interface ValueTable {
  file: string;
  idColumn: string;
  valueColumn: string;
  /** External ids in file order; position = dense index. */
  ids: string[];
  indexById: Map<string, number>;
  values: Float64Array;
}

export interface TravelMatrixData {
  matrix: TravelMatrix;
  /** Dense origin index → id (the demand table's ids, in its order). */
  originIds: string[];
  destIds: string[];
  originIndexById: Map<string, number>;
  destIndexById: Map<string, number>;
  /** D_i per origin. */
  demand: Float64Array;
  /** S_j per destination. */
  supply: Float64Array;
  /** Matrix data rows read (header excluded). */
  rowCount: number;
  /** Rows dropped for an unknown origin or destination id (only with unknownIds: 'skip'). */
  skippedRows: number;
}

const ORIGIN_NAMES = ['origin', 'from_id', 'from', 'origin_id', 'fromid', 'o', 'orig', 'source'];
const DEST_NAMES = ['destination', 'to_id', 'to', 'destination_id', 'dest', 'dest_id', 'toid', 'd', 'target'];
const TIME_NAMES = ['time', 'travel_time', 'time_min', 'minutes', 'traveltime', 'duration_min', 'cost'];
const ID_NAMES = ['id', 'geoid', 'zone_id', 'zone', 'code'];
// value columns by role, so that a land-use table with both population and capacity columns is never read
// the same way for both without being told
const VALUE_NAMES: Record<string, string[]> = {
  demand: ['value', 'demand', 'population', 'pop', 'residents'],
  supply: ['value', 'supply', 'capacity', 'beds', 'places'],
};

// a plain decimal number: no hex, no Infinity, no empty string (which Number() would take as 0)
const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function fail(key: 'LAYER_INVALID' | 'LAYER_FIELD_INVALID', message: string, file: string, line?: number, field?: string): LifecircleError {
  return new LifecircleError(key, message, { file, record: line === undefined ? undefined : `line ${line}`, field });
}

/**
 * Streams a CSV file's records to `onRecord(fields, line)` after handing the header to `onHeader`; errors of
 * the text itself (bad quoting) become LifecircleErrors naming the file and line.
 */
async function streamCsv(
  path: string,
  options: { delimiter?: string; encoding?: string },
  onHeader: (fields: string[], line: number) => void,
  onRecord: (fields: string[], line: number) => void,
): Promise<void> {
  if (!existsSync(path)) throw new LifecircleError('FILE_NOT_FOUND', `${path}: file not found`, { file: path });
  if (statSync(path).size === 0) throw new LifecircleError('FILE_EMPTY', `${path}: file is empty (0 bytes); expected a CSV table with a header line`, { file: path });
  const buf = fileHead(path);
  const format = sniffFormat(buf);
  if (format !== 'csv') throw fail('LAYER_INVALID', `${path}: expected CSV text but the file looks like ${format === 'zip' ? 'a zip archive (an Excel .xlsx? export it as CSV)' : format}`, path);
  const encoding = (options.encoding ?? sniffEncoding(buf)).toLowerCase();
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(encoding);
  } catch {
    throw new LifecircleError('ARGUMENT_INVALID', `${path}: unknown text encoding "${encoding}" (try utf-8 or gbk)`, { file: path, field: 'encoding' });
  }
  const delimiter = options.delimiter ?? sniffDelimiter(new TextDecoder(encoding).decode(buf).replace(/^\uFEFF/, ''));
  const parser = new CsvParser({ delimiter });
  let sawHeader = false;
  const take = (records: string[][], lines: number[]) => {
    for (let r = 0; r < records.length; r++) {
      if (!sawHeader) {
        sawHeader = true;
        onHeader(records[r], lines[r]);
      } else {
        onRecord(records[r], lines[r]);
      }
    }
  };
  try {
    let first = true;
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
      let text = decoder.decode(chunk as Buffer, { stream: true });
      if (first) {
        text = text.replace(/^\uFEFF/, '');
        first = false;
      }
      if (text.length === 0) continue;
      const { records, lines } = parser.push(text);
      take(records, lines);
    }
    const rest = decoder.decode();
    if (rest.length > 0) {
      const { records, lines } = parser.push(rest);
      take(records, lines);
    }
    const { records, lines } = parser.end();
    take(records, lines);
  } catch (e) {
    if (e instanceof CsvError) throw fail('LAYER_INVALID', `${path} line ${e.line}: ${e.message}`, path, e.line);
    throw e;
  }
  if (!sawHeader) throw new LifecircleError('FILE_EMPTY', `${path}: no header line; expected a CSV table`, { file: path });
}

/** The position of a column: the configured name, else the first known name present (case-insensitive). */
function findColumn(path: string, header: string[], line: number, what: string, given: string | undefined, candidates: string[], option: string): number {
  const norm = header.map((h) => h.trim().toLowerCase());
  if (given !== undefined) {
    const at = norm.indexOf(given.trim().toLowerCase());
    if (at < 0) throw fail('LAYER_INVALID', `${path} line ${line} (header): no column "${given}" for the ${what} (${option}); the header has ${header.map((h) => JSON.stringify(h)).join(', ')}`, path, line, given);
    return at;
  }
  for (const c of candidates) {
    const at = norm.indexOf(c);
    if (at >= 0) return at;
  }
  throw fail(
    'LAYER_INVALID',
    `${path} line ${line} (header): no ${what} column; expected one of ${candidates.join(', ')} (or name it with ${option}), the header has ${header.map((h) => JSON.stringify(h)).join(', ')}`,
    path,
    line,
    what,
  );
}

/** A decimal number, or NaN for anything else ("", "n/a", "0x1A", "Infinity"); Number() alone takes "" as 0. */
function parseNumber(text: string): number {
  // fast path for the usual "12" / "5.8": digits and at most one dot, checked without a regex
  const n = text.length;
  let dots = 0;
  let i = 0;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) dots++;
    else if (c < 48 || c > 57) break;
  }
  if (i === n && n > 0 && dots <= 1 && !(n === 1 && dots === 1)) return Number(text);
  const s = text.trim();
  return NUMBER_RE.test(s) ? Number(s) : NaN;
}

/**
 * Reads an (id, value) table: ids unique and non-empty, values finite numbers ≥ 0. `what` names the table in
 * messages and picks the value column's default names: "demand" (value, demand, population, pop, residents)
 * or "supply" (value, supply, capacity, beds, places).
 */
export async function readValueTable(
  path: string,
  what: string,
  columns: ValueTableColumns = {},
  options: { delimiter?: string; encoding?: string } = {},
): Promise<ValueTable> {
  let idCol = -1;
  let valueCol = -1;
  let need = 0;
  let header: string[] = [];
  const ids: string[] = [];
  const indexById = new Map<string, number>();
  const lineOf: number[] = [];
  const values = new GrowableArray(Float64Array, 1024);
  await streamCsv(
    path,
    options,
    (fields, line) => {
      header = fields;
      idCol = findColumn(path, fields, line, `${what} id`, columns.id, ID_NAMES, `${what}Columns.id`);
      valueCol = findColumn(path, fields, line, `${what} value`, columns.value, VALUE_NAMES[what] ?? ['value'], `${what}Columns.value`);
      need = Math.max(idCol, valueCol) + 1;
    },
    (fields, line) => {
      if (fields.length < need) {
        throw fail('LAYER_INVALID', `${path} line ${line}: ${fields.length} field(s), expected at least ${need} (the header has ${header.length})`, path, line);
      }
      const id = fields[idCol].trim();
      const idName = header[idCol];
      const valueName = header[valueCol];
      if (id.length === 0) throw fail('LAYER_FIELD_INVALID', `${path} line ${line} field ${idName}: expected a ${what} id, got ""`, path, line, idName);
      const v = parseNumber(fields[valueCol]);
      if (!(v >= 0 && v < Infinity)) {
        throw fail('LAYER_FIELD_INVALID', `${path} line ${line} (id ${id}) field ${valueName}: expected a number ≥ 0, got ${JSON.stringify(fields[valueCol])}`, path, line, valueName);
      }
      const seen = indexById.get(id);
      if (seen !== undefined) {
        throw fail('LAYER_FIELD_INVALID', `${path} line ${line} field ${idName}: ${what} id "${id}" appears twice (first on line ${lineOf[seen]})`, path, line, idName);
      }
      indexById.set(id, ids.length);
      ids.push(id);
      lineOf.push(line);
      values.push(v);
    },
  );
  return { file: path, idColumn: header[idCol], valueColumn: header[valueCol], ids, indexById, values: values.toArray() };
}

/**
 * Reads the matrix and the two tables into CSR arrays (see the file comment).
 *
 * @example
 * const data = await readTravelMatrix({ matrix: 'travel_matrix.csv', demand: 'land_use.csv', supply: 'land_use.csv',
 *   demandColumns: { value: 'population' }, supplyColumns: { value: 'schools' } });
 * const { access } = twoStepFca(data.matrix, data.demand, data.supply, { cutoffMin: 15 });
 */
export async function readTravelMatrix(options: ReadTravelMatrixOptions): Promise<TravelMatrixData> {
  if (options.unknownIds !== undefined && options.unknownIds !== 'error' && options.unknownIds !== 'skip') {
    throw new LifecircleError('ARGUMENT_INVALID', `unknownIds must be "error" or "skip", got ${JSON.stringify(options.unknownIds)}`, { field: 'unknownIds' });
  }
  const skip = options.unknownIds === 'skip';
  const textOptions = { delimiter: options.delimiter, encoding: options.encoding };
  const demand = await readValueTable(options.demand, 'demand', options.demandColumns, textOptions);
  const supply = await readValueTable(options.supply, 'supply', options.supplyColumns, textOptions);
  const path = options.matrix;
  const cols = options.matrixColumns ?? {};
  let oCol = -1;
  let dCol = -1;
  let tCol = -1;
  let need = 0;
  let header: string[] = [];
  const originIdx = new GrowableArray(Uint32Array, 1 << 16);
  const destIdx = new GrowableArray(Uint32Array, 1 << 16);
  const timeMin = new GrowableArray(Float64Array, 1 << 16);
  const lineNo = new GrowableArray(Uint32Array, 1 << 16);
  const originById = demand.indexById;
  const destById = supply.indexById;
  let rowCount = 0;
  let skippedRows = 0;
  let lastOriginText = '';
  let lastOrigin: number | undefined;
  await streamCsv(
    path,
    textOptions,
    (fields, line) => {
      header = fields;
      oCol = findColumn(path, fields, line, 'origin', cols.origin, ORIGIN_NAMES, 'matrixColumns.origin');
      dCol = findColumn(path, fields, line, 'destination', cols.destination, DEST_NAMES, 'matrixColumns.destination');
      tCol = findColumn(path, fields, line, 'travel time', cols.time, TIME_NAMES, 'matrixColumns.time');
      need = Math.max(oCol, dCol, tCol) + 1;
    },
    (fields, line) => {
      rowCount++;
      if (fields.length < need) {
        throw fail('LAYER_INVALID', `${path} line ${line}: ${fields.length} field(s), expected at least ${need} (the header has ${header.length})`, path, line);
      }
      // the hot path (a million rows): one or two map lookups and one number parse; matrices usually come
      // grouped by origin, so the last origin's text is compared first (cheaper than hashing it again)
      const oText = fields[oCol];
      let o: number | undefined;
      if (oText === lastOriginText) {
        o = lastOrigin;
      } else {
        o = originById.get(oText) ?? originById.get(oText.trim());
        lastOriginText = oText;
        lastOrigin = o;
      }
      const d = destById.get(fields[dCol]) ?? destById.get(fields[dCol].trim());
      if (o === undefined || d === undefined) {
        if (skip) {
          skippedRows++;
          return;
        }
        const [col, id, role, table] = o === undefined ? [oCol, fields[oCol], 'origin', demand] : [dCol, fields[dCol], 'destination', supply];
        throw fail(
          'LAYER_FIELD_INVALID',
          `${path} line ${line} field ${header[col]}: ${role} "${id.trim()}" is not in the ${role === 'origin' ? 'demand' : 'supply'} table ${table.file} (column ${table.idColumn}); add it there, or skip such rows with unknownIds: 'skip'`,
          path,
          line,
          header[col],
        );
      }
      const raw = fields[tCol];
      const t = parseNumber(raw);
      if (!(t >= 0 && t < Infinity)) {
        const why = t < 0 ? 'a travel time cannot be negative' : 'expected a number of minutes ≥ 0';
        throw fail('LAYER_FIELD_INVALID', `${path} line ${line} field ${header[tCol]}: ${why}, got ${JSON.stringify(raw)}`, path, line, header[tCol]);
      }
      originIdx.push(o);
      destIdx.push(d);
      timeMin.push(t);
      lineNo.push(line);
    },
  );
  const lines = lineNo.view();
  const oView = originIdx.view();
  const dView = destIdx.view();
  const matrix = travelMatrixFromPairs(demand.ids.length, supply.ids.length, oView, dView, timeMin.view(), (first, second) => {
    throw fail(
      'LAYER_FIELD_INVALID',
      `${path} line ${lines[second]}: duplicate pair (${header[oCol]} "${demand.ids[oView[second]]}", ${header[dCol]} "${supply.ids[dView[second]]}"), first given on line ${lines[first]}`,
      path,
      lines[second],
      `${header[oCol]}+${header[dCol]}`,
    );
  });
  return {
    matrix,
    originIds: demand.ids,
    destIds: supply.ids,
    originIndexById: demand.indexById,
    destIndexById: supply.indexById,
    demand: demand.values,
    supply: supply.values,
    rowCount,
    skippedRows,
  };
}

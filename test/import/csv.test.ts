/**
 * src/import/csv.ts against records and line numbers worked out by hand, and against csv-parse 6 (the
 * semantics its header promises) on random documents cut into random chunks.
 *
 *   node --import tsx --test test/import/csv.test.ts
 *
 * csv-parse's own `info.lines` is not the physical line a record starts on (it is counted at the record's end,
 * and counts a CR/LF pair inside a field twice), so the fuzz derives each record's start offset from csv-parse's
 * `info.bytes` (where the previous record ended, record delimiter included) and counts line endings before it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'csv-parse/sync';
import { CsvError, CsvParser, parseCsv } from '../../src/import/csv.ts';
import { mulberry32 } from '../../src/util/random.ts';

interface Parsed {
  records: string[][];
  lines: number[];
}

type ErrorKind = 'unclosed' | 'opening' | 'closing';

/** Feeds `chunks` to a fresh parser, then ends it. */
function parseChunks(chunks: readonly string[], delimiter = ','): Parsed {
  const parser = new CsvParser({ delimiter });
  const out: Parsed = { records: [], lines: [] };
  const add = (b: Parsed): void => {
    assert.equal(b.records.length, b.lines.length);
    out.records.push(...b.records);
    out.lines.push(...b.lines);
  };
  for (const c of chunks) add(parser.push(c));
  add(parser.end());
  return out;
}

/** `doc` cut at the (sorted) offsets `cuts`. */
function cut(doc: string, cuts: readonly number[]): string[] {
  const out: string[] = [];
  let prev = 0;
  for (const c of cuts) {
    out.push(doc.slice(prev, c));
    prev = c;
  }
  out.push(doc.slice(prev));
  return out;
}

function kindOf(e: CsvError): ErrorKind {
  if (/^unclosed quote/.test(e.message)) return 'unclosed';
  if (/^quote inside unquoted field/.test(e.message)) return 'opening';
  if (/after the closing quote/.test(e.message)) return 'closing';
  throw new Error(`unclassified CsvError message: ${e.message}`);
}

/** The CsvError that parsing `chunks` throws (failing if it throws nothing or something else). */
function parseError(chunks: readonly string[], delimiter = ','): { kind: ErrorKind; line: number } {
  try {
    parseChunks(chunks, delimiter);
  } catch (e) {
    assert.ok(e instanceof CsvError, `expected a CsvError, got ${String(e)}`);
    assert.equal(e.name, 'CsvError');
    return { kind: kindOf(e), line: e.line };
  }
  assert.fail(`expected a CsvError for ${JSON.stringify(chunks)}`);
}

/**
 * Checks `doc` parses to `records` starting on `lines`, whole, cut in two at every offset, cut in three at every
 * pair of offsets (short documents), one character per chunk, and with empty chunks in between.
 */
function check(doc: string, records: string[][], lines: number[], delimiter = ','): void {
  const expected: Parsed = { records, lines };
  const msg = (chunks: string[]): string => `${JSON.stringify(doc)} as chunks ${JSON.stringify(chunks)}`;
  const one = (chunks: string[]): void => assert.deepStrictEqual(parseChunks(chunks, delimiter), expected, msg(chunks));
  one([doc]);
  one(['', doc, '']);
  one([...doc]);
  one(doc.split('').flatMap((c) => [c, '']));
  for (let i = 0; i <= doc.length; i++) {
    one(cut(doc, [i]));
    if (doc.length <= 40) for (let j = i; j <= doc.length; j++) one(cut(doc, [i, j]));
  }
}

/** Like check(), for a document that must fail with `kind` at `line` however it is cut. */
function checkError(doc: string, kind: ErrorKind, line: number, delimiter = ','): void {
  const one = (chunks: string[]): void =>
    assert.deepStrictEqual(parseError(chunks, delimiter), { kind, line }, `${JSON.stringify(doc)} as chunks ${JSON.stringify(chunks)}`);
  one([doc]);
  one([...doc]);
  for (let i = 0; i <= doc.length; i++) one(cut(doc, [i]));
}

test('quoted fields hold the delimiter, CR, LF and doubled quotes', () => {
  // CRLF file; the quoted CRLF ends physical line 1, so the second record starts on line 3
  check('a,"b,c","d\r\ne","f""g"\r\nh,"",i\r\n', [['a', 'b,c', 'd\r\ne', 'f"g'], ['h', '', 'i']], [1, 3]);
  // LF file (the first CR/LF outside quotes is the LF after "p\rq"); the quoted LF and lone CR are both line ends
  check('"x\ny","p\rq"\nz\n', [['x\ny', 'p\rq'], ['z']], [1, 4]);
  check('"""",""""""\n"a""","""b"""\n', [['"', '""'], ['a"', '"b"']], [1, 2]);
  check('"",,""\n', [['', '', '']], [1]);
  check('"a"', [['a']], [1]);
  check('"a"""', [['a"']], [1]);
});

test('empty lines are skipped, in LF, CRLF and CR files', () => {
  check('\n\na,b\n\n\nc\n\n', [['a', 'b'], ['c']], [3, 6]);
  check('\r\n\r\na\r\n\r\nb\r\n', [['a'], ['b']], [3, 5]);
  check('\r\ra\r\rb', [['a'], ['b']], [3, 5]);
  check('\n', [], []);
  check('\r\n\r\n', [], []);
  check('', [], []);
});

test('a line of only "" or only delimiters is a record', () => {
  check('a\n""\nb', [['a'], [''], ['b']], [1, 2, 3]);
  check('a\r\n""', [['a'], ['']], [1, 2]);
  check('""', [['']], [1]);
  check(',,\n,', [['', '', ''], ['', '']], [1, 2]);
});

test('the last record needs no line ending', () => {
  check('a,b\nc,d', [['a', 'b'], ['c', 'd']], [1, 2]);
  check('a,', [['a', '']], [1]);
  check('a\r\nb,"c"', [['a'], ['b', 'c']], [1, 2]);
});

test('LF, CRLF and CR files', () => {
  check('id,name\n1,x\n2,y\n', [['id', 'name'], ['1', 'x'], ['2', 'y']], [1, 2, 3]);
  check('id,name\r\n1,x\r\n2,y\r\n', [['id', 'name'], ['1', 'x'], ['2', 'y']], [1, 2, 3]);
  check('id,name\r1,x\r2,y\r', [['id', 'name'], ['1', 'x'], ['2', 'y']], [1, 2, 3]);
  check('id,name\r1,x\r2,y', [['id', 'name'], ['1', 'x'], ['2', 'y']], [1, 2, 3]);
});

test('mixed line endings follow the record delimiter detected first (as documented)', () => {
  // LF file: a later CRLF leaves the CR in the last unquoted field ...
  check('a\nb\r\nc', [['a'], ['b\r'], ['c']], [1, 2, 3]);
  check('a\nb,c\r\nd\r\n', [['a'], ['b', 'c\r'], ['d\r']], [1, 2, 3]);
  // ... and is an error after a quoted one
  checkError('a\n"q"\r\nc', 'closing', 2);
  // CRLF file: a lone LF or CR is field content (but still a physical line end)
  check('a\r\nb\nc\r\n', [['a'], ['b\nc']], [1, 2]);
  check('a\r\nb\rc\r\nd', [['a'], ['b\rc'], ['d']], [1, 2, 4]);
  check('a\r\n\nb\r\nc', [['a'], ['\nb'], ['c']], [1, 2, 4]);
  // CR file: a LF after the CR is content of the next record's first field
  check('a\rb\nc\rd', [['a'], ['b\nc'], ['d']], [1, 2, 4]);
  check('a\rb\r\nc', [['a'], ['b'], ['\nc']], [1, 2, 3]);
  // leading empty lines decide the record delimiter too
  check('\na\r\nb', [['a\r'], ['b']], [2, 3]);
  check('\r\na\nb', [['a\nb']], [2]);
});

test('tab and semicolon delimiters', () => {
  check('a\tb,c\t"d\te"\n\t\n', [['a', 'b,c', 'd\te'], ['', '']], [1, 2], '\t');
  check('a;"b;c";d,e\r\n1;2', [['a', 'b;c', 'd,e'], ['1', '2']], [1, 2], ';');
  checkError('a,"b";c', 'opening', 1, ';');
});

test('Chinese text and characters outside the BMP, cut anywhere (even inside a surrogate pair)', () => {
  check('名称,地址\n"上海,浦东","中""文"\n𠀀,"𠀀\n𠀁"', [['名称', '地址'], ['上海,浦东', '中"文'], ['𠀀', '𠀀\n𠀁']], [1, 2, 3]);
  check('中;文\r\n', [['中', '文']], [1], ';');
});

test('fields are not trimmed; a BOM is part of the first field', () => {
  check(' a , b \n', [[' a ', ' b ']], [1]);
  check('\uFEFFa,b', [['\uFEFFa', 'b']], [1]);
  checkError('\uFEFF"a",b', 'opening', 1);
});

test('chunk edges: doubled quote, closing quote, CR of a CRLF', () => {
  // "" across two chunks
  assert.deepStrictEqual(parseChunks(['"a"', '"b",c\n']), { records: [['a"b', 'c']], lines: [1] });
  assert.deepStrictEqual(parseChunks(['"a"', '', '"', 'b"']), { records: [['a"b']], lines: [1] });
  // closing quote at a chunk's end
  assert.deepStrictEqual(parseChunks(['"a"', ',b']), { records: [['a', 'b']], lines: [1] });
  assert.deepStrictEqual(parseChunks(['x\n"a"', '\nb']), { records: [['x'], ['a'], ['b']], lines: [1, 2, 3] });
  // CR at a chunk's end in a CRLF file, in every state
  assert.deepStrictEqual(parseChunks(['a\r\nb\r', '\nc']), { records: [['a'], ['b'], ['c']], lines: [1, 2, 3] });
  assert.deepStrictEqual(parseChunks(['a\r\nb\r', 'x\r\n']), { records: [['a'], ['b\rx']], lines: [1, 2] });
  assert.deepStrictEqual(parseChunks(['a\r\n"b"\r', '\n"c"\r', '\n']), { records: [['a'], ['b'], ['c']], lines: [1, 2, 3] });
  assert.deepStrictEqual(parseChunks(['a\r\n\r', '\r\n']), { records: [['a'], ['\r']], lines: [1, 2] });
  assert.deepStrictEqual(parseChunks(['a\r\nb\r']), { records: [['a'], ['b\r']], lines: [1, 2] });
  // ... and before the record delimiter is known: the next chunk decides between CRLF and CR
  assert.deepStrictEqual(parseChunks(['a\r', '\nb\nc']), { records: [['a'], ['b\nc']], lines: [1, 2] });
  assert.deepStrictEqual(parseChunks(['a\r', 'b\nc']), { records: [['a'], ['b\nc']], lines: [1, 2] });
  assert.deepStrictEqual(parseChunks(['"a"\r', '\nb\rc']), { records: [['a'], ['b\rc']], lines: [1, 2] });
  assert.deepStrictEqual(parseChunks(['\r', '\na\r\n']), { records: [['a']], lines: [2] });
  assert.deepStrictEqual(parseChunks(['a\r']), { records: [['a']], lines: [1] });
  // a long field over many chunks
  const long = 'x'.repeat(1000);
  assert.deepStrictEqual(parseChunks(['1,', ...long.match(/.{1,7}/g)!, ',"', ...long.match(/.{1,9}/g)!, '"\n2']), {
    records: [['1', long, long], ['2']],
    lines: [1, 2],
  });
});

test('a document cut at random into many chunks', () => {
  const doc = 'a,"b,c","d\r\ne","f""g"\r\n\r\nh,"",i\r\n中,"x\ny"\r\n"""",\r\nlast';
  const expected = {
    records: [['a', 'b,c', 'd\r\ne', 'f"g'], ['h', '', 'i'], ['中', 'x\ny'], ['"', ''], ['last']],
    lines: [1, 4, 5, 7, 8],
  };
  check(doc, expected.records, expected.lines);
  const rnd = mulberry32(7);
  for (let n = 0; n < 300; n++) {
    const cuts = Array.from({ length: 1 + Math.floor(rnd() * 12) }, () => Math.floor(rnd() * (doc.length + 1))).sort((x, y) => x - y);
    assert.deepStrictEqual(parseChunks(cut(doc, cuts)), expected, JSON.stringify(cut(doc, cuts)));
  }
});

test('errors: unclosed quote, quote inside an unquoted field, junk after a closing quote', () => {
  // unclosed: the line of the opening quote
  checkError('a\n"b\nc\nd', 'unclosed', 2);
  checkError('a,"b', 'unclosed', 1);
  checkError('"a""', 'unclosed', 1);
  checkError('x\r\ny\r\n"a\r\n\r\nb","c', 'unclosed', 5);
  checkError('"', 'unclosed', 1);
  // quote inside an unquoted field: the line of that quote
  checkError('a\nb"c\n', 'opening', 2);
  checkError('a,b"', 'opening', 1);
  checkError('x\r\ny\r\nab"', 'opening', 3);
  checkError('a\r\nb\rc"d\r\n', 'opening', 3); // CRLF file: the lone CR still ends physical line 2
  checkError('\n\n a"', 'opening', 3);
  // junk after a closing quote: the line of the junk
  checkError('"a"b', 'closing', 1);
  checkError('x\n"a" ,b', 'closing', 2);
  checkError('"a\nb"c', 'closing', 2);
  checkError('"a"\r\n"b"\rc', 'closing', 2); // CRLF file: a lone CR is no record delimiter
  checkError('"a"\n"b"\r\n', 'closing', 2); // LF file
  checkError('"a""b"c"', 'closing', 1);
  // documented difference from csv-parse, which takes a NUL after the closing quote as field content
  checkError('"a"\0b', 'closing', 1);
  assert.deepStrictEqual(csvParse('"a"\0b', ',').map((r) => r.record), [['a\0b']]);
});

test('API: options, misuse, parseCsv', async () => {
  assert.throws(() => new CsvParser({ delimiter: '"' }), TypeError);
  assert.throws(() => new CsvParser({ delimiter: '\n' }), TypeError);
  assert.throws(() => new CsvParser({ delimiter: ',,' }), TypeError);
  assert.throws(() => new CsvParser({ delimiter: '' }), TypeError);
  const p = new CsvParser({ delimiter: ',' });
  p.end();
  assert.throws(() => p.push('a'));
  assert.throws(() => p.end());
  const e = new CsvError('m', 3);
  assert.ok(e instanceof Error);
  assert.equal(e.line, 3);

  async function* gen(chunks: string[]): AsyncGenerator<string> {
    yield* chunks;
  }
  const got: { fields: string[]; line: number }[] = [];
  for await (const r of parseCsv(gen(['a;"b', '\n";c\r\n\r', '\nd']), { delimiter: ';' })) got.push(r);
  assert.deepStrictEqual(got, [
    { fields: ['a', 'b\n', 'c'], line: 1 },
    { fields: ['d'], line: 4 },
  ]);
  await assert.rejects(async () => {
    for await (const _ of parseCsv(gen(['a\n', '"b']), { delimiter: ',' })) void _;
  }, (err: unknown) => err instanceof CsvError && err.line === 2);
});

// ---------------------------------------------------------------------------------------------------------
// Differential fuzz against csv-parse

interface Oracle {
  records?: string[][];
  lines?: number[];
  error?: { kind: ErrorKind; line: number };
}

const CODES: Record<string, ErrorKind> = {
  CSV_QUOTE_NOT_CLOSED: 'unclosed',
  INVALID_OPENING_QUOTE: 'opening',
  CSV_INVALID_CLOSING_QUOTE: 'closing',
};

function csvParse(doc: string, delimiter: string): { record: string[]; info: { bytes: number } }[] {
  return parse(doc, { delimiter, relax_column_count: true, skip_empty_lines: true, info: true }) as unknown as {
    record: string[];
    info: { bytes: number };
  }[];
}

/** `kind` of the csv-parse error on `doc`, or undefined if csv-parse accepts it. */
function csvParseErrorKind(doc: string, delimiter: string): ErrorKind | undefined {
  try {
    csvParse(doc, delimiter);
    return undefined;
  } catch (e) {
    const code = (e as { code?: string }).code ?? '';
    if (!(code in CODES)) throw e;
    return CODES[code];
  }
}

/** lineStart[i]: the physical line of offset i (each CR, and each LF not after a CR, ends a line). */
function lineTable(doc: string): number[] {
  const t = [1];
  let line = 1;
  for (let i = 0; i < doc.length; i++) {
    const c = doc[i];
    if (c === '\r' || (c === '\n' && doc[i - 1] !== '\r')) line++;
    t.push(line);
  }
  return t;
}

/** What CsvParser must return for `doc`, from csv-parse (records, error kind) and an independent line count. */
function oracle(doc: string, delimiter: string): Oracle {
  const lineOf = lineTable(doc);
  let out: { record: string[]; info: { bytes: number } }[];
  try {
    out = csvParse(doc, delimiter);
  } catch (e) {
    const code = (e as { code?: string }).code ?? '';
    const kind = CODES[code];
    if (kind === undefined) throw e;
    let pos: number;
    if (kind === 'unclosed') {
      // the unclosed field runs to the end of the text: a closing quote there makes it the last field
      const recs = csvParse(doc + '"', delimiter);
      const last = recs[recs.length - 1].record;
      pos = doc.length - last[last.length - 1].replaceAll('"', '""').length - 1;
      assert.equal(doc[pos], '"');
    } else {
      // csv-parse fails on reading the offending character (a quote, or the character after a quote): the shortest
      // prefix failing the same way ends there, unless it fails only because it ends in the CR of a CRLF (so the
      // next character must not mend it)
      const fails = (n: number): boolean => csvParseErrorKind(doc.slice(0, n), delimiter) === kind;
      const candidate = (i: number): boolean => (kind === 'opening' ? doc[i] === '"' : i > 0 && doc[i - 1] === '"');
      pos = 0;
      while (!(candidate(pos) && fails(pos + 1) && (pos + 1 === doc.length || fails(pos + 2)))) pos++;
    }
    return { error: { kind, line: lineOf[pos] } };
  }
  // UTF-16 offset of each UTF-8 byte offset that starts a character
  const charAt = new Map<number, number>();
  let b = 0;
  for (let i = 0; i < doc.length; i++) {
    charAt.set(b, i);
    const c = doc.codePointAt(i)!;
    b += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    if (c >= 0x10000) i++;
  }
  charAt.set(b, doc.length);
  const ends = out.map((r) => charAt.get(r.info.bytes)!);
  // the record delimiter: from a leading line ending, else from the end of the first record
  let rd = '';
  if (doc.startsWith('\r\n')) rd = '\r\n';
  else if (doc[0] === '\n' || doc[0] === '\r') rd = doc[0];
  else if (ends.length > 0) {
    const e = ends[0];
    if (doc.slice(e - 2, e) === '\r\n') rd = '\r\n';
    else if (doc[e - 1] === '\n' || doc[e - 1] === '\r') rd = doc[e - 1];
  }
  const lines: number[] = [];
  let start = 0;
  for (const e of ends) {
    while (rd !== '' && doc.startsWith(rd, start) && start < e) start += rd.length; // skipped empty lines
    lines.push(lineOf[start]);
    start = e;
  }
  return { records: out.map((r) => r.record), lines };
}

function actual(chunks: string[], delimiter: string): Oracle {
  try {
    return parseChunks(chunks, delimiter);
  } catch (e) {
    if (!(e instanceof CsvError)) throw e;
    return { error: { kind: kindOf(e), line: e.line } };
  }
}

/** A random document: `kind` 0 = raw characters, 1 = a few well-formed records, 2 = many records (mostly fast path). */
function randomDoc(rnd: () => number, kind: number, delimiter: string): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  if (kind === 0) {
    const alphabet = ['"', '"', '"', ',', ',', '\r', '\r', '\n', '\n', 'a', 'a', '中', delimiter];
    return Array.from({ length: Math.floor(rnd() * 24) }, () => pick(alphabet)).join('');
  }
  // records of well-formed fields, with a line ending fixed or random per record, then maybe a mutation or two
  const fixed = rnd() < 0.7 ? pick(['\n', '\r\n', '\r']) : '';
  const quoting = kind === 1 ? 0.5 : 0.1;
  const parts: string[] = [];
  const nrec = kind === 1 ? Math.floor(rnd() * 6) : 10 + Math.floor(rnd() * 30);
  for (let r = 0; r < nrec; r++) {
    if (rnd() < 0.15) parts.push(fixed || pick(['\n', '\r\n', '\r']));
    const nf = 1 + Math.floor(rnd() * 4);
    for (let f = 0; f < nf; f++) {
      if (f > 0) parts.push(delimiter);
      const content = Array.from({ length: Math.floor(rnd() * 6) }, () => pick(['a', '中', 'a', '"', ',', '\r', '\n', delimiter])).join('');
      if (rnd() < quoting) parts.push('"' + content.replaceAll('"', '""') + '"');
      else parts.push(content.replace(/["\r\n,]/g, '').replaceAll(delimiter, ''));
    }
    if (r < nrec - 1 || rnd() < 0.7) parts.push(fixed || pick(['\n', '\r\n', '\r']));
  }
  let doc = parts.join('');
  for (let m = rnd() < 0.3 ? 1 + Math.floor(rnd() * 2) : 0; m > 0; m--) {
    const i = Math.floor(rnd() * (doc.length + 1));
    doc = doc.slice(0, i) + pick(['"', '\r', '\n', ',', 'a']) + doc.slice(i + (rnd() < 0.5 ? 1 : 0));
  }
  return doc;
}

test('a long document in 4 KiB chunks agrees with csv-parse', () => {
  const rnd = mulberry32(99);
  const field = (): string => {
    const t = Array.from({ length: Math.floor(rnd() * 12) }, () => 'ab中,"\r\n '[Math.floor(rnd() * 10)]).join('');
    return rnd() < 0.3 ? '"' + t.replaceAll('"', '""') + '"' : t.replace(/[",\r\n]/g, '');
  };
  for (const eol of ['\n', '\r\n', '\r']) {
    const rows = Array.from({ length: 1500 }, () => Array.from({ length: 1 + Math.floor(rnd() * 6) }, field).join(','));
    const doc = rows.join(eol) + eol;
    const chunks = doc.match(/[^]{1,4096}/g)!;
    const want = oracle(doc, ',');
    assert.ok(want.records && want.records.length > 1400 && chunks.length > 3);
    assert.deepStrictEqual(parseChunks(chunks), want);
  }
});

test('differential fuzz against csv-parse: records, line numbers and errors, in random chunks', () => {
  // CSV_FUZZ_SEED / CSV_FUZZ_N run other or more documents (e.g. after changing csv.ts)
  const seed = Number(process.env.CSV_FUZZ_SEED ?? 20240607);
  const N = Number(process.env.CSV_FUZZ_N ?? 2500);
  const rnd = mulberry32(seed);
  const stats = { errors: 0, records: 0, chunkings: 0 };
  // most of the time would go to capturing the stacks of the errors thrown and caught here
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    for (let n = 0; n < N; n++) {
      const delimiter = n % 7 === 3 ? [';', '\t', '中', 'a', ' '][Math.floor(n / 7) % 5] : ',';
      const doc = randomDoc(rnd, n % 10 < 4 ? 0 : n % 10 < 8 ? 1 : 2, delimiter);
      const want = oracle(doc, delimiter);
      if (want.error) stats.errors++;
      else stats.records += want.records!.length;
      const chunkings: string[][] = [[doc]];
      for (let k = 0; k < 2; k++) {
        const cuts = Array.from({ length: Math.floor(rnd() * (k === 0 ? 3 : 12)) }, () => Math.floor(rnd() * (doc.length + 1)));
        chunkings.push(cut(doc, cuts.sort((x, y) => x - y)));
      }
      if (n % 10 === 0) chunkings.push([...doc]);
      for (const chunks of chunkings) {
        stats.chunkings++;
        const got = actual(chunks, delimiter);
        assert.deepStrictEqual(got, want, `seed ${seed} #${n}, delimiter ${JSON.stringify(delimiter)}, chunks ${JSON.stringify(chunks)}`);
      }
    }
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
  if (process.env.CSV_FUZZ_N) console.log(`${N} documents, ${stats.chunkings} chunkings, ${stats.errors} errors, ${stats.records} records`);
  // the generator must exercise both outcomes
  assert.ok(stats.errors > N / 5 && stats.errors < (N * 4) / 5, `${stats.errors} of ${N} documents fail`);
  assert.ok(stats.records > 2 * N, `${stats.records} records`);
});

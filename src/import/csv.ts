/**
 * A lean streaming RFC 4180 CSV parser, specialised for the import path (csv-parse's Transform stream,
 * per-byte state machine and per-field callbacks cost ~1.8 µs of a 10 µs/row budget).
 *
 * Semantics are those of csv-parse 6 with `{ delimiter, relax_column_count: true, skip_empty_lines: true }`
 * and otherwise default options; test/import/csv.test.ts checks the two agree on random documents cut
 * into random chunks, errors included:
 *
 * - A field that starts with `"` is quoted: it runs to the next lone `"`, may hold the delimiter, CR and LF,
 *   and `""` inside it stands for one `"`. After the closing quote only the delimiter, the record delimiter
 *   or the end of the text may follow; anything else is an error. A `"` anywhere in an unquoted field (i.e.
 *   not its first character) is an error. Unquoted fields are returned exactly as written: no trimming.
 * - Record delimiter: like csv-parse with no `record_delimiter` option, it is detected from the first CR or LF
 *   outside quotes — `\r\n` (CRLF), `\n` (LF) or a lone `\r` (CR, old Mac) — and from then on only that
 *   sequence ends records. Consequences in files that mix line endings (all as csv-parse): in an LF file a
 *   later `\r\n` leaves the `\r` at the end of the record's last unquoted field (or is an error after a quoted
 *   one); in a CRLF file a lone `\n` (or `\r`) is field content, so `a\r\nb\nc\r\n` is the records
 *   ["a"], ["b\nc"]; in a CR file a `\n` after the `\r` is content of the next record's first field.
 * - Empty lines (a record delimiter where a record would start) are skipped; a line holding only `""` or
 *   only delimiters is a record. The last record needs no trailing record delimiter.
 * - No BOM handling (the caller strips it): a leading U+FEFF is part of the first field, and makes a quoted
 *   first field an error (csv-parse with its default `bom: false` does the same).
 * - One deliberate difference: a NUL character right after a closing quote is an error like any other junk there,
 *   while csv-parse 6 mistakes it for the end of its buffer (a `!nextChr` test) and keeps it as field content
 *   (`"a"\0b` is the record ["a\0b"] there).
 * - Line numbers are physical lines, 1-based, counted the way an editor shows them: each `\r\n`, `\n` and
 *   lone `\r` ends a line wherever it stands (inside quoted fields too), whatever the record delimiter is.
 *
 * Fields are `slice`s of the chunk text; V8 may keep a field longer than 12 characters as a view into the
 * chunk, so holding on to a few fields of each chunk long after parsing keeps those chunks alive.
 */

export interface CsvOptions {
  /** The field delimiter: one character (one UTF-16 code unit), not `"`, CR or LF. */
  delimiter: string;
}

/** Malformed CSV: `line` is the 1-based physical line of the offending character (the opening quote for an unclosed one). */
export class CsvError extends Error {
  readonly line: number;
  constructor(message: string, line: number) {
    super(message);
    this.name = 'CsvError';
    this.line = line;
  }
}

export interface CsvBatch {
  /** The records completed by this call, each an array of fields. */
  records: string[][];
  /** For each record, the 1-based physical line on which it starts. */
  lines: number[];
}

const QUOTE = 34;
const CR = 13;
const LF = 10;

// parser states between characters
const S_RECORD = 0; // no record in progress
const S_FIELD = 1; // a record is in progress and the next character starts a field
const S_UNQUOTED = 2; // inside an unquoted field; `acc` holds its text from earlier chunks
const S_QUOTED = 3; // inside a quoted field; `acc` holds its (unescaped) text so far
const S_CLOSED = 4; // just after the closing quote of a quoted field (text in `acc`)

// record delimiters
const M_UNKNOWN = 0; // no CR/LF seen outside quotes yet
const M_LF = 1;
const M_CRLF = 2;
const M_CR = 3;
const MODE_NAME = ['', 'LF (\\n)', 'CRLF (\\r\\n)', 'CR (\\r)'];

/** s.indexOf(ch, from), with "not found" as s.length so that a lazy index never needs recomputing. */
function find(s: string, ch: string, from: number, len: number): number {
  const i = s.indexOf(ch, from);
  return i < 0 ? len : i;
}

export class CsvParser {
  private readonly delim: string;
  private readonly delimCode: number;
  /** Unparsed text: the tail of earlier chunks that could not be decided yet (at most a field's worth), plus the new chunk. */
  private buf = '';
  private state = S_RECORD;
  private mode = M_UNKNOWN;
  private record: string[] = [];
  private recordLine = 0;
  private acc = '';
  private quoteLine = 0;
  private ended = false;
  // Physical line counting: `line` is the line at position `lp` of `buf`; `prevCR` says whether the character
  // just before `buf` was a CR (so that a LF starting `buf` completes a CRLF instead of ending a line).
  private line = 1;
  private lp = 0;
  private prevCR = false;
  // next CR / LF at or after `lp` in `buf` (lazy; -1 = to be computed), for line counting only
  private lCR = -1;
  private lLF = -1;

  constructor(options: CsvOptions) {
    const d = options.delimiter;
    if (typeof d !== 'string' || d.length !== 1) throw new TypeError(`CSV delimiter must be one character, got ${JSON.stringify(d)}`);
    const c = d.charCodeAt(0);
    if (c === QUOTE || c === CR || c === LF || (c >= 0xd800 && c <= 0xdfff)) {
      throw new TypeError(`CSV delimiter cannot be ${JSON.stringify(d)}`);
    }
    this.delim = d;
    this.delimCode = c;
  }

  /** Parses a chunk and returns the records it completed. Throws CsvError on malformed text (the parser is then unusable). */
  push(chunk: string): CsvBatch {
    if (this.ended) throw new Error('CsvParser: push() after end()');
    this.buf = this.buf.length === 0 ? chunk : this.buf + chunk;
    const out: CsvBatch = { records: [], lines: [] };
    this.run(false, out);
    return out;
  }

  /** Parses what is left and returns the last records, including a final record without a trailing newline. */
  end(): CsvBatch {
    if (this.ended) throw new Error('CsvParser: end() called twice');
    this.ended = true;
    const out: CsvBatch = { records: [], lines: [] };
    this.run(true, out);
    switch (this.state) {
      case S_QUOTED:
        throw new CsvError(`unclosed quote starting at line ${this.quoteLine}`, this.quoteLine);
      case S_FIELD: // text ended right after a delimiter
        this.record.push('');
        break;
      case S_UNQUOTED:
      case S_CLOSED:
        this.record.push(this.acc);
        break;
      default:
        return out;
    }
    out.records.push(this.record);
    out.lines.push(this.recordLine);
    this.record = [];
    this.acc = '';
    this.state = S_RECORD;
    return out;
  }

  /** Advances the line count to position `to` of `buf` (to >= lp). */
  private sync(to: number): void {
    const lp = this.lp;
    if (to <= lp) return;
    const s = this.buf;
    const len = s.length;
    if (this.lCR < lp) this.lCR = find(s, '\r', lp, len);
    if (this.lLF < lp) this.lLF = find(s, '\n', lp, len);
    this.lp = to;
    let i = this.lCR < this.lLF ? this.lCR : this.lLF;
    if (i >= to) return;
    let prevCR = i > 0 ? s.charCodeAt(i - 1) === CR : this.prevCR;
    let n = 0;
    for (; i < to; i++) {
      const c = s.charCodeAt(i);
      if (c === CR) {
        n++;
        prevCR = true;
      } else {
        if (c === LF && !prevCR) n++;
        prevCR = false;
      }
    }
    this.line += n;
  }

  private lineAt(pos: number): number {
    this.sync(pos);
    return this.line;
  }

  /**
   * At `p`, which holds a CR or LF outside quotes: the length of the record delimiter there (detecting it if
   * not known yet), 0 if this CR/LF is not one (mere field content), -1 if the next chunk must decide.
   */
  private delimiterAt(s: string, p: number, final: boolean): number {
    const c = s.charCodeAt(p);
    switch (this.mode) {
      case M_LF:
        return c === LF ? 1 : 0;
      case M_CR:
        return c === CR ? 1 : 0;
      case M_CRLF:
        if (c !== CR) return 0;
        if (p + 1 < s.length) return s.charCodeAt(p + 1) === LF ? 2 : 0;
        return final ? 0 : -1;
      default:
        if (c === LF) {
          this.mode = M_LF;
          return 1;
        }
        if (p + 1 < s.length) {
          if (s.charCodeAt(p + 1) === LF) {
            this.mode = M_CRLF;
            return 2;
          }
        } else if (!final) {
          return -1;
        }
        this.mode = M_CR;
        return 1;
    }
  }

  private run(final: boolean, out: CsvBatch): void {
    const s = this.buf;
    const len = s.length;
    const delim = this.delim;
    const delimCode = this.delimCode;
    const records = out.records;
    const lines = out.lines;
    this.lCR = -1;
    this.lLF = -1;
    // lazy "next occurrence at or after p" indexes, recomputed only once p has passed them (len = none left)
    let nQ = -1;
    let nD = -1;
    let nCR = -1;
    let nLF = -1;
    let nCRLF = -1;
    let p = 0;
    scan: for (;;) {
      switch (this.state) {
        case S_RECORD: {
          const mode = this.mode;
          if (mode !== M_UNKNOWN) {
            // Fast path: whole records with no quote, cut at the known record delimiter and split at delimiters.
            const tl = mode === M_CRLF ? 2 : 1;
            for (;;) {
              if (p >= len) break scan;
              let e: number;
              let clean: boolean; // no CR/LF in the record but its delimiter: the line count just goes up by one
              if (mode === M_LF) {
                if (nLF < p) nLF = find(s, '\n', p, len);
                e = nLF;
                if (e >= len) break;
                if (nCR < p) nCR = find(s, '\r', p, len);
                clean = nCR > e;
              } else if (mode === M_CRLF) {
                if (nCRLF < p) nCRLF = s.indexOf('\r\n', p);
                if (nCRLF < 0) nCRLF = len;
                e = nCRLF;
                if (e >= len) break;
                if (nCR < p) nCR = find(s, '\r', p, len);
                if (nLF < p) nLF = find(s, '\n', p, len);
                clean = nCR === e && nLF === e + 1;
              } else {
                if (nCR < p) nCR = find(s, '\r', p, len);
                e = nCR;
                if (e >= len) break;
                if (nLF < p) nLF = find(s, '\n', p, len);
                clean = nLF > e;
              }
              if (nQ < p) nQ = find(s, '"', p, len);
              if (nQ < e) break;
              this.sync(p);
              const line = this.line;
              if (clean) {
                this.line = line + 1;
                this.lp = e + tl;
              } else {
                this.sync(e + tl);
              }
              if (e > p) {
                const fields: string[] = [];
                let f = p;
                for (;;) {
                  if (nD < f) nD = find(s, delim, f, len);
                  if (nD >= e) break;
                  fields.push(s.slice(f, nD));
                  f = nD + 1;
                }
                fields.push(s.slice(f, e));
                records.push(fields);
                lines.push(line);
              }
              p = e + tl;
            }
          }
          // General path: a record with quotes, not yet complete in `buf`, or before the line ending is known.
          if (p >= len) break scan;
          const c = s.charCodeAt(p);
          if (c === CR || c === LF) {
            const t = this.delimiterAt(s, p, final);
            if (t < 0) break scan;
            if (t > 0) {
              p += t; // empty line
              continue;
            }
          }
          this.recordLine = this.lineAt(p);
          this.record = [];
          this.state = S_FIELD;
          continue;
        }
        case S_FIELD: {
          if (p >= len) break scan;
          this.acc = '';
          if (s.charCodeAt(p) === QUOTE) {
            this.quoteLine = this.lineAt(p);
            this.state = S_QUOTED;
            p++;
          } else {
            this.state = S_UNQUOTED;
          }
          continue;
        }
        case S_UNQUOTED: {
          if (nD < p) nD = find(s, delim, p, len);
          let e: number; // the next CR/LF that may end the record
          switch (this.mode) {
            case M_LF:
              if (nLF < p) nLF = find(s, '\n', p, len);
              e = nLF;
              break;
            case M_CR:
              if (nCR < p) nCR = find(s, '\r', p, len);
              e = nCR;
              break;
            case M_CRLF:
              if (nCRLF < p) nCRLF = s.indexOf('\r\n', p);
              if (nCRLF < 0) nCRLF = len;
              e = nCRLF;
              break;
            default:
              if (nCR < p) nCR = find(s, '\r', p, len);
              if (nLF < p) nLF = find(s, '\n', p, len);
              e = nCR < nLF ? nCR : nLF;
          }
          const end = nD < e ? nD : e;
          if (nQ < p) nQ = find(s, '"', p, len);
          if (nQ < end) {
            const line = this.lineAt(nQ);
            throw new CsvError(
              `quote inside unquoted field ${this.record.length + 1} at line ${line}: a field holding " must be quoted as a whole, with each " inside it doubled`,
              line,
            );
          }
          if (end >= len) {
            // the field goes on in the next chunk; keep a final CR back in case a LF follows
            let k = len;
            if (!final && this.mode === M_CRLF && len > p && s.charCodeAt(len - 1) === CR) k = len - 1;
            this.acc += s.slice(p, k);
            p = k;
            break scan;
          }
          if (end === nD) {
            this.record.push(this.acc + s.slice(p, end));
            this.acc = '';
            p = end + 1;
            this.state = S_FIELD;
            continue;
          }
          const t = this.mode === M_UNKNOWN ? this.delimiterAt(s, e, final) : this.mode === M_CRLF ? 2 : 1;
          if (t < 0) {
            this.acc += s.slice(p, e);
            p = e;
            break scan;
          }
          this.record.push(this.acc + s.slice(p, e));
          this.acc = '';
          records.push(this.record);
          lines.push(this.recordLine);
          this.record = [];
          p = e + t;
          this.state = S_RECORD;
          continue;
        }
        case S_QUOTED: {
          if (nQ < p) nQ = find(s, '"', p, len);
          const q = nQ;
          if (q >= len) {
            this.acc += s.slice(p);
            p = len;
            break scan;
          }
          if (q + 1 >= len && !final) {
            // is it `""` or the closing quote? The next chunk tells.
            this.acc += s.slice(p, q);
            p = q;
            break scan;
          }
          if (q + 1 < len && s.charCodeAt(q + 1) === QUOTE) {
            this.acc += s.slice(p, q + 1);
            p = q + 2;
            continue;
          }
          this.acc += s.slice(p, q);
          p = q + 1;
          this.state = S_CLOSED;
          continue;
        }
        case S_CLOSED: {
          if (p >= len) break scan;
          const c = s.charCodeAt(p);
          if (c === delimCode) {
            this.record.push(this.acc);
            this.acc = '';
            p++;
            this.state = S_FIELD;
            continue;
          }
          if (c === CR || c === LF) {
            const t = this.delimiterAt(s, p, final);
            if (t < 0) break scan;
            if (t > 0) {
              this.record.push(this.acc);
              this.acc = '';
              records.push(this.record);
              lines.push(this.recordLine);
              this.record = [];
              p += t;
              this.state = S_RECORD;
              continue;
            }
          }
          const line = this.lineAt(p);
          const newline = c === CR || c === LF ? ` (the record delimiter, detected from the first line ending, is ${MODE_NAME[this.mode]})` : '';
          throw new CsvError(
            `${JSON.stringify(String.fromCodePoint(s.codePointAt(p)!))} after the closing quote of field ${this.record.length + 1} at line ${line}: expected ${JSON.stringify(delim)} or the end of the line${newline}`,
            line,
          );
        }
      }
    }
    // keep what is undecided (from p on) for the next chunk
    this.sync(p);
    if (p > 0) {
      this.prevCR = s.charCodeAt(p - 1) === CR;
      this.buf = p < len ? s.slice(p) : '';
      this.lp = 0;
    }
  }
}

/** Records of the CSV text in `chunks`, each with the 1-based physical line it starts on. Throws CsvError on malformed text. */
export async function* parseCsv(chunks: AsyncIterable<string>, options: CsvOptions): AsyncGenerator<{ fields: string[]; line: number }> {
  const parser = new CsvParser(options);
  for await (const chunk of chunks) {
    const { records, lines } = parser.push(chunk);
    for (let i = 0; i < records.length; i++) yield { fields: records[i], line: lines[i] };
  }
  const { records, lines } = parser.end();
  for (let i = 0; i < records.length; i++) yield { fields: records[i], line: lines[i] };
}

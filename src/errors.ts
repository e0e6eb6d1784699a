/**
 * One error table for the whole project (after Valhalla's exceptions.cc): every error a user can meet has a
 * stable key, a numeric code grouped by stage (1xx import, 2xx network, 3xx analysis, 9xx CLI/usage) and the
 * HTTP status an API would answer with. Messages name the file, the record and the field, then got vs expected.
 */
export const ERROR_TABLE = {
  // 1xx import
  FILE_NOT_FOUND: { code: 100, status: 404 },
  FILE_EMPTY: { code: 101, status: 400 },
  FILE_NOT_OSM: { code: 102, status: 400 },
  FILE_TRUNCATED: { code: 103, status: 400 },
  PBF_CORRUPT_BLOCK: { code: 104, status: 400 },
  PBF_UNSUPPORTED: { code: 105, status: 400 },
  XML_MALFORMED: { code: 106, status: 400 },
  LAYER_INVALID: { code: 110, status: 400 },
  LAYER_FIELD_INVALID: { code: 111, status: 400 },
  RULES_INVALID: { code: 120, status: 400 },
  // 2xx network
  GRAPH_EMPTY: { code: 200, status: 422 },
  GRAPH_FILE_INVALID: { code: 201, status: 400 },
  GRAPH_VERSION_UNSUPPORTED: { code: 202, status: 400 },
  MODE_UNKNOWN: { code: 203, status: 400 },
  MODE_NOT_IN_GRAPH: { code: 204, status: 400 },
  // 3xx analysis
  POINT_INVALID: { code: 300, status: 400 },
  POINT_NOT_SNAPPED: { code: 301, status: 422 },
  BUDGET_INVALID: { code: 302, status: 400 },
  // 9xx usage
  ARGUMENT_INVALID: { code: 900, status: 400 },
} as const;

export type ErrorKey = keyof typeof ERROR_TABLE;

export class LifecircleError extends Error {
  readonly key: ErrorKey;
  readonly code: number;
  readonly status: number;
  /** Where it happened, when known: the file, the record (e.g. "way 123", "row 118") and the field. */
  readonly file?: string;
  readonly record?: string;
  readonly field?: string;

  constructor(key: ErrorKey, message: string, where: { file?: string; record?: string; field?: string } = {}) {
    super(message);
    this.name = 'LifecircleError';
    this.key = key;
    this.code = ERROR_TABLE[key].code;
    this.status = ERROR_TABLE[key].status;
    this.file = where.file;
    this.record = where.record;
    this.field = where.field;
  }

  /** The one JSON error shape used by the CLI (`--json`) and, later, the HTTP API. */
  toJSON() {
    return {
      ok: false,
      error: { key: this.key, code: this.code, message: this.message, file: this.file, record: this.record, field: this.field },
      status: this.status,
    };
  }
}

/**
 * Collects warnings capped per kind, so a file with 40,000 bad references reports the first few of each
 * kind plus an exact count instead of flooding the terminal (after R5's per-category error collection).
 */
export class WarningLog {
  readonly capPerKind: number;
  private readonly counts = new Map<string, number>();
  private readonly kept: Warning[] = [];

  constructor(capPerKind = 20) {
    this.capPerKind = capPerKind;
  }

  add(kind: string, message: string, where: { file?: string; record?: string; field?: string } = {}): void {
    const n = (this.counts.get(kind) ?? 0) + 1;
    this.counts.set(kind, n);
    if (n <= this.capPerKind) this.kept.push({ kind, message, ...where });
  }

  /** Exact number of warnings of each kind, including those past the cap. */
  countsByKind(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  total(): number {
    let t = 0;
    for (const n of this.counts.values()) t += n;
    return t;
  }

  /** The kept warnings (at most capPerKind of each kind), in the order they were met. */
  list(): readonly Warning[] {
    return this.kept;
  }

  /** Human-readable lines: kept warnings, then "... and N more <kind>" lines for each capped kind. */
  format(): string[] {
    const lines = this.kept.map((w) => `warning [${w.kind}] ${w.message}`);
    for (const [kind, n] of this.counts) {
      if (n > this.capPerKind) lines.push(`warning [${kind}] ... and ${n - this.capPerKind} more of this kind`);
    }
    return lines;
  }
}

export interface Warning {
  kind: string;
  message: string;
  file?: string;
  record?: string;
  field?: string;
}

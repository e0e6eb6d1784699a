import pg from 'pg';
import { LifecircleError } from '../errors.ts';
import { storedResultFromRow } from './store.ts';
import type { RecordKind } from '../model/records.ts';
import type { AssessmentRunMeta, BatchMeta, BatchSummary, BatchWriter, ProjectStore, RecordsByKind, StoredGap, StoredResult, StoreStatus } from './store.ts';

/**
 * The server engine: the same repository on PostgreSQL 15 + PostGIS, chosen by a postgres:// URL. A project
 * is a schema (`?schema=name` in the URL, default `lifecircle`), so one database can hold several. Geometry
 * columns are PostGIS geometry(…, 4326) with GiST indexes; lon/lat are kept beside them so that both
 * engines return identical numbers.
 */
const MIGRATIONS: Array<{ version: number; sql: string }> = [
  {
    version: 1,
    sql: `
CREATE TABLE project (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE batches (
  id bigserial PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('units','facilities','sites','population')),
  source text NOT NULL, file text NOT NULL, file_sha256 text NOT NULL, file_bytes bigint NOT NULL,
  crs text NOT NULL, mapping jsonb NOT NULL, note text, attribution text,
  imported_at text NOT NULL, inserted integer NOT NULL DEFAULT 0, updated integer NOT NULL DEFAULT 0
);
CREATE TABLE admin_units (
  code text PRIMARY KEY,
  level text NOT NULL CHECK (level IN ('district','subdistrict','committee')),
  name text NOT NULL,
  parent_code text REFERENCES admin_units(code) DEFERRABLE INITIALLY DEFERRED,
  boundary geometry(MultiPolygon, 4326),
  centre_lon double precision, centre_lat double precision,
  centre_kind text CHECK (centre_kind IN ('given','computed')),
  source text NOT NULL, source_id text NOT NULL, source_row integer NOT NULL,
  batch_id bigint NOT NULL REFERENCES batches(id),
  UNIQUE (source, source_id)
);
CREATE INDEX admin_units_boundary ON admin_units USING gist (boundary);
CREATE TABLE facilities (
  id bigserial PRIMARY KEY,
  category text NOT NULL, name text,
  lon double precision NOT NULL, lat double precision NOT NULL,
  geom geometry(Point, 4326) GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED,
  capacity double precision, capacity_unit text, building_area_m2 double precision, land_area_m2 double precision,
  status text NOT NULL CHECK (status IN ('existing','under_construction','planned','closed')),
  opening_year integer, operator text,
  unit_code text REFERENCES admin_units(code) DEFERRABLE INITIALLY DEFERRED,
  original_crs text NOT NULL, original_x double precision NOT NULL, original_y double precision NOT NULL,
  source text NOT NULL, source_id text NOT NULL, source_row integer NOT NULL,
  batch_id bigint NOT NULL REFERENCES batches(id),
  UNIQUE (source, source_id)
);
CREATE INDEX facilities_geom ON facilities USING gist (geom);
CREATE INDEX facilities_category ON facilities (category);
CREATE TABLE sites (
  id bigserial PRIMARY KEY,
  name text, lon double precision NOT NULL, lat double precision NOT NULL,
  geom geometry(Point, 4326) GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED,
  floor_area_m2 double precision, land_area_m2 double precision, owner text, reuse_kinds text NOT NULL, cost_cny double precision,
  unit_code text REFERENCES admin_units(code) DEFERRABLE INITIALLY DEFERRED,
  original_crs text NOT NULL, original_x double precision NOT NULL, original_y double precision NOT NULL,
  source text NOT NULL, source_id text NOT NULL, source_row integer NOT NULL,
  batch_id bigint NOT NULL REFERENCES batches(id),
  UNIQUE (source, source_id)
);
CREATE INDEX sites_geom ON sites USING gist (geom);
CREATE TABLE population (
  id bigserial PRIMARY KEY,
  zone_id text NOT NULL, zone_kind text NOT NULL CHECK (zone_kind IN ('unit','building','grid','address')),
  unit_code text REFERENCES admin_units(code) DEFERRABLE INITIALLY DEFERRED,
  lon double precision, lat double precision,
  year integer NOT NULL, age_group text NOT NULL, count double precision NOT NULL CHECK (count >= 0),
  estimated boolean NOT NULL, method text,
  source text NOT NULL, source_id text NOT NULL, source_row integer NOT NULL,
  batch_id bigint NOT NULL REFERENCES batches(id),
  UNIQUE (source, source_id)
);
CREATE INDEX population_unit ON population (unit_code);
`,
  },
  {
    version: 2,
    sql: `
CREATE TABLE assessment_runs (
  id bigserial PRIMARY KEY,
  created_at text NOT NULL,
  catalogue_version text NOT NULL, catalogue_sha256 text NOT NULL,
  graph_file text NOT NULL, graph_sha256 text NOT NULL,
  batch_ids text NOT NULL, options text NOT NULL, inputs_key text NOT NULL
);
CREATE TABLE assessment_results (
  run_id bigint NOT NULL REFERENCES assessment_runs(id) ON DELETE CASCADE,
  rule_id text NOT NULL, level text NOT NULL, unit_code text NOT NULL,
  verdict text NOT NULL CHECK (verdict IN ('pass','fail','not-applicable')),
  value double precision, threshold double precision NOT NULL,
  target_residents double precision NOT NULL, unserved_residents double precision NOT NULL, off_network_residents double precision NOT NULL,
  facilities integer NOT NULL, ages_apportioned integer NOT NULL, estimated_population integer NOT NULL, note text,
  PRIMARY KEY (run_id, rule_id, level, unit_code)
);
CREATE TABLE assessment_gaps (
  run_id bigint NOT NULL REFERENCES assessment_runs(id) ON DELETE CASCADE,
  rule_id text NOT NULL, unit_code text NOT NULL, level text NOT NULL,
  shortfall double precision NOT NULL, unserved_residents double precision NOT NULL, en text NOT NULL, zh text NOT NULL, homes text NOT NULL,
  PRIMARY KEY (run_id, rule_id, unit_code)
);
`,
  },
];

export const PG_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

interface Columns {
  table: string;
  /** record field → column, in insert order */
  fields: Array<[string, string, string]>; // [record field, column, SQL type for unnest]
  conflict: string;
}

const COLUMNS: Record<RecordKind, Columns> = {
  units: {
    table: 'admin_units',
    conflict: 'code',
    fields: [
      ['code', 'code', 'text'], ['level', 'level', 'text'], ['name', 'name', 'text'], ['parentCode', 'parent_code', 'text'], ['boundary', 'boundary', 'text'],
      ['centreLon', 'centre_lon', 'float8'], ['centreLat', 'centre_lat', 'float8'], ['centreKind', 'centre_kind', 'text'],
      ['source', 'source', 'text'], ['sourceId', 'source_id', 'text'], ['sourceRow', 'source_row', 'int4'],
    ],
  },
  facilities: {
    table: 'facilities',
    conflict: 'source, source_id',
    fields: [
      ['category', 'category', 'text'], ['name', 'name', 'text'], ['lon', 'lon', 'float8'], ['lat', 'lat', 'float8'], ['capacity', 'capacity', 'float8'],
      ['capacityUnit', 'capacity_unit', 'text'], ['buildingAreaM2', 'building_area_m2', 'float8'], ['landAreaM2', 'land_area_m2', 'float8'], ['status', 'status', 'text'],
      ['openingYear', 'opening_year', 'int4'], ['operator', 'operator', 'text'], ['unitCode', 'unit_code', 'text'], ['originalCrs', 'original_crs', 'text'],
      ['originalX', 'original_x', 'float8'], ['originalY', 'original_y', 'float8'], ['source', 'source', 'text'], ['sourceId', 'source_id', 'text'], ['sourceRow', 'source_row', 'int4'],
    ],
  },
  sites: {
    table: 'sites',
    conflict: 'source, source_id',
    fields: [
      ['name', 'name', 'text'], ['lon', 'lon', 'float8'], ['lat', 'lat', 'float8'], ['floorAreaM2', 'floor_area_m2', 'float8'], ['landAreaM2', 'land_area_m2', 'float8'],
      ['owner', 'owner', 'text'], ['reuseKinds', 'reuse_kinds', 'text'], ['costCny', 'cost_cny', 'float8'], ['unitCode', 'unit_code', 'text'], ['originalCrs', 'original_crs', 'text'],
      ['originalX', 'original_x', 'float8'], ['originalY', 'original_y', 'float8'], ['source', 'source', 'text'], ['sourceId', 'source_id', 'text'], ['sourceRow', 'source_row', 'int4'],
    ],
  },
  population: {
    table: 'population',
    conflict: 'source, source_id',
    fields: [
      ['zoneId', 'zone_id', 'text'], ['zoneKind', 'zone_kind', 'text'], ['unitCode', 'unit_code', 'text'], ['lon', 'lon', 'float8'], ['lat', 'lat', 'float8'],
      ['year', 'year', 'int4'], ['ageGroup', 'age_group', 'text'], ['count', 'count', 'float8'], ['estimated', 'estimated', 'bool'], ['method', 'method', 'text'],
      ['source', 'source', 'text'], ['sourceId', 'source_id', 'text'], ['sourceRow', 'source_row', 'int4'],
    ],
  },
};

/** One multi-row upsert per flush: unnest() of column arrays, the fastest parameterised bulk path without COPY. */
function upsertSql(kind: RecordKind): string {
  const c = COLUMNS[kind];
  const cols = c.fields.map((f) => f[1]);
  const unnest = c.fields.map((f, i) => `$${i + 1}::${f[2]}[]`).join(', ');
  const select = c.fields.map((f) => (f[1] === 'boundary' ? 'ST_Multi(ST_GeomFromGeoJSON(u.boundary))' : `u.${f[1]}`)).join(', ');
  const keys = c.conflict.split(', ');
  const set = [...cols.filter((col) => !keys.includes(col)), 'batch_id'].map((col) => (col === 'boundary' ? `boundary = COALESCE(excluded.boundary, ${c.table}.boundary)` : `${col} = excluded.${col}`));
  return `INSERT INTO ${c.table} (${cols.join(', ')}, batch_id)
    SELECT ${select}, $${c.fields.length + 1}::bigint FROM unnest(${unnest}) AS u(${cols.join(', ')})
    ON CONFLICT (${c.conflict}) DO UPDATE SET ${set.join(', ')}
    WHERE ${c.table}.batch_id <> excluded.batch_id
    RETURNING (xmax = 0) AS inserted, ${kind === 'units' ? 'code' : 'source_id'} AS key`;
}

function fieldValue(kind: RecordKind, field: string, r: Record<string, unknown>): unknown {
  const v = r[field];
  if (v === undefined) return null;
  if (field === 'boundary') return v ? JSON.stringify(v) : null;
  if (field === 'reuseKinds') return (v as string[]).join(',');
  return v;
}

const FLUSH_ROWS = 5000;

export class PostgisStore implements ProjectStore {
  readonly engine = 'postgis' as const;
  readonly location: string;
  private readonly pool: pg.Pool;
  readonly schema: string;

  private constructor(location: string, pool: pg.Pool, schema: string) {
    this.location = location;
    this.pool = pool;
    this.schema = schema;
  }

  /** Connects (and checks PostGIS is there); the schema comes from `?schema=` (default "lifecircle"). */
  static async connect(url: string): Promise<PostgisStore> {
    const u = new URL(url);
    const schema = u.searchParams.get('schema') ?? 'lifecircle';
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new LifecircleError('ARGUMENT_INVALID', `${redact(url)}: schema "${schema}" must be a lower-case SQL identifier`, { field: 'schema' });
    u.searchParams.delete('schema');
    const pool = new pg.Pool({ connectionString: u.toString(), max: 2 });
    try {
      await pool.query('SELECT postgis_lib_version()');
    } catch (e) {
      await pool.end();
      throw new LifecircleError('FILE_NOT_FOUND', `${redact(url)}: cannot use PostgreSQL/PostGIS (${(e as Error).message}); is the server running, with the postgis extension? (scripts/setup-postgres.sh)`, { file: redact(url) });
    }
    return new PostgisStore(redact(url), pool, schema);
  }

  private async version(client: pg.PoolClient | pg.Pool = this.pool): Promise<number> {
    // probe with to_regclass: a failing query would abort an enclosing transaction
    const exists = await client.query('SELECT to_regclass($1) IS NOT NULL AS e', [`${this.schema}.project`]);
    if (!exists.rows[0].e) return 0;
    const r = await client.query(`SELECT value FROM ${this.schema}.project WHERE key = 'schema_version'`);
    return r.rows.length > 0 ? Number(r.rows[0].value) : 0;
  }

  async init(project: Record<string, string> = {}): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      await client.query(`SET LOCAL search_path TO ${this.schema}, public`);
      // serialise concurrent inits of the same project
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [this.schema]);
      const current = await this.version(client);
      if (current > PG_SCHEMA_VERSION) throw new LifecircleError('GRAPH_VERSION_UNSUPPORTED', `${this.location} schema ${this.schema}: version ${current} is newer than this lifecircle's ${PG_SCHEMA_VERSION}`);
      for (const m of MIGRATIONS) if (m.version > current) await client.query(m.sql);
      const put = `INSERT INTO project (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`;
      await client.query(put, ['schema_version', String(PG_SCHEMA_VERSION)]);
      if (current === 0) await client.query(put, ['created_at', new Date().toISOString()]);
      for (const [k, v] of Object.entries(project)) await client.query(put, [k, v]);
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      client.release();
    }
  }

  async schemaVersion(): Promise<number> {
    return this.version();
  }

  private async requireSchema(): Promise<void> {
    if ((await this.version()) === 0) throw new LifecircleError('FILE_NOT_FOUND', `${this.location} schema ${this.schema}: not a lifecircle project; create one with: lifecircle init`, { file: this.location });
  }

  async beginBatch<K extends RecordKind>(meta: BatchMeta & { kind: K }): Promise<BatchWriter<K>> {
    await this.requireSchema();
    const client = await this.pool.connect();
    await client.query('BEGIN');
    await client.query(`SET LOCAL search_path TO ${this.schema}, public`);
    const batchId = Number(
      (
        await client.query(
          `INSERT INTO batches (kind, source, file, file_sha256, file_bytes, crs, mapping, note, attribution, imported_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
          [meta.kind, meta.source, meta.file, meta.fileSha256, meta.fileBytes, meta.crs, JSON.stringify(meta.mapping), meta.note ?? null, meta.attribution ?? null, new Date().toISOString()],
        )
      ).rows[0].id,
    );
    const cols = COLUMNS[meta.kind].fields;
    const sql = upsertSql(meta.kind);
    let buffer: Record<string, unknown>[] = [];
    let bufferKeys = new Set<string>();
    const duplicates: Array<{ sourceId: string; sourceRow: number }> = [];
    let inserted = 0;
    let updated = 0;
    let open = true;
    const keyOf = (r: Record<string, unknown>) => (meta.kind === 'units' ? String(r.code) : String(r.sourceId));
    const flush = async () => {
      if (buffer.length === 0) return;
      const arrays = cols.map(([field]) => buffer.map((r) => fieldValue(meta.kind, field, r)));
      const res = await client.query(sql, [...arrays, batchId]);
      // rows this batch had already written are left alone (WHERE batch_id <>) and so not returned
      const returned = new Set<string>();
      for (const row of res.rows) {
        row.inserted ? inserted++ : updated++;
        returned.add(String(row.key));
      }
      for (const r of buffer) if (!returned.has(keyOf(r))) duplicates.push({ sourceId: keyOf(r), sourceRow: Number(r.sourceRow) });
      buffer = [];
      bufferKeys = new Set();
    };
    const end = async (sqlEnd: 'COMMIT' | 'ROLLBACK') => {
      open = false;
      try {
        await client.query(sqlEnd);
      } finally {
        client.release();
      }
    };
    return {
      write: async (record) => {
        const r = record as unknown as Record<string, unknown>;
        // one INSERT … ON CONFLICT may not touch a row twice: catch duplicates inside a buffer here
        if (bufferKeys.has(keyOf(r))) return 'duplicate';
        bufferKeys.add(keyOf(r));
        buffer.push(r);
        if (buffer.length >= FLUSH_ROWS) await flush();
        return 'written';
      },
      flush: async () => {
        await flush();
        return duplicates.splice(0);
      },
      commit: async () => {
        if (!open) throw new Error('batch already finished');
        try {
          await flush();
          await client.query('UPDATE batches SET inserted = $1, updated = $2 WHERE id = $3', [inserted, updated, batchId]);
        } catch (e) {
          await end('ROLLBACK');
          throw new LifecircleError('LAYER_INVALID', `${meta.file}: the batch could not be written (${(e as Error).message}); nothing was written`, { file: meta.file });
        }
        const importedAt = (await client.query('SELECT imported_at FROM batches WHERE id = $1', [batchId])).rows[0].imported_at as string;
        try {
          await end('COMMIT');
        } catch (e) {
          throw new LifecircleError('LAYER_INVALID', `${meta.file}: the batch could not be committed (${(e as Error).message}); nothing was written`, { file: meta.file });
        }
        return { ...meta, id: batchId, importedAt, inserted, updated };
      },
      rollback: async () => {
        if (open) await end('ROLLBACK');
      },
    };
  }

  async saveAssessment(run: AssessmentRunMeta, results: StoredResult[], gaps: StoredGap[]): Promise<number> {
    await this.requireSchema();
    const s = this.schema;
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const id = Number(
        (await client.query(`INSERT INTO ${s}.assessment_runs (created_at, catalogue_version, catalogue_sha256, graph_file, graph_sha256, batch_ids, options, inputs_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
          [run.createdAt, run.catalogueVersion, run.catalogueSha256, run.graphFile, run.graphSha256, JSON.stringify(run.batchIds), JSON.stringify(run.options), run.inputsKey])).rows[0].id,
      );
      // multi-row inserts, 500 rows a statement (one round trip each)
      for (let i = 0; i < results.length; i += 500) {
        const chunk = results.slice(i, i + 500);
        const values: unknown[] = [];
        const groups = chunk.map((x, k) => {
          values.push(id, x.ruleId, x.level, x.unitCode, x.verdict, x.value === null || !Number.isFinite(x.value) ? null : x.value, x.threshold, x.targetResidents, x.unservedResidents, x.offNetworkResidents, x.facilities, x.agesApportioned ? 1 : 0, x.estimatedPopulation ? 1 : 0, x.note);
          return `(${Array.from({ length: 14 }, (_, c) => `$${k * 14 + c + 1}`).join(', ')})`;
        });
        await client.query(`INSERT INTO ${s}.assessment_results VALUES ${groups.join(', ')}`, values);
      }
      for (let i = 0; i < gaps.length; i += 500) {
        const chunk = gaps.slice(i, i + 500);
        const values: unknown[] = [];
        const groups = chunk.map((x, k) => {
          values.push(id, x.ruleId, x.unitCode, x.level, x.shortfall, x.unservedResidents, x.en, x.zh, JSON.stringify(x.homes));
          return `(${Array.from({ length: 9 }, (_, c) => `$${k * 9 + c + 1}`).join(', ')})`;
        });
        await client.query(`INSERT INTO ${s}.assessment_gaps VALUES ${groups.join(', ')}`, values);
      }
      await client.query('COMMIT');
      return id;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      client.release();
    }
  }

  async assessmentRuns(): Promise<Array<AssessmentRunMeta & { id: number }>> {
    await this.requireSchema();
    return (await this.pool.query(`SELECT * FROM ${this.schema}.assessment_runs ORDER BY id`)).rows.map((r) => ({
      id: Number(r.id), createdAt: String(r.created_at), catalogueVersion: String(r.catalogue_version), catalogueSha256: String(r.catalogue_sha256),
      graphFile: String(r.graph_file), graphSha256: String(r.graph_sha256), batchIds: JSON.parse(String(r.batch_ids)), options: JSON.parse(String(r.options)), inputsKey: String(r.inputs_key),
    }));
  }

  async assessmentResults(runId: number): Promise<StoredResult[]> {
    await this.requireSchema();
    return (await this.pool.query(`SELECT * FROM ${this.schema}.assessment_results WHERE run_id = $1 ORDER BY rule_id COLLATE "C", level COLLATE "C", unit_code COLLATE "C"`, [runId])).rows.map(storedResultFromRow);
  }

  async unitCodes(): Promise<Map<string, { level: string; name: string }>> {
    await this.requireSchema();
    const r = await this.pool.query(`SELECT code, level, name FROM ${this.schema}.admin_units`);
    return new Map(r.rows.map((x) => [x.code as string, { level: x.level as string, name: x.name as string }]));
  }

  async *records<K extends RecordKind>(kind: K): AsyncIterable<RecordsByKind[K] & { batchId: number }> {
    await this.requireSchema();
    const c = COLUMNS[kind];
    const key = kind === 'units' ? 'code' : 'id';
    const select = c.fields.map(([, col]) => (col === 'boundary' ? 'ST_AsGeoJSON(boundary, 15) AS boundary' : col)).join(', ');
    let last: string | number | null = null;
    for (;;) {
      const r: pg.QueryResult = await this.pool.query(
        `SELECT ${key} AS _key, ${select}, batch_id FROM ${this.schema}.${c.table} ${last === null ? '' : `WHERE ${key} > $1`} ORDER BY ${key} LIMIT 5000`,
        last === null ? [] : [last],
      );
      for (const row of r.rows) {
        const rec: Record<string, unknown> = { batchId: Number(row.batch_id) };
        for (const [field, col] of c.fields) {
          let v = row[col];
          if (col === 'boundary') v = v ? JSON.parse(v) : null;
          else if (col === 'reuse_kinds') v = String(v).split(',').filter(Boolean);
          else if (col === 'source_row' || col === 'year' || col === 'opening_year') v = v === null ? null : Number(v);
          rec[field] = v;
        }
        yield rec as unknown as RecordsByKind[K] & { batchId: number };
      }
      if (r.rows.length < 5000) break;
      last = r.rows[r.rows.length - 1]._key;
    }
  }

  async count(kind: RecordKind): Promise<number> {
    await this.requireSchema();
    return Number((await this.pool.query(`SELECT count(*) AS n FROM ${this.schema}.${COLUMNS[kind].table}`)).rows[0].n);
  }

  async status(): Promise<StoreStatus> {
    await this.requireSchema();
    const s = this.schema;
    const project = Object.fromEntries((await this.pool.query(`SELECT key, value FROM ${s}.project WHERE key <> 'schema_version' ORDER BY key`)).rows.map((r) => [r.key, r.value]));
    const counts = {} as Record<RecordKind, number>;
    const sources: StoreStatus['sources'] = [];
    for (const kind of Object.keys(COLUMNS) as RecordKind[]) {
      counts[kind] = await this.count(kind);
      const rows = (
        await this.pool.query(
          `SELECT t.source, count(*) AS records, count(DISTINCT t.batch_id) AS batches, max(b.imported_at) AS last
           FROM ${s}.${COLUMNS[kind].table} t JOIN ${s}.batches b ON b.id = t.batch_id GROUP BY t.source ORDER BY t.source`,
        )
      ).rows;
      for (const r of rows) sources.push({ kind, source: r.source, records: Number(r.records), batches: Number(r.batches), lastImport: r.last });
    }
    const batches = (await this.pool.query(`SELECT * FROM ${s}.batches ORDER BY id`)).rows.map((b) => ({
      id: Number(b.id), kind: b.kind as RecordKind, source: b.source, file: b.file, fileSha256: b.file_sha256, fileBytes: Number(b.file_bytes), crs: b.crs,
      mapping: b.mapping, note: b.note ?? undefined, attribution: b.attribution ?? undefined, importedAt: b.imported_at, inserted: b.inserted, updated: b.updated,
    }));
    return { engine: 'postgis', location: this.location, schemaVersion: await this.schemaVersion(), project, counts, sources, batches };
  }

  /** Drops the project's schema (tests, and `lifecircle init --replace`). */
  async dropProject(): Promise<void> {
    await this.pool.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

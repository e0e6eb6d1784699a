/**
 * pgRouting peer for lifecircle's bounded-Dijkstra "reach" (see README.md).
 *
 * Loads the exchange edge list (`source,target,time_s`) into a session temp
 * table with pgRouting's columns `id, source, target, cost, reverse_cost`
 * (reverse_cost = -1: arcs are already directed; pgRouting drops arcs with a
 * negative cost) and runs `pgr_drivingDistance(edges_sql, start_vid, distance,
 * directed => true)` once per origin, as a user would.
 *
 * Cutoff semantics (pgRouting 3.4.2, verified): inclusive. A node is returned
 * iff its agg_cost <= distance, compared exactly in float8 (no epsilon): on the
 * path 0-100->1-100->2 a distance of 200 returns node 2 and 199.999 does not;
 * with arcs 0.1 and 0.2 a distance of 0.3 excludes the node at
 * 0.30000000000000004. The start vertex is always returned with agg_cost 0,
 * even when it has no arcs or is not in the edge set at all.
 *
 * CLI (mirrors networkx_reach.py):
 *   node --import tsx bench/peers/pgrouting.ts --edges e.csv --origins o.json \
 *        --budget 900 --mode check|bench [--multi-start] [--url postgres://...]
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import pg from 'pg';

export const DEFAULT_PG_URL = 'postgres://lifecircle:lifecircle@127.0.0.1:5432/lifecircle';

/** Rows per INSERT ... SELECT FROM unnest(...) batch. */
const BATCH_ROWS = 20_000;
const EDGE_TABLE = 'pg_temp.lifecircle_peer_edges';
const EDGES_SQL = `SELECT id, source, target, cost, reverse_cost FROM ${EDGE_TABLE}`;

export function resolvePgUrl(url?: string): string {
  return url ?? process.env.LIFECIRCLE_PG_URL ?? DEFAULT_PG_URL;
}

/** Connection string with the password masked, for messages. */
function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}

function errMessage(e: unknown): string {
  if (e instanceof AggregateError && e.errors.length > 0) {
    return e.errors.map(errMessage).join('; ');
  }
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}

async function connect(url: string, connectTimeoutMs = 5000): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs });
  try {
    await client.connect();
  } catch (e) {
    await client.end().catch(() => {});
    throw e;
  }
  return client;
}

/** Is PostgreSQL reachable with the pgRouting extension installed in the database? */
export async function pgroutingAvailable(
  url?: string,
): Promise<{ ok: true; version: string } | { ok: false; why: string }> {
  const u = resolvePgUrl(url);
  let client: pg.Client;
  try {
    client = await connect(u, 3000);
  } catch (e) {
    return {
      ok: false,
      why: `cannot connect to ${redact(u)}: ${errMessage(e)} (start it with: sudo bash scripts/setup-postgres.sh)`,
    };
  }
  try {
    const r = await client.query<{ v: string }>('SELECT pgr_version() AS v');
    return { ok: true, version: r.rows[0].v };
  } catch (e) {
    return {
      ok: false,
      why: `connected to ${redact(u)} but pgRouting is not usable: ${errMessage(e)} (run scripts/setup-postgres.sh)`,
    };
  } finally {
    await client.end().catch(() => {});
  }
}

export interface PgroutingReachOptions {
  url?: string;
  mode: 'check' | 'bench';
  /**
   * 'per-origin' (default): one `pgr_drivingDistance(sql, vid, d)` call per origin.
   * 'multi-start': a single call with `ARRAY[origins]` (equicost => false), which
   * returns the same per-origin reaches (column from_v) but builds the graph once.
   */
  variant?: 'per-origin' | 'multi-start';
}

export interface PgroutingReachResult {
  tool: 'pgRouting';
  version: string;
  variant: 'per-origin' | 'multi-start';
  /** CSV parse + temp table fill + ANALYZE (connection set-up excluded). */
  loadSeconds: number;
  /** Wall time of the query calls only (incl. transfer and parsing of result rows). */
  seconds: number;
  /** origins.length / seconds (queries = origins, whichever variant). */
  queriesPerSecond: number;
  /** Present in check mode: per-origin reached node -> shortest time (s). */
  results?: Array<{ origin: number; reached: Map<number, number> }>;
  reachedTotal: number;
  arcs: number;
}

/** Stream the exchange CSV, calling `flush` with column batches of up to BATCH_ROWS. */
async function readEdgeBatches(
  path: string,
  flush: (src: number[], dst: number[], cost: number[]) => Promise<void>,
): Promise<number> {
  const rl = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let lineno = 0;
  let total = 0;
  let src: number[] = [];
  let dst: number[] = [];
  let cost: number[] = [];
  for await (const raw of rl) {
    lineno++;
    const line = raw.trim();
    if (lineno === 1) {
      if (line.replace(/\s+/g, '') !== 'source,target,time_s') {
        throw new Error(`${path}: expected header "source,target,time_s", got "${line}"`);
      }
      continue;
    }
    if (line === '') continue;
    const parts = line.split(',');
    if (parts.length !== 3) throw new Error(`${path}:${lineno}: expected 3 fields, got ${parts.length}`);
    const s = Number(parts[0]);
    const t = Number(parts[1]);
    const w = Number(parts[2]);
    if (!Number.isSafeInteger(s) || !Number.isSafeInteger(t) || s < 0 || t < 0) {
      throw new Error(`${path}:${lineno}: node ids must be non-negative integers`);
    }
    if (!Number.isFinite(w) || w < 0) throw new Error(`${path}:${lineno}: time_s must be finite and >= 0`);
    src.push(s);
    dst.push(t);
    cost.push(w);
    total++;
    if (src.length >= BATCH_ROWS) {
      await flush(src, dst, cost);
      src = [];
      dst = [];
      cost = [];
    }
  }
  if (src.length > 0) await flush(src, dst, cost);
  return total;
}

/** (Re)create the temp edge table on this session and fill it from the CSV. */
async function loadEdges(client: pg.Client, edgesCsvPath: string): Promise<number> {
  await client.query(`DROP TABLE IF EXISTS ${EDGE_TABLE}`);
  await client.query(
    `CREATE TEMP TABLE lifecircle_peer_edges (
       id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
       source bigint NOT NULL,
       target bigint NOT NULL,
       cost float8 NOT NULL,
       reverse_cost float8 NOT NULL DEFAULT -1
     )`,
  );
  // Parallel arcs are loaded as-is: pgRouting's Dijkstra relaxes each of them,
  // so the minimum wins, exactly like keeping only the minimum arc.
  // Numbers are sent as text with JS's shortest round-trip repr, so float8 is exact.
  const arcs = await readEdgeBatches(edgesCsvPath, async (src, dst, cost) => {
    await client.query(
      `INSERT INTO ${EDGE_TABLE} (source, target, cost, reverse_cost)
       SELECT s, t, c, -1 FROM unnest($1::bigint[], $2::bigint[], $3::float8[]) AS u(s, t, c)`,
      [src, dst, cost],
    );
  });
  await client.query(`ANALYZE ${EDGE_TABLE}`);
  return arcs;
}

function checkOrigins(origins: number[], budgetS: number): void {
  for (const o of origins) {
    if (!Number.isSafeInteger(o) || o < 0) throw new Error(`origin ${o} is not a non-negative integer node id`);
  }
  if (!Number.isFinite(budgetS) || budgetS < 0) throw new Error(`budget ${budgetS} must be finite and >= 0`);
}

/**
 * Reach from each origin within `budgetS` seconds (inclusive) using pgRouting.
 * In 'check' mode the per-origin node -> time maps are returned; in 'bench' mode
 * rows are still fetched (as a user would) but only counted.
 */
export async function pgroutingReach(
  edgesCsvPath: string,
  origins: number[],
  budgetS: number,
  opts: PgroutingReachOptions = { mode: 'check' },
): Promise<PgroutingReachResult> {
  checkOrigins(origins, budgetS);
  const variant = opts.variant ?? 'per-origin';
  const url = resolvePgUrl(opts.url);
  let client: pg.Client;
  try {
    client = await connect(url);
  } catch (e) {
    throw new Error(`pgRouting peer: cannot connect to ${redact(url)}: ${errMessage(e)}`);
  }
  try {
    const version = (await client.query<{ v: string }>('SELECT pgr_version() AS v')).rows[0].v;

    const tLoad = performance.now();
    const arcs = await loadEdges(client, edgesCsvPath);
    const loadSeconds = (performance.now() - tLoad) / 1000;

    const check = opts.mode === 'check';
    const maps = new Map<number, Map<number, number>>();
    let reachedTotal = 0;

    const tQuery = performance.now();
    if (variant === 'per-origin') {
      for (const o of origins) {
        const r = await client.query<[string, number]>({
          text: 'SELECT node, agg_cost FROM pgr_drivingDistance($1, $2::bigint, $3::float8, directed => true)',
          values: [EDGES_SQL, o, budgetS],
          rowMode: 'array',
        });
        reachedTotal += r.rows.length;
        if (check) {
          const m = new Map<number, number>();
          for (const [node, cost] of r.rows) m.set(Number(node), cost);
          maps.set(o, m);
        }
      }
    } else if (origins.length > 0) {
      // pgRouting 3.4 runs every start vid, duplicates included (verified), so the
      // row count equals the per-origin variant's total; rows are grouped by from_v.
      const r = await client.query<[string, string, number]>({
        text:
          'SELECT from_v, node, agg_cost FROM pgr_drivingDistance($1, $2::bigint[], $3::float8, directed => true, equicost => false)',
        values: [EDGES_SQL, origins, budgetS],
        rowMode: 'array',
      });
      if (check) {
        for (const [fromV, node, cost] of r.rows) {
          const f = Number(fromV);
          let m = maps.get(f);
          if (!m) maps.set(f, (m = new Map()));
          m.set(Number(node), cost);
        }
      }
      reachedTotal = r.rows.length;
    }
    const seconds = (performance.now() - tQuery) / 1000;

    let results: PgroutingReachResult['results'];
    if (check) {
      results = origins.map((o) => {
        // pgRouting always returns the start vertex at 0 (verified on 3.4.2, even for a
        // vertex absent from the edge set); guarantee it regardless of version.
        const src = maps.get(o);
        const reached = new Map(src ?? []);
        if (!reached.has(o)) reached.set(o, 0);
        return { origin: o, reached };
      });
    }

    return {
      tool: 'pgRouting',
      version,
      variant,
      loadSeconds,
      seconds,
      queriesPerSecond: seconds > 0 ? origins.length / seconds : Number.POSITIVE_INFINITY,
      results,
      reachedTotal,
      arcs,
    };
  } finally {
    await client.end().catch(() => {});
  }
}

// ---------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------

function parseArgs(argv: string[]): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const key = a.slice(2);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) out[key] = true;
    else {
      out[key] = next;
      i++;
    }
  }
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const edges = args.edges;
  const originsPath = args.origins;
  const budget = Number(args.budget);
  const mode = args.mode;
  if (typeof edges !== 'string' || typeof originsPath !== 'string' || !Number.isFinite(budget) || (mode !== 'check' && mode !== 'bench')) {
    process.stderr.write(
      'usage: node --import tsx bench/peers/pgrouting.ts --edges e.csv --origins o.json --budget 900 --mode check|bench [--multi-start] [--url URL]\n',
    );
    process.exit(2);
  }
  const origins: unknown = JSON.parse(await readFile(originsPath, 'utf8'));
  if (!Array.isArray(origins) || !origins.every((o) => Number.isSafeInteger(o))) {
    throw new Error(`${originsPath}: expected a JSON array of integer node ids`);
  }
  const res = await pgroutingReach(edges, origins as number[], budget, {
    mode,
    url: typeof args.url === 'string' ? args.url : undefined,
    variant: args['multi-start'] ? 'multi-start' : 'per-origin',
  });
  if (mode === 'check') {
    const out = {
      results: (res.results ?? []).map((r) => ({ origin: r.origin, reached: Object.fromEntries(r.reached) })),
    };
    process.stdout.write(JSON.stringify(out) + '\n');
  } else {
    const { results: _omit, ...summary } = res;
    process.stdout.write(JSON.stringify({ ...summary, queries: origins.length }) + '\n');
  }
}

const invokedPath = process.argv[1];
if (invokedPath && import.meta.url === pathToFileURL(invokedPath).href) {
  main().catch((e: unknown) => {
    process.stderr.write(`pgrouting: ${errMessage(e)}\n`);
    process.exit(1);
  });
}

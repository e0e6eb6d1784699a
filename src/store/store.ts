import type { AdminUnitRecord, CandidateSiteRecord, FacilityRecord, PopulationRecord, RecordKind } from '../model/records.ts';

/** What one import batch was: recorded with every record it wrote, so numbers trace back to files. */
export interface BatchMeta {
  kind: RecordKind;
  source: string;
  file: string;
  fileSha256: string;
  fileBytes: number;
  crs: string;
  /** The field mapping used, as given or detected (JSON-serialisable). */
  mapping: Record<string, string>;
  note?: string;
  /** The data's attribution, shown wherever the product shows or exports it (e.g. "© OpenStreetMap contributors, ODbL 1.0"). */
  attribution?: string;
}

export interface BatchSummary extends BatchMeta {
  id: number;
  importedAt: string;
  inserted: number;
  updated: number;
}

export interface RecordsByKind {
  units: AdminUnitRecord;
  facilities: FacilityRecord;
  sites: CandidateSiteRecord;
  population: PopulationRecord;
}

/**
 * Writes one batch inside one transaction: nothing is visible (or kept, after a crash) until commit().
 * A record whose (source, sourceId) is already stored replaces it (re-imports update, never duplicate).
 */
export interface BatchWriter<K extends RecordKind> {
  /** 'duplicate' when this batch already wrote a record with the same (source, sourceId): nothing changes. */
  write(record: RecordsByKind[K]): Promise<'written' | 'duplicate'>;
  /**
   * Writes anything buffered and returns the duplicates found doing so (engines that write in bulk only
   * learn of them then). Call before commit.
   */
  flush(): Promise<Array<{ sourceId: string; sourceRow: number }>>;
  commit(): Promise<BatchSummary>;
  rollback(): Promise<void>;
}

/** One assessment run: what it was run on (so a re-run on the same inputs can be recognised and compared). */
export interface AssessmentRunMeta {
  createdAt: string;
  catalogueVersion: string;
  catalogueSha256: string;
  graphFile: string;
  graphSha256: string;
  /** Import batches the homes, facilities and units came from. */
  batchIds: number[];
  /** Options that change results (statuses counted, scope, population source …). */
  options: Record<string, unknown>;
  /** sha256 over all the above but createdAt: equal keys = same inputs. */
  inputsKey: string;
}

export interface StoredResult {
  ruleId: string;
  level: string;
  unitCode: string;
  verdict: string;
  value: number | null;
  threshold: number;
  targetResidents: number;
  unservedResidents: number;
  offNetworkResidents: number;
  facilities: number;
  agesApportioned: boolean;
  estimatedPopulation: boolean;
  note: string | null;
}

export interface StoredGap {
  ruleId: string;
  unitCode: string;
  level: string;
  shortfall: number;
  unservedResidents: number;
  en: string;
  zh: string;
  /** The unserved homes, as JSON-serialisable objects. */
  homes: unknown[];
}

export interface StoreStatus {
  engine: 'sqlite' | 'postgis';
  location: string;
  schemaVersion: number;
  project: Record<string, string>;
  counts: Record<RecordKind, number>;
  /** Records per kind and source, with their batches. */
  sources: Array<{ kind: RecordKind; source: string; records: number; batches: number; lastImport: string }>;
  batches: BatchSummary[];
}

/**
 * The project's repository: one interface, two engines (SQLite embedded by default; PostgreSQL/PostGIS as a
 * server, chosen by a postgres:// URL). Async so that both engines fit.
 */
export interface ProjectStore {
  readonly engine: 'sqlite' | 'postgis';
  readonly location: string;
  /** Creates the schema or migrates it to the current version; records project settings. */
  init(project?: Record<string, string>): Promise<void>;
  schemaVersion(): Promise<number>;
  beginBatch<K extends RecordKind>(meta: BatchMeta & { kind: K }): Promise<BatchWriter<K>>;
  unitCodes(): Promise<Map<string, { level: string; name: string }>>;
  /** Every stored record of a kind, in a stable order (by id or code). */
  records<K extends RecordKind>(kind: K): AsyncIterable<RecordsByKind[K] & { batchId: number }>;
  count(kind: RecordKind): Promise<number>;
  status(): Promise<StoreStatus>;
  /** Stores an assessment run with its results and gaps in one transaction; returns the run id. */
  saveAssessment(run: AssessmentRunMeta, results: StoredResult[], gaps: StoredGap[]): Promise<number>;
  /** Stored runs, oldest first. */
  assessmentRuns(): Promise<Array<AssessmentRunMeta & { id: number }>>;
  /** A run's results, ordered by rule, level and unit. */
  assessmentResults(runId: number): Promise<StoredResult[]>;
  close(): Promise<void>;
}

/** A stored result row (either engine's column names) as a StoredResult. */
export function storedResultFromRow(r: Record<string, unknown>): StoredResult {
  return {
    ruleId: String(r.rule_id), level: String(r.level), unitCode: String(r.unit_code), verdict: String(r.verdict),
    value: r.value === null ? null : Number(r.value), threshold: Number(r.threshold), targetResidents: Number(r.target_residents),
    unservedResidents: Number(r.unserved_residents), offNetworkResidents: Number(r.off_network_residents), facilities: Number(r.facilities),
    agesApportioned: Boolean(Number(r.ages_apportioned)), estimatedPopulation: Boolean(Number(r.estimated_population)), note: r.note === null ? null : String(r.note),
  };
}

import type { WarningLog } from '../errors.ts';

/** OSM tags of one element. */
export type Tags = Record<string, string>;

/**
 * Receives OSM elements as a reader streams them. Readers call `node` for every node (tags is null when the
 * node has none, which is most of them) and `way` for every way; relations are skipped. Objects passed in are
 * not retained by the reader, so a sink that keeps them must copy what it needs.
 */
export interface OsmSink {
  node(id: number, lon: number, lat: number, tags: Tags | null): void;
  way(id: number, refs: readonly number[], tags: Tags): void;
}

export interface OsmReadOptions {
  /** Called now and then with bytes consumed so far and the file size, for progress bars. */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Where per-element problems (coordinates out of range, ...) are reported; they never abort the read. */
  warnings?: WarningLog;
}

export interface OsmReadStats {
  format: 'pbf' | 'xml';
  bytes: number;
  nodes: number;
  ways: number;
  relations: number;
  /** Nodes dropped because their coordinates were outside lon [-180, 180] / lat [-90, 90] or not numbers. */
  nodesRejected: number;
}

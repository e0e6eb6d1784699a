/**
 * osmium-tool as an independent oracle: `osmium cat FILE -f opl` parsed into plain records, so tests can
 * check lifecircle's OSM import against a decoder it shares no code with.
 * OPL reference: https://osmcode.org/opl-file-format/ (tags "k=v,k=v" with %hex% escapes; "N" lists n<id>).
 */
import { execFileSync, spawnSync } from 'node:child_process';

export const HAVE_OSMIUM = !spawnSync('osmium', ['--version']).error;
export const NO_OSMIUM = 'osmium-tool not installed (apt-get install osmium-tool); cross-check with an independent decoder skipped';

export interface OplWay {
  id: number;
  tags: Record<string, string>;
  refs: number[];
}

export interface OplData {
  nodeIds: Set<number>;
  nodeTags: Map<number, Record<string, string>>;
  ways: OplWay[];
}

function unescape(s: string): string {
  return s.replace(/%([0-9a-fA-F]+)%/g, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)));
}

function parseTags(field: string): Record<string, string> {
  const tags: Record<string, string> = {};
  if (field === '') return tags;
  for (const kv of field.split(',')) {
    const eq = kv.indexOf('=');
    tags[unescape(kv.slice(0, eq))] = unescape(kv.slice(eq + 1));
  }
  return tags;
}

/** Nodes (ids, and tags of tagged nodes) and ways (tags, refs) of an OSM file, decoded by osmium. */
export function readOpl(file: string): OplData {
  const text = execFileSync('osmium', ['cat', file, '-f', 'opl'], { maxBuffer: 512 * 1024 * 1024, encoding: 'utf8' });
  const nodeIds = new Set<number>();
  const nodeTags = new Map<number, Record<string, string>>();
  const ways: OplWay[] = [];
  for (const line of text.split('\n')) {
    if (line.length === 0) continue;
    const fields = line.split(' ');
    const id = Number(fields[0].slice(1));
    let tags = '';
    let nds = '';
    for (let i = 1; i < fields.length; i++) {
      if (fields[i][0] === 'T') tags = fields[i].slice(1);
      else if (fields[i][0] === 'N') nds = fields[i].slice(1);
    }
    if (fields[0][0] === 'n') {
      nodeIds.add(id);
      if (tags !== '') nodeTags.set(id, parseTags(tags));
    } else if (fields[0][0] === 'w') {
      ways.push({ id, tags: parseTags(tags), refs: nds === '' ? [] : nds.split(',').map((r) => Number(r.slice(1))) });
    }
  }
  return { nodeIds, nodeTags, ways };
}

/** `osmium check-refs FILE`: the "Nodes in ways missing: N" count (osmium prints it on stderr). */
export function osmiumMissingWayNodes(file: string): number {
  const r = spawnSync('osmium', ['check-refs', file], { encoding: 'utf8' });
  const m = /Nodes in ways missing: (\d+)/.exec(`${r.stdout}\n${r.stderr}`);
  if (!m) throw new Error(`osmium check-refs ${file}: no "Nodes in ways missing" line in: ${r.stdout}${r.stderr}`);
  return Number(m[1]);
}

import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Graph } from './graph.ts';
import type { ModeName } from './profiles.ts';

/**
 * Writes a mode's arcs as `source,target,time_s` CSV (node indices, one directed arc per line, times with
 * full round-trip precision), the exchange format of bench/peers (networkx, pgRouting): the same graph fed
 * to another tool, so reach sets can be compared node for node.
 */
export async function writeArcsCsv(graph: Graph, modeName: ModeName, path: string): Promise<number> {
  const mode = graph.mode(modeName);
  const out = createWriteStream(path);
  let chunk = 'source,target,time_s\n';
  let arcs = 0;
  for (let u = 0; u < graph.nodeCount; u++) {
    for (let a = mode.arcOffsets[u]; a < mode.arcOffsets[u + 1]; a++) {
      chunk += `${u},${mode.arcTarget[a]},${mode.arcTimeS[a]}\n`;
      arcs++;
    }
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
  return arcs;
}

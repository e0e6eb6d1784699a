import type { ModeGraph } from '../network/graph.ts';

const cache = new WeakMap<ModeGraph, ModeGraph>();

/**
 * The mode's graph with every arc turned round (the transposed CSR), for searches of times *to* a set of
 * targets: one run from all facilities on the reversed graph gives every node its time to the nearest
 * facility, which differs from the time from it wherever the mode meets one-way streets (bikes) or asymmetric
 * costs (centreline cost/reverse-cost layers). Built once per mode in O(arcs) and cached.
 * Arc i of the result keeps the chain code (chain × 2 + direction) of the original arc it reverses.
 */
export function reversedMode(mode: ModeGraph): ModeGraph {
  const hit = cache.get(mode);
  if (hit) return hit;
  const nodeCount = mode.arcOffsets.length - 1;
  const arcCount = mode.arcTarget.length;
  const arcOffsets = new Uint32Array(nodeCount + 1);
  for (let a = 0; a < arcCount; a++) arcOffsets[mode.arcTarget[a] + 1]++;
  for (let n = 0; n < nodeCount; n++) arcOffsets[n + 1] += arcOffsets[n];
  const arcTarget = new Uint32Array(arcCount);
  const arcChain = new Uint32Array(arcCount);
  const arcTimeS = new Float64Array(arcCount);
  const fill = arcOffsets.slice(0, nodeCount);
  for (let u = 0; u < nodeCount; u++) {
    for (let a = mode.arcOffsets[u]; a < mode.arcOffsets[u + 1]; a++) {
      const i = fill[mode.arcTarget[a]]++;
      arcTarget[i] = u;
      arcChain[i] = mode.arcChain[a];
      arcTimeS[i] = mode.arcTimeS[a];
    }
  }
  const reversed: ModeGraph = { ...mode, arcOffsets, arcTarget, arcChain, arcTimeS };
  cache.set(mode, reversed);
  return reversed;
}

import { LifecircleError } from '../errors.ts';
import type { ModeGraph } from '../network/graph.ts';

/**
 * How a time budget cuts: 'inclusive' (the default) counts a node reached when its time is <= budget,
 * 'exclusive' when it is < budget. The same semantics apply to points and to the service-area edge pieces.
 * Inclusive matches pgRouting's pgr_drivingDistance and networkx's cutoff.
 */
export type Cutoff = 'inclusive' | 'exclusive';

/**
 * Bounded Dijkstra over a mode's CSR arrays, reusable across queries (after pandana: build once, query many).
 * State arrays are allocated once per engine; a query touches and then resets only the nodes it reached, so
 * a 15-minute query on a million-node graph costs what its few thousand reached nodes cost, not a million.
 *
 * The priority queue is a binary heap over typed arrays with decrease-key (a position index per node); no
 * objects are allocated per query. Written by hand because no npm heap offers decrease-key on typed arrays.
 *
 * After `run`, for every node n in `reached[0 .. reachedCount-1]`: `timeS[n]` is its shortest travel time
 * (within the budget) and `source[n]` the index of the source it was reached from. Nodes not reached have
 * timeS = Infinity and source = -1.
 */
export class ReachEngine {
  readonly graph: ModeGraph;
  readonly timeS: Float64Array;
  readonly source: Int32Array;
  /** Nodes reached by the last run, in the order they were settled (non-decreasing time). */
  readonly reached: Uint32Array;
  reachedCount = 0;
  private readonly heapNode: Uint32Array;
  private readonly heapKey: Float64Array;
  private readonly heapPos: Int32Array;
  private heapSize = 0;
  private readonly touched: Uint32Array;
  private touchedCount = 0;

  constructor(graph: ModeGraph) {
    this.graph = graph;
    const n = graph.arcOffsets.length - 1;
    this.timeS = new Float64Array(n).fill(Infinity);
    this.source = new Int32Array(n).fill(-1);
    this.reached = new Uint32Array(n);
    this.heapNode = new Uint32Array(n);
    this.heapKey = new Float64Array(n);
    this.heapPos = new Int32Array(n).fill(-1);
    this.touched = new Uint32Array(n);
  }

  get nodeCount(): number {
    return this.timeS.length;
  }

  /**
   * Runs from one or more sources: source i starts at node sourceNode[i] at time sourceTimeS[i] (an access
   * leg, or 0). Returns the number of nodes reached within budgetS. budgetS may be Infinity (a full field).
   * `stop`, when given, sees every node as it is settled (in non-decreasing time) and ends the search when it
   * returns true (a nearest-target search stops once nothing nearer can come); that node counts as reached.
   * After such a stop, nodes touched but not settled hold upper bounds in `timeS` (times of real routes), not
   * their shortest times.
   */
  run(sourceNode: ArrayLike<number>, sourceTimeS: ArrayLike<number>, budgetS: number, cutoff: Cutoff = 'inclusive', stop?: (node: number, timeS: number) => boolean): number {
    if (!(budgetS >= 0)) throw new LifecircleError('BUDGET_INVALID', `time budget must be a number >= 0 seconds, got ${budgetS}`, { field: 'budget' });
    this.reset();
    const { arcOffsets, arcTarget, arcTimeS } = this.graph;
    const timeS = this.timeS;
    const source = this.source;
    const heapPos = this.heapPos;
    const inclusive = cutoff === 'inclusive';
    const within = (t: number) => (inclusive ? t <= budgetS : t < budgetS);

    for (let i = 0; i < sourceNode.length; i++) {
      const n = sourceNode[i];
      const t = sourceTimeS[i];
      if (!within(t) || t >= timeS[n]) continue;
      if (timeS[n] === Infinity) this.touched[this.touchedCount++] = n;
      timeS[n] = t;
      source[n] = i;
      // the same node may be given twice (two facilities on one street): update, never queue it twice
      if (heapPos[n] >= 0) this.decrease(n, t);
      else this.push(n, t);
    }

    let count = 0;
    while (this.heapSize > 0) {
      const u = this.popMin();
      this.reached[count++] = u;
      const tu = timeS[u];
      if (stop !== undefined && stop(u, tu)) break;
      const su = source[u];
      for (let a = arcOffsets[u], end = arcOffsets[u + 1]; a < end; a++) {
        const v = arcTarget[a];
        const tv = tu + arcTimeS[a];
        if (tv < timeS[v] && (inclusive ? tv <= budgetS : tv < budgetS)) {
          if (timeS[v] === Infinity) this.touched[this.touchedCount++] = v;
          timeS[v] = tv;
          source[v] = su;
          if (heapPos[v] >= 0) this.decrease(v, tv);
          else this.push(v, tv);
        }
      }
    }
    this.reachedCount = count;
    return count;
  }

  /** Clears the state the last run left (only the touched nodes). */
  reset(): void {
    for (let i = 0; i < this.touchedCount; i++) {
      const n = this.touched[i];
      this.timeS[n] = Infinity;
      this.source[n] = -1;
      this.heapPos[n] = -1;
    }
    this.touchedCount = 0;
    this.reachedCount = 0;
    this.heapSize = 0;
  }

  private push(n: number, key: number): void {
    this.siftUp(this.heapSize++, n, key);
  }

  private decrease(n: number, key: number): void {
    this.siftUp(this.heapPos[n], n, key);
  }

  /** Moves node n with `key` up from heap slot i to where its parent's key is no larger. */
  private siftUp(i: number, n: number, key: number): void {
    const heapNode = this.heapNode;
    const heapKey = this.heapKey;
    const heapPos = this.heapPos;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pk = heapKey[parent];
      if (pk <= key) break;
      const pn = heapNode[parent];
      heapNode[i] = pn;
      heapKey[i] = pk;
      heapPos[pn] = i;
      i = parent;
    }
    heapNode[i] = n;
    heapKey[i] = key;
    heapPos[n] = i;
  }

  private popMin(): number {
    const heapNode = this.heapNode;
    const heapKey = this.heapKey;
    const heapPos = this.heapPos;
    const top = heapNode[0];
    heapPos[top] = -2; // settled: never re-pushed in this run (its time can no longer improve)
    const size = --this.heapSize;
    if (size > 0) {
      const n = heapNode[size];
      const key = heapKey[size];
      let i = 0;
      const half = size >> 1;
      while (i < half) {
        let child = 2 * i + 1;
        let ck = heapKey[child];
        const right = child + 1;
        if (right < size && heapKey[right] < ck) {
          child = right;
          ck = heapKey[right];
        }
        if (ck >= key) break;
        const cn = heapNode[child];
        heapNode[i] = cn;
        heapKey[i] = ck;
        heapPos[cn] = i;
        i = child;
      }
      heapNode[i] = n;
      heapKey[i] = key;
      heapPos[n] = i;
    }
    return top;
  }
}

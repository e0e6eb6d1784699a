/**
 * Supply–demand accessibility over a sparse travel-time matrix: how much of a service (doctors, school
 * places, elderly-care beds) each demand zone can reach, allowing for everyone else who can reach it too.
 *
 * ## Input
 *
 * A travel-time matrix in CSR form by origin (demand zone i = 0..originCount-1, destination/facility j =
 * 0..destCount-1): the pairs of origin i are k = originOffsets[i] .. originOffsets[i+1]-1, each going to
 * destIndex[k] in timeMin[k] minutes. A pair that is absent is unreachable. Demand D_i per origin and supply
 * S_j per destination are Float64Arrays (≥ 0, finite). Every function is O(nnz + originCount + destCount)
 * over these arrays: step 1 scatters along the rows into per-destination sums, step 2 gathers them back
 * along the same rows, so the matrix is never transposed and no per-pair object is made.
 *
 * ## Catchment, cutoff and decay
 *
 * A pair is inside the catchment when t_ij <= T (`cutoffInclusive: true`, the default, as the R package
 * accessibility's decay_binary and pgRouting/networkx cutoffs) or t_ij < T (`cutoffInclusive: false`, as
 * PySAL access's `cost < max_cost`). Outside it the weight is 0; inside it is f(t_ij):
 *
 * - binary:       f = 1.
 * - step:         steps [[b_1, w_1], [b_2, w_2], …] with b_1 < b_2 < …: f = w_k for the first band with
 *                 t <= b_k (t < b_k when the cutoff is exclusive: band edges follow the cutoff rule); 0 past
 *                 the last band. T defaults to b_last. Luo & Qi's (2009) E2SFCA uses
 *                 [[10, 1], [20, 0.68], [30, 0.22]] (Gaussian-derived weights of three 10-minute zones).
 *                 (R accessibility's decay_stepped is "open on the right", i.e. our exclusive rule.)
 * - gaussian:     Dai (2010) form, f = (exp(-½ (t/T)²) − exp(-½)) / (1 − exp(-½)), which falls from 1 at
 *                 t = 0 to exactly 0 at t = T (so the cutoff rule cannot change any result). T is required.
 * - exponential:  f = exp(−β t), β per minute (Hansen-type negative exponential). T optional (default ∞).
 * - power:        f = min(1, t^(−β)) (inverse power, capped at 1 so that t < 1 min and intra-zonal t = 0
 *                 stay finite, as R accessibility's decay_power). T optional (default ∞).
 *
 * ## Measures (w_ij = f(t_ij) inside the catchment, 0 outside)
 *
 * 2SFCA (Luo & Wang 2003), binary f:       R_j = S_j / Σ_{i: t_ij ≤ T} D_i,   A_i = Σ_{j: t_ij ≤ T} R_j.
 * E2SFCA (Luo & Qi 2009) and any decay f:  R_j = S_j / Σ_i D_i w_ij,          A_i = Σ_j R_j w_ij.
 * Gravity / Hansen (1959) potential:        A_i = Σ_j S_j f(t_ij).
 * Gravity with supply competition (Joseph & Bantock 1982; Shen 1998):
 *                                           A_i = Σ_j S_j f(t_ij) / V_j,  V_j = Σ_k D_k f(t_kj);
 *   algebraically the E2SFCA with decay f (R_j = S_j / V_j), which is how it is computed and reported.
 * BFCA, balanced FCA (Paez, Higgins & Vivona 2019; named in Pereira et al. 2021), as R accessibility's
 *   floating_catchment_area(method = "bfca"): the weights are normalised once by row and once by column,
 *     w^i_ij = w_ij / Σ_j' w_ij'   (each origin's demand is split over the destinations it reaches),
 *     w^j_ij = w_ij / Σ_i' w_i'j   (each destination's level of service is split over the origins reaching it),
 *   R_j = S_j / Σ_i D_i w^i_ij,   A_i = Σ_j R_j w^j_ij.
 *
 * R_j (`ratio`, supply per unit of demand at each destination) and the demand competing for it
 * (`demandReached`, the denominator) are returned with A_i (`access`). A destination that no demand reaches
 * (demandReached = 0) has R_j = NaN and adds nothing to any A_i: its supply is reported as unreachable rather
 * than as infinite access (R accessibility would give Inf there for zero-demand origins that reach it). An
 * origin that reaches nothing has A_i = 0.
 *
 * ## Invariants (tested)
 *
 * - 2SFCA / E2SFCA / competition gravity (one set of weights in both steps):
 *   Σ_i D_i A_i = Σ_j R_j Σ_i D_i w_ij = Σ_{j: demandReached_j > 0} S_j — supply is conserved.
 * - BFCA removes the two inflations instead: Σ_j demandReached_j = Σ_{i reaching something} D_i (no demand
 *   counted twice) and Σ_i A_i = Σ_{j reached} R_j (no level of service counted twice). It does NOT conserve
 *   Σ_i D_i A_i in general: one facility S reached by two zones of demand D_1, D_2 gives R = S/(D_1+D_2),
 *   A_1 = A_2 = R/2, so Σ D_i A_i = S/2.
 *
 * ## References
 *
 * - Hansen, W.G. (1959). How accessibility shapes land use. J. American Institute of Planners 25(2), 73–76.
 * - Joseph, A.E., Bantock, P.R. (1982). Measuring potential physical accessibility to general practitioners
 *   in rural areas: a method and case study. Social Science & Medicine 16(1), 85–90.
 * - Shen, Q. (1998). Location characteristics of inner-city neighborhoods and employment accessibility of
 *   low-wage workers. Environment and Planning B 25(3), 345–365.
 * - Luo, W., Wang, F. (2003). Measures of spatial accessibility to health care in a GIS environment: synthesis
 *   and a case study in the Chicago region. Environment and Planning B 30(6), 865–884. doi:10.1068/b29120
 * - Luo, W., Qi, Y. (2009). An enhanced two-step floating catchment area (E2SFCA) method for measuring spatial
 *   accessibility to primary care physicians. Health & Place 15(4), 1100–1107.
 * - Dai, D. (2010). Black residential segregation, disparities in spatial access to health care facilities,
 *   and late-stage breast cancer diagnosis in metropolitan Detroit. Health & Place 16(5), 1038–1052.
 * - Paez, A., Higgins, C.D., Vivona, S.F. (2019). Demand and level of service inflation in Floating Catchment
 *   Area (FCA) methods. PLoS ONE 14(6), e0218773.
 * - Pereira, R.H.M., Braga, C.K.V., Servo, L.M., et al. (2021). Geographic access to COVID-19 healthcare in
 *   Brazil using a balanced float catchment area approach. Social Science & Medicine 273, 113773.
 * - R package accessibility (IPEA), https://github.com/ipeaGIT/accessibility (checked against in
 *   test/analysis/accessibility.test.ts).
 */
import { LifecircleError } from '../errors.ts';

/** A sparse travel-time matrix, CSR by origin. */
export interface TravelMatrix {
  originCount: number;
  destCount: number;
  /** originCount + 1 entries: the pairs of origin i are originOffsets[i] .. originOffsets[i+1]-1. */
  originOffsets: Uint32Array;
  /** nnz entries: the destination of each pair, < destCount; at most once per origin. */
  destIndex: Uint32Array;
  /** nnz entries: travel time of each pair in minutes, finite and ≥ 0. */
  timeMin: Float64Array;
}

export type Decay =
  | { kind: 'binary' }
  /** [upper bound in minutes, weight] bands, bounds strictly ascending, weights ≥ 0. */
  | { kind: 'step'; steps: ReadonlyArray<readonly [number, number]> }
  | { kind: 'gaussian' }
  | { kind: 'exponential'; betaPerMin: number }
  | { kind: 'power'; exponent: number };

export interface CatchmentOptions {
  /** Distance decay f(t); default binary. */
  decay?: Decay;
  /**
   * The catchment T in minutes (may be Infinity). Required for binary and gaussian; defaults to the last
   * band for step and to Infinity for exponential and power.
   */
  cutoffMin?: number;
  /** true (default): a pair counts when t <= T; false: when t < T. */
  cutoffInclusive?: boolean;
}

/** Result of the floating-catchment measures (and of gravity with competition). */
export interface FcaResult {
  /** A_i per origin: supply per unit of demand reachable from i (e.g. doctors per resident); 0 if nothing is reached. */
  access: Float64Array;
  /** R_j per destination: S_j / demandReached_j; NaN where no demand reaches j. */
  ratio: Float64Array;
  /** Per destination: the demand competing for it, Σ_i D_i w_ij (BFCA: Σ_i D_i w^i_ij). */
  demandReached: Float64Array;
}

const EXP_HALF = Math.exp(-0.5);

const K_BINARY = 0;
const K_STEP = 1;
const K_GAUSSIAN = 2;
const K_EXPONENTIAL = 3;
const K_POWER = 4;

/** A decay checked and flattened for the per-pair loop. */
interface Resolved {
  kind: number;
  cutoffMin: number;
  inclusive: boolean;
  /** exponential β, power exponent */
  param: number;
  stepBoundMin: Float64Array;
  stepWeight: Float64Array;
}

function argError(message: string, field: string): LifecircleError {
  return new LifecircleError('ARGUMENT_INVALID', message, { field });
}

function resolve(options: CatchmentOptions, fn: string): Resolved {
  const decay: Decay = options.decay ?? { kind: 'binary' };
  const inclusive = options.cutoffInclusive ?? true;
  let cutoffMin = options.cutoffMin;
  if (cutoffMin !== undefined && !(cutoffMin >= 0)) {
    throw new LifecircleError('BUDGET_INVALID', `${fn}: cutoffMin must be a number of minutes ≥ 0 (or Infinity), got ${cutoffMin}`, { field: 'cutoffMin' });
  }
  const r: Resolved = { kind: K_BINARY, cutoffMin: Infinity, inclusive, param: 0, stepBoundMin: new Float64Array(0), stepWeight: new Float64Array(0) };
  switch (decay.kind) {
    case 'binary':
      if (cutoffMin === undefined) throw argError(`${fn}: binary decay needs cutoffMin (the catchment in minutes)`, 'cutoffMin');
      break;
    case 'step': {
      const steps = decay.steps;
      if (!Array.isArray(steps) || steps.length === 0) throw argError(`${fn}: step decay needs at least one [upperMin, weight] band`, 'decay.steps');
      r.kind = K_STEP;
      r.stepBoundMin = new Float64Array(steps.length);
      r.stepWeight = new Float64Array(steps.length);
      for (let s = 0; s < steps.length; s++) {
        const [b, w] = steps[s];
        if (!(b >= 0 && b < Infinity)) throw argError(`${fn}: step ${s + 1} bound must be a finite number of minutes ≥ 0, got ${b}`, 'decay.steps');
        if (s > 0 && !(b > steps[s - 1][0])) throw argError(`${fn}: step bounds must be strictly ascending, got ${steps[s - 1][0]} then ${b}`, 'decay.steps');
        if (!(w >= 0 && w < Infinity)) throw argError(`${fn}: step ${s + 1} weight must be a finite number ≥ 0, got ${w}`, 'decay.steps');
        r.stepBoundMin[s] = b;
        r.stepWeight[s] = w;
      }
      if (cutoffMin === undefined) cutoffMin = steps[steps.length - 1][0];
      break;
    }
    case 'gaussian':
      if (cutoffMin === undefined || !(cutoffMin > 0 && cutoffMin < Infinity)) {
        throw argError(`${fn}: gaussian decay needs a finite cutoffMin > 0 (its weight reaches 0 there), got ${cutoffMin}`, 'cutoffMin');
      }
      r.kind = K_GAUSSIAN;
      break;
    case 'exponential':
      if (!(decay.betaPerMin >= 0 && decay.betaPerMin < Infinity)) throw argError(`${fn}: exponential decay betaPerMin must be a finite number ≥ 0, got ${decay.betaPerMin}`, 'decay.betaPerMin');
      r.kind = K_EXPONENTIAL;
      r.param = decay.betaPerMin;
      break;
    case 'power':
      if (!(decay.exponent >= 0 && decay.exponent < Infinity)) throw argError(`${fn}: power decay exponent must be a finite number ≥ 0, got ${decay.exponent}`, 'decay.exponent');
      r.kind = K_POWER;
      r.param = decay.exponent;
      break;
    default:
      throw argError(`${fn}: unknown decay kind ${JSON.stringify((decay as { kind: unknown }).kind)}; expected binary, step, gaussian, exponential or power`, 'decay.kind');
  }
  r.cutoffMin = cutoffMin ?? Infinity;
  return r;
}

/** f(t) for one travel time, 0 outside the catchment: the same rule as the per-pair loop (for docs, tests, legends). */
export function decayWeight(timeMin: number, options: CatchmentOptions): number {
  const r = resolve(options, 'decayWeight');
  const out = new Float64Array(1);
  weightsInto(r, new Float64Array([timeMin]), out);
  return out[0];
}

/**
 * w_ij for every pair (0 outside the catchment), in the matrix's pair order. Compute once and pass to
 * `fcaFromWeights` / `balancedFcaFromWeights` to run several supply types over the same catchment.
 */
export function pairWeights(matrix: TravelMatrix, options: CatchmentOptions): Float64Array {
  return pairWeightsInto(matrix, options, new Float64Array(matrix.timeMin.length));
}

/** `pairWeights` into the caller's array (length nnz); returns it. */
export function pairWeightsInto(matrix: TravelMatrix, options: CatchmentOptions, out: Float64Array): Float64Array {
  checkMatrix(matrix, 'pairWeights');
  if (out.length !== matrix.timeMin.length) throw argError(`pairWeightsInto: out has ${out.length} entries, expected ${matrix.timeMin.length} (one per pair)`, 'out');
  weightsInto(resolve(options, 'pairWeights'), matrix.timeMin, out);
  return out;
}

function weightsInto(r: Resolved, timeMin: Float64Array, out: Float64Array): void {
  const n = timeMin.length;
  const T = r.cutoffMin;
  const inclusive = r.inclusive;
  // One loop per kind so that the per-pair work is a compare and at most one exp/pow.
  switch (r.kind) {
    case K_BINARY:
      for (let k = 0; k < n; k++) {
        const t = timeMin[k];
        out[k] = (inclusive ? t <= T : t < T) ? 1 : 0;
      }
      break;
    case K_STEP: {
      const bound = r.stepBoundMin;
      const weight = r.stepWeight;
      const m = bound.length;
      for (let k = 0; k < n; k++) {
        const t = timeMin[k];
        let w = 0;
        if (inclusive ? t <= T : t < T) {
          for (let s = 0; s < m; s++) {
            if (inclusive ? t <= bound[s] : t < bound[s]) {
              w = weight[s];
              break;
            }
          }
        }
        out[k] = w;
      }
      break;
    }
    case K_GAUSSIAN: {
      const scale = 1 / (1 - EXP_HALF);
      for (let k = 0; k < n; k++) {
        const t = timeMin[k];
        if (inclusive ? t <= T : t < T) {
          const x = t / T;
          out[k] = (Math.exp(-0.5 * x * x) - EXP_HALF) * scale;
        } else {
          out[k] = 0;
        }
      }
      break;
    }
    case K_EXPONENTIAL: {
      const beta = r.param;
      for (let k = 0; k < n; k++) {
        const t = timeMin[k];
        out[k] = (inclusive ? t <= T : t < T) ? Math.exp(-beta * t) : 0;
      }
      break;
    }
    case K_POWER: {
      const e = r.param;
      for (let k = 0; k < n; k++) {
        const t = timeMin[k];
        out[k] = (inclusive ? t <= T : t < T) ? (t <= 1 ? 1 : Math.pow(t, -e)) : 0;
      }
      break;
    }
  }
}

/**
 * Checks the CSR arrays once per call (O(nnz + destCount)): shapes, offsets monotone, destinations in range
 * and not repeated within an origin, times finite and ≥ 0. A wrong matrix would otherwise give quietly wrong
 * access, never an exception.
 */
export function checkMatrix(matrix: TravelMatrix, fn = 'travel matrix'): void {
  const { originCount, destCount, originOffsets, destIndex, timeMin } = matrix;
  if (!Number.isInteger(originCount) || originCount < 0 || !Number.isInteger(destCount) || destCount < 0) {
    throw argError(`${fn}: originCount and destCount must be integers ≥ 0, got ${originCount} and ${destCount}`, 'matrix');
  }
  if (originOffsets.length !== originCount + 1) throw argError(`${fn}: originOffsets has ${originOffsets.length} entries, expected originCount + 1 = ${originCount + 1}`, 'originOffsets');
  const nnz = destIndex.length;
  if (timeMin.length !== nnz) throw argError(`${fn}: timeMin has ${timeMin.length} entries but destIndex has ${nnz}`, 'timeMin');
  if (originOffsets[0] !== 0 || originOffsets[originCount] !== nnz) {
    throw argError(`${fn}: originOffsets must run from 0 to nnz = ${nnz}, got ${originOffsets[0]} … ${originOffsets[originCount]}`, 'originOffsets');
  }
  const lastOrigin = new Int32Array(destCount).fill(-1);
  for (let i = 0; i < originCount; i++) {
    const a = originOffsets[i];
    const b = originOffsets[i + 1];
    if (b < a) throw argError(`${fn}: originOffsets decreases at origin ${i} (${a} then ${b})`, 'originOffsets');
    for (let k = a; k < b; k++) {
      const j = destIndex[k];
      if (j >= destCount) throw argError(`${fn}: pair ${k} (origin ${i}) goes to destination ${j}, but destCount is ${destCount}`, 'destIndex');
      if (lastOrigin[j] === i) throw argError(`${fn}: origin ${i} lists destination ${j} twice (pair ${k})`, 'destIndex');
      lastOrigin[j] = i;
      const t = timeMin[k];
      if (!(t >= 0 && t < Infinity)) throw argError(`${fn}: pair ${k} (origin ${i} → destination ${j}) has time ${t}; expected finite minutes ≥ 0`, 'timeMin');
    }
  }
}

function checkValues(values: Float64Array, count: number, what: 'demand' | 'supply', fn: string): void {
  if (values.length !== count) {
    const per = what === 'demand' ? 'origin' : 'destination';
    throw argError(`${fn}: ${what} has ${values.length} entries, expected one per ${per} (${count})`, what);
  }
  for (let i = 0; i < count; i++) {
    const v = values[i];
    if (!(v >= 0 && v < Infinity)) throw argError(`${fn}: ${what}[${i}] is ${v}; expected a finite number ≥ 0`, what);
  }
}

function allocResult(matrix: TravelMatrix, out: FcaResult | undefined, fn: string): FcaResult {
  if (!out) {
    return { access: new Float64Array(matrix.originCount), ratio: new Float64Array(matrix.destCount), demandReached: new Float64Array(matrix.destCount) };
  }
  if (out.access.length !== matrix.originCount || out.ratio.length !== matrix.destCount || out.demandReached.length !== matrix.destCount) {
    throw argError(`${fn}: out arrays must have originCount (${matrix.originCount}) / destCount (${matrix.destCount}) entries`, 'out');
  }
  return out;
}

/**
 * The two FCA steps with one set of pair weights (2SFCA with binary weights, E2SFCA with step/gaussian
 * weights, competition gravity with exponential/power weights). `out` arrays are reused when given.
 */
export function fcaFromWeights(matrix: TravelMatrix, weight: Float64Array, demand: Float64Array, supply: Float64Array, out?: FcaResult): FcaResult {
  const fn = 'fcaFromWeights';
  checkMatrix(matrix, fn);
  checkValues(demand, matrix.originCount, 'demand', fn);
  checkValues(supply, matrix.destCount, 'supply', fn);
  if (weight.length !== matrix.destIndex.length) throw argError(`${fn}: weight has ${weight.length} entries, expected one per pair (${matrix.destIndex.length})`, 'weight');
  return fcaCore(matrix, weight, demand, supply, allocResult(matrix, out, fn));
}

function fcaCore(matrix: TravelMatrix, weight: Float64Array, demand: Float64Array, supply: Float64Array, res: FcaResult): FcaResult {
  const { originCount, destCount, originOffsets, destIndex } = matrix;
  const { access, ratio, demandReached } = res;
  // step 1: scatter each origin's demand along its row into the destinations' competing demand
  demandReached.fill(0);
  for (let i = 0; i < originCount; i++) {
    const d = demand[i];
    if (d === 0) continue;
    for (let k = originOffsets[i], end = originOffsets[i + 1]; k < end; k++) demandReached[destIndex[k]] += d * weight[k];
  }
  // R_j; `gather` holds 0 instead of NaN so that step 2 needs no test per pair
  const gather = new Float64Array(destCount);
  for (let j = 0; j < destCount; j++) {
    const v = demandReached[j];
    if (v > 0) {
      ratio[j] = supply[j] / v;
      gather[j] = ratio[j];
    } else {
      ratio[j] = NaN;
    }
  }
  // step 2: gather the ratios back along each row
  for (let i = 0; i < originCount; i++) {
    let a = 0;
    for (let k = originOffsets[i], end = originOffsets[i + 1]; k < end; k++) a += gather[destIndex[k]] * weight[k];
    access[i] = a;
  }
  return res;
}

/**
 * BFCA with given pair weights: the weights are normalised by row for step 1 and by column for step 2 (see
 * the header). Origins whose weights are all 0 add no demand and get A_i = 0.
 */
export function balancedFcaFromWeights(matrix: TravelMatrix, weight: Float64Array, demand: Float64Array, supply: Float64Array, out?: FcaResult): FcaResult {
  const fn = 'balancedFcaFromWeights';
  checkMatrix(matrix, fn);
  checkValues(demand, matrix.originCount, 'demand', fn);
  checkValues(supply, matrix.destCount, 'supply', fn);
  if (weight.length !== matrix.destIndex.length) throw argError(`${fn}: weight has ${weight.length} entries, expected one per pair (${matrix.destIndex.length})`, 'weight');
  return balancedCore(matrix, weight, demand, supply, allocResult(matrix, out, fn));
}

function balancedCore(matrix: TravelMatrix, weight: Float64Array, demand: Float64Array, supply: Float64Array, res: FcaResult): FcaResult {
  const { originCount, destCount, originOffsets, destIndex } = matrix;
  const { access, ratio, demandReached } = res;
  // column sums Σ_i w_ij, scattered along the rows
  const colSum = new Float64Array(destCount);
  for (let k = 0, n = destIndex.length; k < n; k++) colSum[destIndex[k]] += weight[k];
  // step 1 with row-normalised weights: origin i sends D_i · w_ij / Σ_j' w_ij' to j
  demandReached.fill(0);
  for (let i = 0; i < originCount; i++) {
    const d = demand[i];
    if (d === 0) continue;
    const a = originOffsets[i];
    const b = originOffsets[i + 1];
    let rowSum = 0;
    for (let k = a; k < b; k++) rowSum += weight[k];
    if (!(rowSum > 0)) continue;
    const share = d / rowSum;
    for (let k = a; k < b; k++) demandReached[destIndex[k]] += share * weight[k];
  }
  // R_j, and R_j / Σ_i w_ij for step 2 (0 where R_j is undefined)
  const gather = new Float64Array(destCount);
  for (let j = 0; j < destCount; j++) {
    const v = demandReached[j];
    if (v > 0) {
      ratio[j] = supply[j] / v;
      gather[j] = ratio[j] / colSum[j];
    } else {
      ratio[j] = NaN;
    }
  }
  // step 2 with column-normalised weights
  for (let i = 0; i < originCount; i++) {
    let a = 0;
    for (let k = originOffsets[i], end = originOffsets[i + 1]; k < end; k++) a += gather[destIndex[k]] * weight[k];
    access[i] = a;
  }
  return res;
}

/**
 * 2SFCA (Luo & Wang 2003): binary catchment of `cutoffMin` minutes (t <= T, or t < T with
 * cutoffInclusive: false).
 *
 * @example twoStepFca(matrix, population, doctors, { cutoffMin: 15 }).access  // doctors per resident
 */
export function twoStepFca(
  matrix: TravelMatrix,
  demand: Float64Array,
  supply: Float64Array,
  options: { cutoffMin: number; cutoffInclusive?: boolean },
): FcaResult {
  return runFca(matrix, demand, supply, { decay: { kind: 'binary' }, cutoffMin: options.cutoffMin, cutoffInclusive: options.cutoffInclusive }, false, 'twoStepFca');
}

/** Checks everything once, then weights → core (the public *FromWeights functions would check the matrix again). */
function runFca(matrix: TravelMatrix, demand: Float64Array, supply: Float64Array, options: CatchmentOptions, balanced: boolean, fn: string): FcaResult {
  const r = resolve(options, fn);
  checkMatrix(matrix, fn);
  checkValues(demand, matrix.originCount, 'demand', fn);
  checkValues(supply, matrix.destCount, 'supply', fn);
  const weight = new Float64Array(matrix.destIndex.length);
  weightsInto(r, matrix.timeMin, weight);
  const res = allocResult(matrix, undefined, fn);
  return balanced ? balancedCore(matrix, weight, demand, supply, res) : fcaCore(matrix, weight, demand, supply, res);
}

/**
 * E2SFCA (Luo & Qi 2009): the two FCA steps with distance-decay weights, usually step bands
 * ({ kind: 'step', steps: [[10, 1], [20, 0.68], [30, 0.22]] }) or Dai's Gaussian ({ kind: 'gaussian' } with
 * cutoffMin); any decay is accepted.
 */
export function enhancedTwoStepFca(matrix: TravelMatrix, demand: Float64Array, supply: Float64Array, options: CatchmentOptions & { decay: Decay }): FcaResult {
  return runFca(matrix, demand, supply, options, false, 'enhancedTwoStepFca');
}

/** BFCA (Paez, Higgins & Vivona 2019) with any decay (binary by default, which needs cutoffMin). */
export function balancedFca(matrix: TravelMatrix, demand: Float64Array, supply: Float64Array, options: CatchmentOptions): FcaResult {
  return runFca(matrix, demand, supply, options, true, 'balancedFca');
}

/**
 * Hansen (1959) gravity potential A_i = Σ_j S_j f(t_ij), no competition. With binary decay this is the
 * cumulative-opportunities count within T.
 *
 * @example gravityAccess(matrix, jobs, { decay: { kind: 'exponential', betaPerMin: 0.1 } })
 */
export function gravityAccess(matrix: TravelMatrix, supply: Float64Array, options: CatchmentOptions & { decay: Decay }): Float64Array {
  const fn = 'gravityAccess';
  const r = resolve(options, fn);
  checkMatrix(matrix, fn);
  checkValues(supply, matrix.destCount, 'supply', fn);
  const { originCount, originOffsets, destIndex } = matrix;
  const weight = new Float64Array(destIndex.length);
  weightsInto(r, matrix.timeMin, weight);
  const access = new Float64Array(originCount);
  for (let i = 0; i < originCount; i++) {
    let a = 0;
    for (let k = originOffsets[i], end = originOffsets[i + 1]; k < end; k++) a += supply[destIndex[k]] * weight[k];
    access[i] = a;
  }
  return access;
}

/**
 * Gravity potential with supply competition (Joseph & Bantock 1982; Shen 1998):
 * A_i = Σ_j S_j f(t_ij) / V_j, V_j = Σ_k D_k f(t_kj) (returned as demandReached; ratio R_j = S_j / V_j).
 */
export function gravityCompetitionAccess(matrix: TravelMatrix, demand: Float64Array, supply: Float64Array, options: CatchmentOptions & { decay: Decay }): FcaResult {
  return runFca(matrix, demand, supply, options, false, 'gravityCompetitionAccess');
}

/**
 * A CSR matrix from unordered pairs (origin index, destination index, minutes): two stable counting sorts
 * (by destination, then by origin), O(nnz + originCount + destCount), so each origin's pairs end up sorted
 * by destination and a repeated pair sits next to its twin. On repeats, `onDuplicate(first, second)` gets
 * input positions: `second` is the earliest position that repeats an earlier pair, `first` the copy before
 * it. It should throw (to name file lines, say); without it a LifecircleError names the two positions.
 */
export function travelMatrixFromPairs(
  originCount: number,
  destCount: number,
  origin: Uint32Array,
  dest: Uint32Array,
  timeMin: Float64Array,
  onDuplicate?: (first: number, second: number) => never,
): TravelMatrix {
  const fn = 'travelMatrixFromPairs';
  const n = origin.length;
  if (dest.length !== n || timeMin.length !== n) throw argError(`${fn}: origin, dest and timeMin must have the same length, got ${n}, ${dest.length}, ${timeMin.length}`, 'pairs');
  for (let k = 0; k < n; k++) {
    if (origin[k] >= originCount) throw argError(`${fn}: pair ${k} has origin ${origin[k]}, but originCount is ${originCount}`, 'origin');
    if (dest[k] >= destCount) throw argError(`${fn}: pair ${k} has destination ${dest[k]}, but destCount is ${destCount}`, 'dest');
    const t = timeMin[k];
    if (!(t >= 0 && t < Infinity)) throw argError(`${fn}: pair ${k} has time ${t}; expected finite minutes ≥ 0`, 'timeMin');
  }
  // pass 1: by destination
  const destStart = new Uint32Array(destCount + 1);
  for (let k = 0; k < n; k++) destStart[dest[k] + 1]++;
  for (let j = 0; j < destCount; j++) destStart[j + 1] += destStart[j];
  const byDest = new Uint32Array(n);
  for (let k = 0; k < n; k++) byDest[destStart[dest[k]]++] = k;
  // pass 2: by origin, stable, so rows come out sorted by destination
  const originOffsets = new Uint32Array(originCount + 1);
  for (let k = 0; k < n; k++) originOffsets[origin[k] + 1]++;
  for (let i = 0; i < originCount; i++) originOffsets[i + 1] += originOffsets[i];
  const cursor = originOffsets.slice(0, originCount);
  const perm = new Uint32Array(n);
  for (let q = 0; q < n; q++) {
    const k = byDest[q];
    perm[cursor[origin[k]]++] = k;
  }
  const destIndex = new Uint32Array(n);
  const times = new Float64Array(n);
  let dupFirst = -1;
  let dupSecond = -1;
  for (let p = 0; p < n; p++) {
    const k = perm[p];
    destIndex[p] = dest[k];
    times[p] = timeMin[k];
    // same destination as the previous pair of the same row: a repeat (stable sorts keep input order)
    if (p > 0 && dest[perm[p - 1]] === dest[k] && origin[perm[p - 1]] === origin[k] && (dupSecond < 0 || k < dupSecond)) {
      dupFirst = perm[p - 1];
      dupSecond = k;
    }
  }
  if (dupSecond >= 0) {
    if (onDuplicate) onDuplicate(dupFirst, dupSecond);
    throw argError(`${fn}: pair ${dupSecond} repeats pair ${dupFirst} (origin ${origin[dupSecond]} → destination ${dest[dupSecond]})`, 'pairs');
  }
  return { originCount, destCount, originOffsets, destIndex, timeMin: times };
}

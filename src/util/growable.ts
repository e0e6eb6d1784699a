type TypedArrayCtor<T> = { new (length: number): T; BYTES_PER_ELEMENT: number };
type NumericTypedArray = Float64Array | Float32Array | Uint32Array | Int32Array | Uint16Array | Uint8Array;

/**
 * An append-only typed array that doubles when full: the column type the importers fill while streaming, so
 * that a million nodes cost 8 bytes each instead of a JS object each.
 */
export class GrowableArray<T extends NumericTypedArray> {
  private readonly ctor: TypedArrayCtor<T>;
  private buffer: T;
  length = 0;

  constructor(ctor: TypedArrayCtor<T>, initialCapacity = 1024) {
    this.ctor = ctor;
    this.buffer = new ctor(Math.max(16, initialCapacity));
  }

  push(value: number): void {
    if (this.length === this.buffer.length) this.grow(this.length * 2);
    this.buffer[this.length++] = value;
  }

  get(index: number): number {
    return this.buffer[index];
  }

  set(index: number, value: number): void {
    this.buffer[index] = value;
  }

  /** A trimmed copy holding exactly `length` items. */
  toArray(): T {
    return this.buffer.slice(0, this.length) as T;
  }

  /** A view (no copy) over the first `length` items; invalid after the next push that grows. */
  view(): T {
    return this.buffer.subarray(0, this.length) as T;
  }

  private grow(capacity: number): void {
    const next = new this.ctor(capacity);
    next.set(this.buffer as never);
    this.buffer = next;
  }
}

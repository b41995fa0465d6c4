/**
 * A growable ring buffer: push/shift/unshift in O(1) amortised, no
 * allocation per element once it has grown (channels queue their values
 * here).
 *
 * Internal module: not exported from index.ts.
 */
export class Deque<T> {
  private buf: (T | undefined)[];
  private head = 0;
  length = 0;

  constructor(initial = 16) {
    let cap = 4;
    while (cap < initial) cap *= 2;
    this.buf = new Array<T | undefined>(cap);
  }

  push(v: T): void {
    if (this.length === this.buf.length) this.grow();
    this.buf[(this.head + this.length) & (this.buf.length - 1)] = v;
    this.length++;
  }

  unshift(v: T): void {
    if (this.length === this.buf.length) this.grow();
    this.head = (this.head - 1) & (this.buf.length - 1);
    this.buf[this.head] = v;
    this.length++;
  }

  /** Removes and returns the first element (`undefined` when empty). */
  shift(): T | undefined {
    if (this.length === 0) return undefined;
    const v = this.buf[this.head];
    this.buf[this.head] = undefined; // let it be collected
    this.head = (this.head + 1) & (this.buf.length - 1);
    this.length--;
    return v;
  }

  /** Drops every element. */
  clear(): void {
    this.buf.fill(undefined);
    this.head = 0;
    this.length = 0;
  }

  private grow(): void {
    const old = this.buf;
    const next = new Array<T | undefined>(old.length * 2);
    for (let i = 0; i < this.length; i++) next[i] = old[(this.head + i) & (old.length - 1)];
    this.buf = next;
    this.head = 0;
  }
}

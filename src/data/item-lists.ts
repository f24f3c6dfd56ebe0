/**
 * Per-user item lists stored compactly (CSR): one Int32Array of every list's items back to back and
 * one of offsets, instead of an array of arrays or of interaction objects. At Amazon-Men size
 * (~34k users, ~250k interactions) that is ~1 MB. `views()` hands the lists to code that takes
 * `ArrayLike<number>` lists (the evaluator, the victims' training data) without copying.
 */
import { InputError } from '../core/errors.js';

export class ItemLists {
  /** offsets[u]..offsets[u+1] index user u's items in `items`. */
  readonly offsets: Int32Array;
  readonly items: Int32Array;

  constructor(offsets: Int32Array, items: Int32Array) {
    if (offsets.length < 1 || offsets[0] !== 0 || offsets[offsets.length - 1] !== items.length)
      throw new InputError(`ItemLists: offsets must start at 0 and end at ${items.length} (the item count)`);
    for (let u = 1; u < offsets.length; u++) if (offsets[u]! < offsets[u - 1]!) throw new InputError(`ItemLists: offsets decrease at list ${u}`);
    this.offsets = offsets;
    this.items = items;
  }

  /** Number of lists (users). */
  get length(): number {
    return this.offsets.length - 1;
  }

  /** Total number of items over all lists. */
  get total(): number {
    return this.items.length;
  }

  /** List u as a view (no copy). */
  of(u: number): Int32Array {
    return this.items.subarray(this.offsets[u]!, this.offsets[u + 1]!);
  }

  /** Every list as a view (an array of `length` subarrays sharing this store). */
  views(): Int32Array[] {
    return Array.from({ length: this.length }, (_, u) => this.of(u));
  }

  /** Compact copy of lists given as arrays. */
  static from(lists: readonly ArrayLike<number>[]): ItemLists {
    const offsets = new Int32Array(lists.length + 1);
    for (let u = 0; u < lists.length; u++) offsets[u + 1] = offsets[u]! + lists[u]!.length;
    const items = new Int32Array(offsets[lists.length]!);
    for (let u = 0; u < lists.length; u++) items.set(lists[u]!, offsets[u]!);
    return new ItemLists(offsets, items);
  }
}

/** Appends lists one at a time into growing typed arrays (for generators that stream users). */
export class ItemListsBuilder {
  private offsets: Int32Array;
  private items: Int32Array;
  private n = 0;
  private used = 0;

  constructor(expectedLists = 1024, expectedItems = 8192) {
    this.offsets = new Int32Array(expectedLists + 1);
    this.items = new Int32Array(Math.max(1, expectedItems));
  }

  push(list: ArrayLike<number>): void {
    if (this.n + 2 > this.offsets.length) this.offsets = grow(this.offsets, this.n + 2);
    if (this.used + list.length > this.items.length) this.items = grow(this.items, this.used + list.length);
    this.items.set(list, this.used);
    this.used += list.length;
    this.offsets[++this.n] = this.used;
  }

  build(): ItemLists {
    return new ItemLists(this.offsets.slice(0, this.n + 1), this.items.slice(0, this.used));
  }
}

function grow(a: Int32Array, need: number): Int32Array {
  const b = new Int32Array(Math.max(need, a.length * 2));
  b.set(a);
  return b;
}

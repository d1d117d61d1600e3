/**
 * A bounded FIFO with O(1) push, shift and indexed reads; the oldest item is index 0.
 * Storage starts small and doubles up to `capacity`, so many mostly-empty rings stay cheap.
 */
export class Ring<T> {
  private items: (T | undefined)[];
  private head = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.items = new Array<T | undefined>(Math.min(16, capacity));
  }

  get length(): number {
    return this.count;
  }

  /** Appends; when full, drops and returns the oldest item. */
  push(item: T): T | undefined {
    let dropped: T | undefined;
    if (this.count === this.items.length) {
      if (this.items.length < this.capacity) this.grow();
      else dropped = this.shift();
    }
    this.items[(this.head + this.count) % this.items.length] = item;
    this.count++;
    return dropped;
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.items.length;
    this.count--;
    return item;
  }

  peekOldest(): T | undefined {
    return this.count === 0 ? undefined : this.items[this.head];
  }

  at(index: number): T {
    return this.items[(this.head + index) % this.items.length] as T;
  }

  clear(): void {
    this.items = new Array<T | undefined>(Math.min(16, this.capacity));
    this.head = 0;
    this.count = 0;
  }

  private grow(): void {
    const next = new Array<T | undefined>(Math.min(this.items.length * 2, this.capacity));
    for (let i = 0; i < this.count; i++) next[i] = this.items[(this.head + i) % this.items.length];
    this.items = next;
    this.head = 0;
  }
}

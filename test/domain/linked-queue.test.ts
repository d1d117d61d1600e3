import { describe, expect, it } from 'vitest';
import { LinkedQueue } from '../../src/domain/linked-queue.js';

class Item {
  older: Item | undefined = undefined;
  newer: Item | undefined = undefined;
  constructor(readonly name: string) {}
}

const names = (queue: LinkedQueue<Item>): string[] => {
  const out: string[] = [];
  for (let item = queue.oldest; item !== undefined; item = item.newer) out.push(item.name);
  return out;
};

describe('LinkedQueue', () => {
  it('keeps items oldest first through appends and take-outs anywhere, and knows which it holds', () => {
    const queue = new LinkedQueue<Item>();
    const [a, b, c] = [new Item('a'), new Item('b'), new Item('c')];
    queue.append(a);
    expect([queue.has(a), queue.has(b)]).toEqual([true, false]);
    queue.append(b);
    queue.append(c);
    queue.unlink(b);
    expect([names(queue), queue.has(b), queue.newest?.name]).toEqual([['a', 'c'], false, 'c']);
    queue.unlink(c);
    queue.append(b);
    expect([names(queue), queue.newest?.name, queue.has(c)]).toEqual([['a', 'b'], 'b', false]);
    queue.unlink(a);
    queue.unlink(b);
    expect([queue.oldest, queue.newest, queue.has(a)]).toEqual([undefined, undefined, false]);
  });
});

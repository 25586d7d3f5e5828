import { describe, expect, it } from 'vitest';
import {
  BufferedEmitter,
  DisposableStore,
  Emitter,
  LatchedEmitter,
  toDisposable,
} from '../../../main/core/util/lifecycle.js';

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('lifecycle', () => {
  it('DisposableStore disposes once, in reverse order, and disposes late additions at once', () => {
    const order: number[] = [];
    const store = new DisposableStore();
    store.add(toDisposable(() => order.push(1)));
    store.add(toDisposable(() => order.push(2)));
    store.dispose();
    store.dispose();
    store.add(toDisposable(() => order.push(3)));
    expect(order).toEqual([2, 1, 3]);
  });

  it('Emitter delivers to current listeners and forgets them on dispose', () => {
    const e = new Emitter<number>();
    const got: number[] = [];
    const d = e.event((v) => got.push(v));
    e.fire(1);
    d.dispose();
    e.fire(2);
    expect(got).toEqual([1]);
    expect(e.listenerCount).toBe(0);
  });

  it('BufferedEmitter keeps values fired before the first listener, in order', async () => {
    const e = new BufferedEmitter<string>();
    e.fire('a');
    e.fire('b');
    const got: string[] = [];
    e.event((v) => got.push(v));
    e.fire('c'); // before the backlog is flushed: must still come after a and b
    expect(got).toEqual([]);
    await tick();
    e.fire('d');
    expect(got).toEqual(['a', 'b', 'c', 'd']);
  });

  it('BufferedEmitter bounds its backlog and counts what it dropped', async () => {
    const e = new BufferedEmitter<number>(3);
    for (let i = 0; i < 5; i++) e.fire(i);
    const got: number[] = [];
    e.event((v) => got.push(v));
    await tick();
    expect(got).toEqual([2, 3, 4]);
    expect(e.dropped).toBe(2);
  });

  it('LatchedEmitter fires once and tells late listeners too', async () => {
    const e = new LatchedEmitter<string>();
    const early: string[] = [];
    e.event((v) => early.push(v));
    e.fire('closed');
    e.fire('again');
    const late: string[] = [];
    e.event((v) => late.push(v));
    const cancelled: string[] = [];
    e.event((v) => cancelled.push(v)).dispose();
    await tick();
    expect(early).toEqual(['closed']);
    expect(late).toEqual(['closed']);
    expect(cancelled).toEqual([]);
    expect(e.fired).toBe(true);
  });
});

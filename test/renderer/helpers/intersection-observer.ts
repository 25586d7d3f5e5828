/**
 * A controllable IntersectionObserver for happy-dom (whose own never reports anything): every
 * observed element is reported with `visible()`'s answer when observed and again on `update()`.
 */
import { vi } from 'vitest';

type Entry = { target: Element; isIntersecting: boolean };

export interface ObserverControl {
  /** Report every observed element again (after `visible` changed). */
  update(): void;
  /** Elements observed and not yet unobserved. */
  observed(): Element[];
}

export function stubIntersectionObserver(visible: (el: Element) => boolean = () => true): ObserverControl {
  const all = new Set<FakeObserver>();
  class FakeObserver {
    readonly targets = new Set<Element>();
    constructor(private readonly callback: (entries: Entry[], observer: FakeObserver) => void) {
      all.add(this);
    }
    observe(target: Element): void {
      this.targets.add(target);
      this.report([target]);
    }
    unobserve(target: Element): void {
      this.targets.delete(target);
    }
    disconnect(): void {
      this.targets.clear();
      all.delete(this);
    }
    takeRecords(): Entry[] {
      return [];
    }
    report(targets: Iterable<Element>): void {
      const entries = [...targets].map((target) => ({ target, isIntersecting: visible(target) }));
      if (entries.length) this.callback(entries, this);
    }
  }
  vi.stubGlobal('IntersectionObserver', FakeObserver);
  return {
    update: () => {
      for (const o of [...all]) o.report([...o.targets]);
    },
    observed: () => [...all].flatMap((o) => [...o.targets]),
  };
}

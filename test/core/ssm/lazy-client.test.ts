import { describe, expect, it } from 'vitest';
import { LazyClient, cjsExports } from '../../../main/core/ssm/lazy-client.js';

class FakeClient {
  destroyed = false;
  destroy(): void {
    this.destroyed = true;
  }
}

describe('LazyClient', () => {
  it('makes one client on first use, for every caller; dispose destroys it', async () => {
    let made = 0;
    const lazy = new LazyClient('EC2', async () => {
      made++;
      return new FakeClient();
    });
    expect(lazy.isMade).toBe(false);
    const [a, b] = await Promise.all([lazy.get(), lazy.get()]);
    expect(a).toBe(b);
    expect(made).toBe(1);
    expect(lazy.isMade).toBe(true);
    lazy.dispose();
    expect(a.destroyed).toBe(true);
    expect(lazy.isMade).toBe(false);
  });

  it('a client that finishes loading after dispose is destroyed at once, and the caller told why', async () => {
    let release!: () => void;
    const late = new FakeClient();
    const lazy = new LazyClient('KMS', () => new Promise<FakeClient>((r) => (release = () => r(late))));
    const waiting = lazy.get();
    lazy.dispose();
    release();
    await expect(waiting).rejects.toThrow('This AWS connection was closed before KMS was first used');
    expect(late.destroyed).toBe(true);
  });
});

describe('cjsExports', () => {
  it('takes named exports from the namespace, or from its default (a bundled CommonJS module)', () => {
    const exportsObject = { EC2Client: FakeClient };
    expect(cjsExports(exportsObject, 'EC2Client')).toBe(exportsObject);
    const bundled = { default: exportsObject } as unknown as typeof exportsObject;
    expect(cjsExports(bundled, 'EC2Client')).toBe(exportsObject);
    expect(() => cjsExports({ other: 1 } as unknown as typeof exportsObject, 'EC2Client')).toThrow(
      /no EC2Client export \(a broken install or bundle\)/,
    );
  });
});

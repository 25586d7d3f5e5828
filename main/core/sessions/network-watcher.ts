/**
 * Notices network changes (an address appears or goes away: Wi-Fi switch, VPN up or down,
 * cable pulled) by polling the interface list, so sessions are checked at once instead of
 * waiting for their next health check or a keystroke. Plain Node; the desktop app also feeds
 * the OS's resume events into the same place.
 */
import { networkInterfaces } from 'node:os';
import type { Disposable } from '../util/lifecycle.js';

export type InterfacesProvider = () => ReturnType<typeof networkInterfaces>;

/** A stable description of the external addresses: it changes when the network does. */
export function networkSignature(provider: InterfacesProvider = networkInterfaces): string {
  const parts: string[] = [];
  for (const [name, addrs] of Object.entries(provider())) {
    for (const a of addrs ?? []) if (!a.internal) parts.push(`${name}/${a.family}/${a.address}`);
  }
  return parts.sort().join(',');
}

export class NetworkWatcher implements Disposable {
  private last: string;
  private readonly timer: NodeJS.Timeout;

  constructor(
    onChange: (before: string, after: string) => void,
    options: { intervalMs?: number; provider?: InterfacesProvider } = {},
  ) {
    const provider = options.provider ?? networkInterfaces;
    this.last = networkSignature(provider);
    this.timer = setInterval(() => {
      const now = networkSignature(provider);
      if (now !== this.last) {
        const before = this.last;
        this.last = now;
        onChange(before, now);
      }
    }, options.intervalMs ?? 2_000);
    this.timer.unref?.();
  }

  dispose(): void {
    clearInterval(this.timer);
  }
}

/**
 * One ControlPlane (SDK clients, keep-alive connections, circuit breaker) per profile and
 * region, shared by every session and view that needs it; disposed together.
 */
import type { ControlPlane } from '../ssm/control-plane.js';
import type { Disposable } from '../util/lifecycle.js';

export class ControlPlanePool implements Disposable {
  private readonly planes = new Map<string, ControlPlane>();

  constructor(private readonly create: (profile: string, region: string) => ControlPlane) {}

  get(profile: string, region: string): ControlPlane {
    const key = `${profile}\u0000${region}`;
    let cp = this.planes.get(key);
    if (!cp) {
      cp = this.create(profile, region);
      this.planes.set(key, cp);
    }
    return cp;
  }

  get size(): number {
    return this.planes.size;
  }

  dispose(): void {
    for (const cp of this.planes.values()) cp.dispose();
    this.planes.clear();
  }
}

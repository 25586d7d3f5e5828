/**
 * Retransmission timeout estimation as the Session Manager plugin does it (TCP style,
 * RFC 6298 constants): RTT 100 ms, RTTVAR 0 and RTO 200 ms at start, then on each sample R
 *   RTTVAR = 3/4 RTTVAR + 1/4 |RTT - R|;  RTT = 7/8 RTT + 1/8 R;  RTO = RTT + max(G, 4 RTTVAR)
 * capped at MAX.
 */
export interface RttOptions {
  initialRttMs?: number;
  initialRtoMs?: number;
  clockGranularityMs?: number;
  maxRtoMs?: number;
  minRtoMs?: number;
}

export class RttEstimator {
  private rtt: number;
  private rttVar = 0;
  private rtoMs: number;
  private readonly granularity: number;
  private readonly maxRto: number;
  private readonly minRto: number;
  private samples = 0;

  constructor(options: RttOptions = {}) {
    this.rtt = options.initialRttMs ?? 100;
    this.rtoMs = options.initialRtoMs ?? 200;
    this.granularity = options.clockGranularityMs ?? 10;
    this.maxRto = options.maxRtoMs ?? 1000;
    this.minRto = options.minRtoMs ?? 0;
  }

  sample(rttMs: number): void {
    if (!Number.isFinite(rttMs) || rttMs < 0) return;
    this.rttVar = 0.75 * this.rttVar + 0.25 * Math.abs(this.rtt - rttMs);
    this.rtt = 0.875 * this.rtt + 0.125 * rttMs;
    this.rtoMs = Math.min(
      this.maxRto,
      Math.max(this.minRto, this.rtt + Math.max(this.granularity, 4 * this.rttVar)),
    );
    this.samples++;
  }

  get rto(): number {
    return this.rtoMs;
  }
  get smoothedRtt(): number {
    return this.rtt;
  }
  get variation(): number {
    return this.rttVar;
  }
  get sampleCount(): number {
    return this.samples;
  }
}

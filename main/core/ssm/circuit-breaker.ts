/**
 * A circuit breaker for one region's control plane: after `failureThreshold` failures in a
 * row that say the endpoint is unhealthy (network errors, timeouts, throttling after the
 * SDK's own retries, 5xx), calls fail fast for `cooldownMs` instead of each waiting for its
 * own timeout, so a failing region does not stall the rest of the app. After the cool-down
 * one trial call goes through (half-open): success closes the circuit, failure re-opens it.
 */
export interface CircuitBreakerOptions {
  failureThreshold: number;
  cooldownMs: number;
  now?: () => number;
}

export class CircuitOpenError extends Error {
  constructor(
    target: string,
    readonly retryInMs: number,
    readonly lastError: string,
  ) {
    super(
      `${target} is failing (calls stopped after repeated errors; last: ${lastError}). Trying again in ${Math.ceil(retryInMs / 1000)} s.`,
    );
    this.name = 'CircuitOpenError';
  }
}

export type CircuitState = 'closed' | 'open' | 'half-open';

export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private state: CircuitState = 'closed';
  private lastError = '';
  private trialInFlight = false;
  private readonly now: () => number;

  constructor(
    private readonly name: string,
    private readonly options: CircuitBreakerOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  get current(): CircuitState {
    if (this.state === 'open' && this.now() - this.openedAt >= this.options.cooldownMs) return 'half-open';
    return this.state;
  }

  async run<T>(fn: () => Promise<T>, isHealthFailure: (err: unknown) => boolean): Promise<T> {
    const state = this.current;
    if (state === 'open' || (state === 'half-open' && this.trialInFlight)) {
      throw new CircuitOpenError(
        this.name,
        this.options.cooldownMs - (this.now() - this.openedAt),
        this.lastError,
      );
    }
    const trial = state === 'half-open';
    if (trial) this.trialInFlight = true;
    try {
      const result = await fn();
      this.failures = 0;
      this.state = 'closed';
      return result;
    } catch (err) {
      if (isHealthFailure(err)) {
        this.failures++;
        this.lastError = err instanceof Error ? err.message : String(err);
        if (trial || this.failures >= this.options.failureThreshold) {
          this.state = 'open';
          this.openedAt = this.now();
        }
      } else if (trial) {
        // The endpoint answered (with an error of the caller's making): it is healthy.
        this.failures = 0;
        this.state = 'closed';
      }
      throw err;
    } finally {
      if (trial) this.trialInFlight = false;
    }
  }
}

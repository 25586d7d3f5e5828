/**
 * Reconnection policies (issue #4): the normal one, and an aggressive one for flaky links.
 * A module of their own, without runtime imports, so that the configuration schema takes its
 * defaults from here without loading the session code.
 */
import type { ReconnectPolicy } from '../ssm/session.js';

export const RECONNECT_POLICIES = {
  normal: { maxAttempts: 3, baseDelayMs: 2_000, maxDelayMs: 16_000, jitter: 0.5 },
  aggressive: { maxAttempts: 10, baseDelayMs: 500, maxDelayMs: 500, jitter: 0 },
} as const satisfies Record<string, ReconnectPolicy>;

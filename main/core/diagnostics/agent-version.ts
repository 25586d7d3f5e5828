/**
 * SSM Agent versions and the Session Manager features EC2 Connect uses. The minimums come from
 * the agent's release notes (aws/amazon-ssm-agent RELEASENOTES.md) and, for the TerminateSession
 * flag, from the reference client (aws/session-manager-plugin, src/config/config.go); see
 * docs/diagnostics.md.
 */

export interface AgentFeature {
  /** What the user can do with it, in words. */
  feature: string;
  /** The oldest agent that has it. */
  minVersion: string;
  /** True when the feature needs a version strictly newer than minVersion (the plugin's "after this version"). */
  exclusive?: boolean;
  /** Without it no session works at all. */
  essential?: boolean;
  /** Where the version comes from. */
  source: string;
}

export const AGENT_FEATURES: readonly AgentFeature[] = [
  {
    feature: 'Session Manager shells',
    minVersion: '2.3.68.0',
    essential: true,
    source: 'amazon-ssm-agent 2.3.68.0: "Enables the Session Manager capability"',
  },
  {
    feature: 'interactive commands (connect --command)',
    minVersion: '2.3.668.0',
    source: 'amazon-ssm-agent 2.3.668.0: "Add Session Manager InteractiveCommands plugin"',
  },
  {
    feature: 'ending a session cleanly from the client (the TerminateSession flag)',
    minVersion: '2.3.722.0',
    exclusive: true,
    source:
      'session-manager-plugin config.go: TerminateSessionFlagSupportedAfterThisAgentVersion = "2.3.722.0"',
  },
  {
    feature: 'non-interactive commands (connect --command --non-interactive)',
    minVersion: '3.0.1124.0',
    source: 'amazon-ssm-agent 3.0.1124.0: "Added support for NonInteractiveCommands session type"',
  },
];

/** "3.2.1582.0" -> [3, 2, 1582, 0]; undefined when it is not a dotted version. */
export function parseAgentVersion(v: string): number[] | undefined {
  const t = v.trim();
  if (!/^\d+(\.\d+){1,3}$/.test(t)) return undefined;
  const parts = t.split('.').map(Number);
  while (parts.length < 4) parts.push(0);
  return parts;
}

/** Negative when a < b, 0 when equal, positive when a > b. Both must parse. */
export function compareAgentVersions(a: string, b: string): number {
  const x = parseAgentVersion(a);
  const y = parseAgentVersion(b);
  if (!x || !y) throw new Error(`not an agent version: ${!x ? a : b}`);
  for (let i = 0; i < 4; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}

export function supports(version: string, feature: AgentFeature): boolean {
  const c = compareAgentVersions(version, feature.minVersion);
  return feature.exclusive ? c > 0 : c >= 0;
}

/** The features an agent version lacks, in release order. */
export function missingFeatures(version: string): AgentFeature[] {
  return AGENT_FEATURES.filter((f) => !supports(version, f));
}

/** The oldest version with every feature EC2 Connect uses. */
export const RECOMMENDED_AGENT_VERSION = '3.0.1124.0';

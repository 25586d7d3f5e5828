/**
 * Checks of this machine, from plain inputs: the resource governor's state (a ResourceSnapshot's
 * governor and leak watch), the history store's health (its status, `database stats` figures and
 * an integrity check), and the sessions that failed in the last 24 hours.
 */
import type { GovernorState, HistorySession, LeakStatus } from '../../../../preload/api.js';
import { formatBytes, formatSpan } from '../format.js';
import type { CheckSpec } from '../types.js';
import { CHECK_IDS, type RunEnv } from './env.js';

/** The part of a ResourceSnapshot the resources check reads. */
export interface ResourceStateInput {
  governor: Pick<GovernorState, 'level' | 'memory' | 'cpu' | 'reason' | 'refusal'> &
    Partial<Pick<GovernorState, 'lowPower'>>;
  leak?: Pick<LeakStatus, 'warning' | 'summary'> | null;
}

/** The history store's health, as `database stats` and the store's status report it. */
export interface StoreHealthInput {
  status: { available: boolean; problem: string | null; file: string | null; notice?: string };
  /** False when there is no database file yet (nothing recorded). */
  exists?: boolean;
  stats?: {
    fileBytes: number;
    walBytes: number;
    pageSize?: number;
    pageCount?: number;
    freePages?: number;
    schemaVersion?: number;
    rows: { sessions: number; session_events?: number; metrics?: number };
    writer?: { droppedMetrics?: number; rejected?: number; pending?: number };
  } | null;
  /** What an integrity check (PRAGMA quick_check) returned: ['ok'] when the file is sound. */
  integrity?: readonly string[] | null;
}

const pct = (n: number): string => `${Math.round(n * 100)} %`;

export function resourcesCheck(
  _env: RunEnv,
  input: ResourceStateInput | null | undefined,
  unavailable?: string,
): CheckSpec {
  return {
    id: CHECK_IDS.resources,
    title: 'Local resources',
    async run() {
      if (!input) {
        return {
          status: 'skip',
          figure: null,
          detail: unavailable ?? 'Not checked: no resource state was given.',
          fix: null,
        };
      }
      const g = input.governor;
      const mem = g.memory.limitBytes
        ? `memory ${formatBytes(g.memory.usedBytes)} of ${formatBytes(g.memory.limitBytes)} (${pct(g.memory.usedBytes / g.memory.limitBytes)})`
        : `memory ${formatBytes(g.memory.usedBytes)} (no limit)`;
      const cpu = g.cpu.limitPercent
        ? `CPU ${Math.round(g.cpu.percent)} % of ${g.cpu.limitPercent} %`
        : `CPU ${Math.round(g.cpu.percent)} %`;
      const figure = `${mem}, ${cpu}`;
      const lowPower = g.lowPower?.active ? ' Low-power mode is on.' : '';
      const leak = input.leak?.warning ? ` Leak watch: ${input.leak.summary}` : '';
      const fixLimits =
        'Close sessions or terminal tabs you no longer need, or raise the limits (Settings > Resources, or EC2_CONNECT_MAX_MEMORY_MB).';
      if (g.level === 'refuse') {
        return {
          status: 'fail',
          figure,
          detail: `The resource governor refuses new sessions: ${g.refusal ?? g.reason ?? 'over its limits'}.${lowPower}${leak}`,
          fix: fixLimits,
        };
      }
      if (g.level !== 'normal' || input.leak?.warning) {
        return {
          status: 'warn',
          figure,
          detail:
            g.level !== 'normal'
              ? `The resource governor is at "${g.level}": ${g.reason ?? 'near its limits'}.${lowPower}${leak}`
              : `Memory keeps growing.${leak}${lowPower}`,
          fix:
            input.leak?.warning && g.level === 'normal'
              ? 'Restart EC2 Connect when convenient, and report the leak watch summary.'
              : fixLimits,
        };
      }
      return {
        status: 'pass',
        figure,
        detail: `The resource governor is at "normal": EC2 Connect is within its limits.${lowPower}`,
        fix: null,
      };
    },
  };
}

const WAL_WARN_BYTES = 64 * 1024 * 1024;

export function storeCheck(
  _env: RunEnv,
  input: StoreHealthInput | null | undefined,
  unavailable?: string,
): CheckSpec {
  return {
    id: CHECK_IDS.store,
    title: 'History store health',
    async run() {
      if (!input) {
        return {
          status: 'skip',
          figure: null,
          detail: unavailable ?? 'Not checked: the history store was not given.',
          fix: null,
        };
      }
      const file = input.status.file ?? 'the history database';
      if (input.exists === false) {
        return {
          status: 'pass',
          figure: 'no history yet',
          detail: `${file} does not exist yet; it is created with the first session.`,
          fix: null,
        };
      }
      if (!input.status.available) {
        return {
          status: 'fail',
          figure: 'history off',
          detail: `Session history is not being recorded: ${input.status.problem ?? 'the database cannot be used'}.`,
          fix: 'Free disk space or make the data folder writable (EC2_CONNECT_DB chooses another file); sessions work without history meanwhile.',
        };
      }
      const s = input.stats;
      const figure = s
        ? `${s.rows.sessions.toLocaleString('en-US')} sessions, ${formatBytes(s.fileBytes)} (WAL ${formatBytes(s.walBytes)})`
        : null;
      const integrity = input.integrity ?? null;
      if (integrity && !(integrity.length === 1 && integrity[0] === 'ok')) {
        return {
          status: 'fail',
          figure: figure ?? 'damaged',
          detail: `The integrity check of ${file} found problems: ${integrity
            .slice(0, 3)
            .map((l) => l.replace(/\s+/g, ' ').trim())
            .join('; ')}${integrity.length > 3 ? ` (and ${integrity.length - 3} more)` : ''}.`,
          fix: `Quit EC2 Connect and move ${file} aside (it is recreated empty on the next start; the old history stays in the moved file, and \`sqlite3 <file> .recover\` may save it).`,
        };
      }
      const warnings: string[] = [];
      const fixes: string[] = [];
      if (input.status.notice) warnings.push(input.status.notice);
      if (s && s.walBytes > WAL_WARN_BYTES) {
        warnings.push(
          `the write-ahead log is ${formatBytes(s.walBytes)} (it is folded back while nothing reads the database)`,
        );
        fixes.push(
          'Quit the EC2 Connect processes that keep the database open, or run `ec2-connect database cleanup --days 30 --vacuum`.',
        );
      }
      if (
        s?.pageCount &&
        s.freePages !== undefined &&
        s.fileBytes > 64 * 1024 * 1024 &&
        s.freePages / s.pageCount > 0.5
      ) {
        warnings.push(`${pct(s.freePages / s.pageCount)} of the file is free pages`);
        fixes.push('Compact it: `ec2-connect database cleanup --days 90 --vacuum`.');
      }
      if (s?.writer?.droppedMetrics) {
        warnings.push(`${s.writer.droppedMetrics} metric samples were dropped because writing fell behind`);
        fixes.push('The disk is slow or busy; metrics recording catches up by itself.');
      }
      const ok = integrity ? ', integrity ok' : '';
      if (warnings.length) {
        return {
          status: 'warn',
          figure: figure ? `${figure}${ok}` : null,
          detail: `${file}: ${warnings.join('; ')}.`,
          fix: fixes.length ? [...new Set(fixes)].join(' ') : 'Nothing to do unless it repeats.',
        };
      }
      return {
        status: 'pass',
        figure: figure ? `${figure}${ok}` : 'recording',
        detail: `${file} is recording${s ? ` (schema ${s.schemaVersion ?? '?'}, ${s.rows.sessions} sessions)` : ''}${integrity ? '; the integrity check found no problem' : ''}.`,
        fix: null,
      };
    },
  };
}

export function recentFailuresCheck(
  env: RunEnv,
  sessions: readonly HistorySession[] | null | undefined,
  unavailable?: string,
): CheckSpec {
  return {
    id: CHECK_IDS.recentFailures,
    title: 'Recent session failures',
    async run() {
      if (!sessions) {
        return {
          status: 'skip',
          figure: null,
          detail: unavailable ?? 'Not checked: the session history was not given.',
          fix: null,
        };
      }
      const since = env.now() - 24 * 3_600_000;
      const failed = sessions.filter((s) => s.outcome === 'failed' && Date.parse(s.startedAt) >= since);
      if (failed.length === 0) {
        return {
          status: 'pass',
          figure: 'none in 24 h',
          detail: 'No session failed in the last 24 hours.',
          fix: null,
        };
      }
      const groups = new Map<
        string,
        { label: string; count: number; reasons: Map<string, number>; last: number }
      >();
      for (const s of failed) {
        const key = s.instanceId;
        const g = groups.get(key) ?? {
          label:
            s.instanceName && s.instanceName !== s.instanceId
              ? `${s.instanceName} (${s.instanceId})`
              : s.instanceId,
          count: 0,
          reasons: new Map<string, number>(),
          last: 0,
        };
        g.count++;
        const reason = (s.endReason ?? 'no reason recorded').replace(/\s+/g, ' ').slice(0, 160);
        g.reasons.set(reason, (g.reasons.get(reason) ?? 0) + 1);
        g.last = Math.max(g.last, Date.parse(s.startedAt));
        groups.set(key, g);
      }
      const ordered = [...groups.values()].sort((a, b) => b.count - a.count || b.last - a.last);
      const parts = ordered.slice(0, 5).map((g) => {
        const top = [...g.reasons.entries()].sort((a, b) => b[1] - a[1])[0]!;
        return `${g.label}: ${g.count} (last ${formatSpan(env.now() - g.last)} ago; "${top[0]}"${g.reasons.size > 1 ? ` and ${g.reasons.size - 1} other reason${g.reasons.size > 2 ? 's' : ''}` : ''})`;
      });
      const more = ordered.length > 5 ? `; and ${ordered.length - 5} more instances` : '';
      const worst = ordered[0]!;
      const worstId = failed.find((s) => groups.get(s.instanceId) === worst)!.instanceId;
      return {
        status: 'warn',
        figure: `${failed.length} failed in 24 h`,
        detail: `${failed.length} session${failed.length === 1 ? '' : 's'} failed in the last 24 hours: ${parts.join('; ')}${more}.`,
        fix: `Run \`ec2-connect diagnose preventive --instance-id ${worstId}\` for the instance that fails most; the History view shows each failure's events.`,
      };
    },
  };
}

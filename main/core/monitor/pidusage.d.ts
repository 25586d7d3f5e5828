/**
 * Types for pidusage 4 (the package ships none; @types/pidusage describes v2, whose API is the same).
 * Only what the monitor uses.
 */
declare module 'pidusage' {
  namespace pidusage {
    interface Status {
      /** Percent of one core since the previous call for this pid (can exceed 100). */
      cpu: number;
      /** Resident set size in bytes. */
      memory: number;
      ppid: number;
      pid: number;
      /** ms of CPU time (user + system). */
      ctime: number;
      /** ms since the process started. */
      elapsed: number;
      /** Epoch ms of the reading. */
      timestamp: number;
    }
    interface Options {
      /** How long (ms) the per-pid history (previous reading, open /proc fd) is kept; default 60000. */
      maxage?: number;
      usePs?: boolean;
    }
    function clear(): void;
  }
  /** With several pids, vanished ones are null/undefined rather than an error (on Linux). */
  function pidusage(
    pids: number[],
    options?: pidusage.Options,
  ): Promise<Record<number, pidusage.Status | null | undefined>>;
  function pidusage(pid: number, options?: pidusage.Options): Promise<pidusage.Status>;
  export = pidusage;
}

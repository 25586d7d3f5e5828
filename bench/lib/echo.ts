/**
 * Keystroke echo round trips, as bench/run.ts (our session, bare PTY, raw WebSocket),
 * bench/plugin.ts (the official plugin beside `ec2-connect connect`) and bench/faults.ts (with
 * latency or loss injected) measure them.
 */

/** A stream to type into and read from; each echo's time goes to `samples` (ms). */
export interface EchoTarget {
  write(data: Buffer): void;
  subscribe(fn: (b: Buffer) => void): () => void;
  samples: number[];
}

/** An echo that takes longer fails the run (a shell or a faulty link that stopped answering). */
const ECHO_TIMEOUT_MS = 30_000;

/** One echo round trip: write 'x', wait for an 'x' in the output. */
async function echoOnce(t: EchoTarget): Promise<void> {
  let unsub: () => void = () => {};
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t0 = performance.now();
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error('no echo within 30 s: the shell or the faulty link stopped answering')),
        ECHO_TIMEOUT_MS,
      );
      unsub = t.subscribe((b) => {
        if (b.includes(0x78)) resolve();
      });
      t.write(Buffer.from('x'));
    });
  } finally {
    clearTimeout(timer);
    unsub();
  }
  t.samples.push(performance.now() - t0);
}

/**
 * `n` echo round trips on each target, interleaved in rounds of 10 keystrokes so that machine
 * noise falls on all of them alike; the line is cleared (Ctrl-U) after each round.
 */
export async function echoInterleaved(targets: EchoTarget[], n: number): Promise<void> {
  for (let done = 0; done < n; done += 10) {
    for (const t of targets) {
      for (let i = 0; i < Math.min(10, n - done); i++) await echoOnce(t);
      t.write(Buffer.from([0x15]));
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

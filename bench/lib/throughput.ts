/**
 * The shell-output throughput run every bench shares: `cat` a file in a shell, then an end
 * marker (typed split in two, so its echo is not the marker), and time until the marker arrives.
 */

const MARKER = Buffer.from('END-OF-BENCH');

/** MB/s of output bytes received (and how many) from the command to the end marker. */
export async function catThroughput(
  file: string,
  write: (b: Buffer) => void,
  subscribe: (fn: (b: Buffer) => void) => () => void,
): Promise<{ mbps: number; bytes: number }> {
  let bytes = 0;
  let tail = Buffer.alloc(0);
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const unsub = subscribe((b) => {
      bytes += b.length;
      const window = Buffer.concat([tail, b]);
      tail = window.subarray(-MARKER.length);
      if (window.includes(MARKER)) {
        unsub();
        resolve();
      }
    });
    write(Buffer.from(`cat ${file}; echo END-OF""-BENCH\r`));
  });
  const s = (performance.now() - t0) / 1000;
  return { mbps: bytes / 1024 / 1024 / s, bytes };
}

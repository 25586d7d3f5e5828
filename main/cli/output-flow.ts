/**
 * Session output to a stream that may be slower than the network (a pipe into `less`, a slow
 * terminal, `ec2-connect connect ... | gzip > file`). Without flow control, output would pile up
 * in this process's memory; instead, when the stream's buffer passes the high-water mark
 * (performance.flow_control_high_water_kib), the session stops reading from the data channel,
 * which holds the agent back through TCP, and reads on once the stream has drained below the
 * low-water mark. No byte is dropped either way.
 */
import type { Disposable } from '../core/util/lifecycle.js';

export interface OutputSource {
  onOutput(listener: (chunk: Buffer) => void): Disposable;
  pauseOutput(): void;
  resumeOutput(): void;
}

export interface FlowMarks {
  highWaterBytes: number;
  lowWaterBytes: number;
}

export interface OutputFlow extends Disposable {
  /** Times output was paused because the stream fell behind. */
  readonly pauses: number;
  readonly paused: boolean;
}

export function pipeOutput(
  source: OutputSource,
  stream: NodeJS.WritableStream & { writableLength?: number },
  marks: FlowMarks,
): OutputFlow {
  let paused = false;
  let pauses = 0;
  let disposed = false;
  const backlog = (): number => stream.writableLength ?? 0;
  const onDrain = (): void => {
    if (!paused || backlog() > marks.lowWaterBytes) return;
    paused = false;
    stream.off('drain', onDrain);
    source.resumeOutput();
  };
  const sub = source.onOutput((chunk) => {
    stream.write(chunk);
    if (!paused && backlog() > marks.highWaterBytes) {
      paused = true;
      pauses++;
      source.pauseOutput();
      stream.on('drain', onDrain);
    }
  });
  return {
    get pauses() {
      return pauses;
    },
    get paused() {
      return paused;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      sub.dispose();
      stream.off('drain', onDrain);
      if (paused) source.resumeOutput();
      paused = false;
    },
  };
}

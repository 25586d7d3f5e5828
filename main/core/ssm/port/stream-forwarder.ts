/**
 * One stream over the session (AWS-StartSSHSession, or any port document without the
 * LocalPortForwarding type), as the reference client's StandardStreamForwarding: what `input`
 * gives goes to the instance's port, what comes back is written to `output`. The end of input
 * ends the session. Used by `ec2-connect ssh-proxy` with standard input and output.
 */
import { FlagValue } from '../codec.js';
import { DisposableStore, toDisposable, type Disposable } from '../../util/lifecycle.js';
import type { SsmSession } from '../session.js';

export interface StreamForwardStats {
  bytesIn: number;
  bytesOut: number;
}

export class StreamForwarder implements Disposable {
  private readonly store = new DisposableStore();
  readonly stats: StreamForwardStats = { bytesIn: 0, bytesOut: 0 };

  constructor(
    session: SsmSession,
    input: NodeJS.ReadableStream,
    output: NodeJS.WritableStream,
    onInputEnd: () => void,
    onRefused: (reason: string) => void,
  ) {
    const channel = session.channel;
    let paused = false;
    this.store.add(
      session.onOutput((chunk) => {
        this.stats.bytesIn += chunk.length;
        if (!output.write(chunk) && !paused) {
          paused = true;
          session.pauseOutput();
          output.once('drain', () => {
            paused = false;
            session.resumeOutput();
          });
        }
      }),
    );
    this.store.add(
      channel.onFlag((flag) => {
        if (flag === FlagValue.ConnectToPortError)
          onRefused('the instance could not connect to the port (ConnectToPortError)');
      }),
    );
    const onData = (d: Buffer | string): void => {
      if (session.state === 'closed') return;
      const buf = typeof d === 'string' ? Buffer.from(d) : d;
      this.stats.bytesOut += buf.length;
      if (!channel.send(buf)) {
        input.pause();
        const sub = channel.onWritable(() => {
          sub.dispose();
          input.resume();
        });
      }
    };
    input.on('data', onData);
    input.once('end', onInputEnd);
    input.resume();
    this.store.add(
      toDisposable(() => {
        input.off('data', onData);
        input.off('end', onInputEnd);
        input.pause();
      }),
    );
  }

  dispose(): void {
    this.store.dispose();
  }
}

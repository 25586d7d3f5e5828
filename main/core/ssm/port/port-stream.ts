/**
 * A port session carried on one pair of streams (AWS-StartSSHSession by default): the engine of
 * `ec2-connect ssh-proxy`, an OpenSSH ProxyCommand. Input ending ends the session; the session
 * ending (the SSH server closed the connection, the session was terminated) resolves `done`.
 */
import { silentLogger, type Logger } from '../../log/logger.js';
import type { ControlPlane } from '../control-plane.js';
import { SessionTypeName } from '../handshake.js';
import { SsmSession, type ReconnectPolicy, type SessionClosed } from '../session.js';
import { checkPort, PortForwardError } from './local-listener.js';
import { StreamForwarder } from './stream-forwarder.js';

export const SSH_DOCUMENT = 'AWS-StartSSHSession';

export interface PortStreamOptions {
  controlPlane: ControlPlane;
  target: string;
  /** The port on the instance (default 22). */
  port?: number;
  documentName?: string;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  reconnect?: Partial<ReconnectPolicy>;
  logger?: Logger;
}

export interface PortStream {
  session: SsmSession;
  forwarder: StreamForwarder;
  /** Resolves when the session has ended, with how. */
  done: Promise<SessionClosed>;
}

export async function openPortStream(options: PortStreamOptions): Promise<PortStream> {
  const port = checkPort(options.port ?? 22, 'The port');
  if (!port) throw new PortForwardError('invalid-port', 'The port must be a port number from 1 to 65535.');
  const log = (options.logger ?? silentLogger).child({ target: options.target, port });
  const session = await SsmSession.open({
    controlPlane: options.controlPlane,
    target: options.target,
    documentName: options.documentName ?? SSH_DOCUMENT,
    parameters: { portNumber: [String(port)] },
    ...(options.reconnect ? { reconnect: options.reconnect } : {}),
    dataChannel: { supportedSessionTypes: [SessionTypeName.Port] },
    logger: log,
  });
  let refused: string | undefined;
  const done = new Promise<SessionClosed>((resolve) => session.onClosed(resolve));
  const forwarder = new StreamForwarder(
    session,
    options.input,
    options.output,
    () => void session.terminate('the input ended').catch(() => undefined),
    (reason) => {
      refused = reason;
      void session.terminate(reason).catch(() => undefined);
    },
  );
  return {
    session,
    forwarder,
    done: done.then((c) => {
      forwarder.dispose();
      return refused ? { ...c, how: 'failed' as const, reason: refused } : c;
    }),
  };
}

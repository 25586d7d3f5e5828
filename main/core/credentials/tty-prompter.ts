/**
 * The CLI's CredentialPrompter: MFA codes are read from the terminal with echo off (stdin
 * when it is a terminal, else /dev/tty, so piped input stays for the session; with no
 * terminal at all, one line of stdin), and an SSO sign-in prints the URL and code on stderr
 * and opens the browser (unless told not to, or there is no terminal).
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { ReadStream } from 'node:tty';
import {
  PromptCancelledError,
  PromptCompleted,
  PromptTimeoutError,
  type CredentialPrompter,
  type MfaPromptContext,
  type SsoDeviceLoginInfo,
} from './types.js';

export interface TtyPrompterOptions {
  /** Open the sign-in page in the default browser (default: when stdin and stderr are terminals). */
  openBrowser?: boolean;
  /** Where prompts and messages go (default stderr). */
  output?: NodeJS.WritableStream;
  /** Opens a URL (default: open / xdg-open / start); for tests. */
  open?: (url: string) => void;
}

/** Opens a URL in the default browser, quietly: a failure only prints a hint. */
export function openInBrowser(url: string, output: NodeJS.WritableStream = process.stderr): void {
  const [cmd, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '""', url]]
        : ['xdg-open', [url]];
  try {
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
    child.once('error', () => output.write(`(Could not start ${cmd}; open the URL yourself.)\n`));
    child.unref();
  } catch {
    output.write(`(Could not start ${cmd}; open the URL yourself.)\n`);
  }
}

/** A terminal to read from: stdin if it is one, else the controlling terminal; undefined when there is none. */
function terminalInput(): { stream: NodeJS.ReadStream; close(): void } | undefined {
  if (process.stdin.isTTY) return { stream: process.stdin, close: () => undefined };
  if (process.platform === 'win32') return undefined;
  let fd: number;
  try {
    fd = openSync('/dev/tty', 'r');
  } catch {
    return undefined;
  }
  try {
    const stream = new ReadStream(fd);
    return {
      stream,
      close: () => {
        stream.destroy();
      },
    };
  } catch {
    closeSync(fd);
    return undefined;
  }
}

/** Reads a code without echo from a terminal: digits, Backspace, Enter; Ctrl-C / Ctrl-D cancel. */
function readHidden(input: NodeJS.ReadStream, signal: AbortSignal): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const wasRaw = input.isRaw;
    let text = '';
    const finish = (err: Error | undefined): void => {
      input.off('data', onData);
      signal.removeEventListener('abort', onAbort);
      try {
        input.setRawMode(wasRaw);
      } catch {
        // the terminal went away
      }
      input.pause();
      if (err) reject(err);
      else resolve(text);
    };
    const onData = (chunk: Buffer): void => {
      for (const byte of chunk) {
        if (byte === 0x03 || byte === 0x04) return finish(new PromptCancelledError());
        if (byte === 0x0d || byte === 0x0a) return finish(undefined);
        if (byte === 0x7f || byte === 0x08) text = text.slice(0, -1);
        else if (byte >= 0x20 && byte < 0x7f && text.length < 64) text += String.fromCharCode(byte);
      }
    };
    const onAbort = (): void =>
      finish(signal.reason instanceof Error ? signal.reason : new PromptCancelledError());
    input.setRawMode(true);
    input.on('data', onData);
    signal.addEventListener('abort', onAbort, { once: true });
    input.resume();
  });
}

/** Reads one line of (piped) stdin. */
function readLine(signal: AbortSignal): Promise<string> {
  const input = process.stdin;
  return new Promise<string>((resolve, reject) => {
    let text = '';
    const finish = (err: Error | undefined): void => {
      input.off('data', onData);
      input.off('end', onEnd);
      signal.removeEventListener('abort', onAbort);
      input.pause();
      if (err) reject(err);
      else resolve(text);
    };
    const onData = (chunk: Buffer): void => {
      const s = chunk.toString('utf8');
      const nl = s.indexOf('\n');
      if (nl < 0) {
        text += s;
        return;
      }
      text += s.slice(0, nl);
      const rest = chunk.subarray(Buffer.byteLength(s.slice(0, nl + 1)));
      if (rest.length > 0) input.unshift(rest);
      finish(undefined);
    };
    const onEnd = (): void => finish(text ? undefined : new PromptCancelledError('No MFA code on stdin.'));
    const onAbort = (): void =>
      finish(signal.reason instanceof Error ? signal.reason : new PromptCancelledError());
    input.on('data', onData);
    input.on('end', onEnd);
    signal.addEventListener('abort', onAbort, { once: true });
    input.resume();
  });
}

export function createTtyPrompter(options: TtyPrompterOptions = {}): CredentialPrompter {
  const out = options.output ?? process.stderr;
  const open = options.open ?? ((url: string) => openInBrowser(url, out));
  return {
    async mfa(
      profile: string,
      serial: string,
      signal: AbortSignal,
      context?: MfaPromptContext,
    ): Promise<string> {
      if (context?.retryReason) out.write(`${context.retryReason}; try again.\n`);
      out.write(`MFA code for ${serial} (profile "${profile}"): `);
      const terminal = terminalInput();
      try {
        const code = terminal ? await readHidden(terminal.stream, signal) : await readLine(signal);
        out.write('\n');
        return code.trim();
      } catch (err) {
        out.write(err instanceof PromptTimeoutError ? '\n(timed out)\n' : '\n');
        throw err;
      } finally {
        terminal?.close();
      }
    },

    ssoDeviceLogin(info: SsoDeviceLoginInfo, signal: AbortSignal): void {
      const url = info.verificationUriComplete ?? info.verificationUri;
      const browser = options.openBrowser ?? Boolean(process.stdin.isTTY && process.stderr.isTTY);
      out.write(
        `Sign in to IAM Identity Center (${info.startUrl}) for the profile "${info.profile}".\n` +
          `${browser ? 'Opening' : 'Open'} ${url}\n` +
          `and check that it shows the code ${info.userCode} (or open ${info.verificationUri} and enter it).\n` +
          `Waiting for approval (the code expires at ${info.expiresAt.toLocaleTimeString()})...\n`,
      );
      if (browser) open(url);
      signal.addEventListener(
        'abort',
        () => {
          if (signal.reason instanceof PromptCompleted) out.write('Signed in.\n');
          else if (signal.reason instanceof PromptTimeoutError) out.write('The sign-in code expired.\n');
        },
        { once: true },
      );
    },
  };
}

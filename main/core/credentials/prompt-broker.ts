/**
 * The app's CredentialPrompter: each question becomes a `credentials.prompt` event (the
 * CredentialPrompt of preload/api.ts) and waits for `credentials.answer`; every prompt ends
 * with exactly one `credentials.promptDone` (answered, cancelled, or expired when the
 * resolver withdrew it: timeout, SSO code expired, sign-in finished elsewhere).
 *
 * Wiring (the workspace):
 *   const broker = new CredentialPromptBroker();
 *   broker.onPrompt((p) => emit('credentials.prompt', p));
 *   broker.onPromptDone((d) => emit('credentials.promptDone', d));
 *   handlers['credentials.answer'] = async (req) => { broker.answer(req.id, req); return null; };
 *   const resolver = new CredentialResolver({ prompter: broker });
 * and `broker.pending()` re-sends open prompts to a window that (re)loads.
 */
import { randomUUID } from 'node:crypto';
import type { CredentialPrompt } from '../../../preload/api.js';
import { Emitter, type Disposable, type Event } from '../util/lifecycle.js';
import {
  PromptCancelledError,
  promptOutcome,
  type CredentialPrompter,
  type MfaPromptContext,
  type SsoDeviceLoginInfo,
} from './types.js';

export type PromptOutcome = 'answered' | 'cancelled' | 'expired';

export interface PromptDone {
  id: string;
  outcome: PromptOutcome;
}

export interface PromptAnswer {
  /** The MFA code, for an mfa prompt. */
  code?: string;
  cancel?: boolean;
}

interface Open {
  prompt: CredentialPrompt;
  resolve(code: string): void;
  reject(err: Error): void;
  cleanup(): void;
}

/** Thrown by `answer` for an id that is not waiting, or an answer that does not fit the prompt. */
export class PromptAnswerError extends Error {
  override readonly name = 'PromptAnswerError';
}

export class CredentialPromptBroker implements CredentialPrompter, Disposable {
  private readonly open = new Map<string, Open>();
  private readonly prompted = new Emitter<CredentialPrompt>();
  private readonly done = new Emitter<PromptDone>();

  /** A prompt to show (`credentials.prompt`). */
  readonly onPrompt: Event<CredentialPrompt> = this.prompted.event;
  /** A prompt is over (`credentials.promptDone`). */
  readonly onPromptDone: Event<PromptDone> = this.done.event;

  /** Prompts waiting for the user, oldest first (for a window that loads while they are open). */
  pending(): CredentialPrompt[] {
    return [...this.open.values()].map((o) => ({
      ...o.prompt,
      ...(o.prompt.sso ? { sso: { ...o.prompt.sso } } : {}),
    }));
  }

  /** The user's answer to prompt `id`: an MFA code, or cancel (either kind). */
  answer(id: string, answer: PromptAnswer): void {
    const o = this.open.get(id);
    if (!o) {
      throw new PromptAnswerError(
        `No credentials prompt ${id} is waiting: it was answered, cancelled or timed out.`,
      );
    }
    if (answer.cancel) {
      this.finish(id, 'cancelled');
      o.reject(new PromptCancelledError());
      return;
    }
    if (o.prompt.kind === 'sso') {
      throw new PromptAnswerError(
        'A sign-in prompt takes no code: approve the request in the browser, or cancel it.',
      );
    }
    const code = (answer.code ?? '').trim();
    if (!/^\d{6}$/.test(code)) throw new PromptAnswerError('An MFA code is 6 digits.');
    this.finish(id, 'answered');
    o.resolve(code);
  }

  mfa(profile: string, serial: string, signal: AbortSignal, context?: MfaPromptContext): Promise<string> {
    // After a refused code, a new prompt says why (`problem`, shown as the dialog's error).
    return this.ask(
      {
        id: randomUUID(),
        kind: 'mfa',
        profile,
        message: `Enter the code your MFA device shows now to use the profile "${profile}".`,
        mfaSerial: serial,
        ...(context?.roleArn ? { roleArn: context.roleArn } : {}),
        ...(context?.retryReason
          ? { problem: `${context.retryReason}. Enter the code the device shows now.` }
          : {}),
      },
      signal,
    );
  }

  ssoDeviceLogin(info: SsoDeviceLoginInfo, signal: AbortSignal): Promise<void> {
    return this.ask(
      {
        id: randomUUID(),
        kind: 'sso',
        profile: info.profile,
        message: `Sign in to IAM Identity Center (${info.startUrl}) for the profile "${info.profile}".`,
        sso: {
          verificationUri: info.verificationUri,
          ...(info.verificationUriComplete ? { verificationUriComplete: info.verificationUriComplete } : {}),
          userCode: info.userCode,
          expiresAt: info.expiresAt.toISOString(),
        },
      },
      signal,
    ).then(() => undefined);
  }

  /** Cancel every open prompt. */
  cancelAll(): void {
    for (const [id, o] of [...this.open]) {
      this.finish(id, 'cancelled');
      o.reject(new PromptCancelledError());
    }
  }

  dispose(): void {
    this.cancelAll();
    this.prompted.dispose();
    this.done.dispose();
  }

  private ask(prompt: CredentialPrompt, signal: AbortSignal): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason instanceof Error ? signal.reason : new PromptCancelledError());
        return;
      }
      const onAbort = (): void => {
        if (!this.open.has(prompt.id)) return;
        this.finish(prompt.id, promptOutcome(signal.reason));
        reject(signal.reason instanceof Error ? signal.reason : new PromptCancelledError());
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.open.set(prompt.id, {
        prompt,
        resolve,
        reject,
        cleanup: () => signal.removeEventListener('abort', onAbort),
      });
      this.prompted.fire(prompt);
    });
  }

  private finish(id: string, outcome: PromptOutcome): void {
    const o = this.open.get(id);
    if (!o) return;
    this.open.delete(id);
    o.cleanup();
    this.done.fire({ id, outcome });
  }
}

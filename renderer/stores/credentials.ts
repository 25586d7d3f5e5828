/**
 * What credentials need from the user (issue 8): `credentials.prompt` asks for an MFA code or an
 * SSO sign-in in the browser, `credentials.promptDone` says a prompt was answered (here or in
 * another window), cancelled or expired. Prompts queue: the dialog shows the oldest.
 * `credentials.answer` sends the code (or cancels). Also the SSO sign-in started from the
 * profile switcher (`profiles.login`), per profile: in progress, failed, or signed in until when.
 */
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { CredentialPrompt } from '../../preload/api.js';
import { getBridge } from '../bridge/index.js';
import { describeError } from '../components/format.js';

export const MFA_CODE = /^\d{6}$/;

/** The code as typed, without spaces (authenticator apps show `123 456`). */
export function normalizeMfaCode(text: string): string {
  return text.replace(/\s+/g, '');
}

/** Why a code cannot be sent, or null. */
export function mfaCodeProblem(text: string): string | null {
  const code = normalizeMfaCode(text);
  if (code === '') return 'Enter the 6-digit code your MFA device shows.';
  if (/\D/.test(code)) return 'The code is digits only.';
  if (code.length !== 6) return `The code has 6 digits (${code.length} entered).`;
  return null;
}

/** "9:05" left until `expiresAt`; null once expired. */
export function timeLeft(expiresAt: string, now: number): string | null {
  const ms = Date.parse(expiresAt) - now;
  if (!(ms > 0)) return null;
  const s = Math.ceil(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

export interface LoginState {
  busy: boolean;
  error: string | null;
  expiresAt: string | null;
}

export const useCredentialsStore = defineStore('credentials', () => {
  const queue = ref<CredentialPrompt[]>([]);
  const current = computed<CredentialPrompt | null>(() => queue.value[0] ?? null);
  const answering = ref(false);
  /** The last refused answer (shown in the dialog until the next try). */
  const answerError = ref<string | null>(null);
  /** How the last prompt ended when it was not answered here (expired, cancelled elsewhere). */
  const lastOutcome = ref<{ profile: string; outcome: 'cancelled' | 'expired' } | null>(null);
  const logins = ref<Record<string, LoginState>>({});

  let started = false;
  const unsubscribers: Array<() => void> = [];

  function remove(id: string): CredentialPrompt | undefined {
    const gone = queue.value.find((p) => p.id === id);
    if (!gone) return undefined;
    if (queue.value[0]?.id === id) answerError.value = null;
    queue.value = queue.value.filter((p) => p.id !== id);
    return gone;
  }

  function init(): void {
    if (started) return;
    started = true;
    const bridge = getBridge();
    unsubscribers.push(
      bridge.on('credentials.prompt', (prompt) => {
        if (queue.value.some((p) => p.id === prompt.id)) return;
        queue.value = [...queue.value, prompt];
      }),
      bridge.on('credentials.promptDone', ({ id, outcome }) => {
        const gone = remove(id);
        if (gone && outcome !== 'answered') lastOutcome.value = { profile: gone.profile, outcome };
      }),
    );
  }

  function dispose(): void {
    for (const off of unsubscribers.splice(0)) off();
    started = false;
  }

  /** Send the MFA code for the current prompt. True when it was taken. */
  async function answer(code: string): Promise<boolean> {
    const prompt = current.value;
    if (!prompt || answering.value) return false;
    const normalized = normalizeMfaCode(code);
    const problem = mfaCodeProblem(normalized);
    if (problem) {
      answerError.value = problem;
      return false;
    }
    answering.value = true;
    try {
      await getBridge().invoke('credentials.answer', { id: prompt.id, code: normalized });
      remove(prompt.id);
      return true;
    } catch (err) {
      answerError.value = describeError(err);
      return false;
    } finally {
      answering.value = false;
    }
  }

  /** Cancel the current prompt (what needed it fails with "cancelled"). */
  async function cancel(): Promise<void> {
    const prompt = current.value;
    if (!prompt) return;
    remove(prompt.id);
    try {
      await getBridge().invoke('credentials.answer', { id: prompt.id, cancel: true });
    } catch {
      // already answered, expired or gone: nothing waits for it any more
    }
  }

  function loginState(profile: string): LoginState {
    return logins.value[profile] ?? { busy: false, error: null, expiresAt: null };
  }

  /** Sign in to an SSO profile (a credentials.prompt says where). True on success. */
  async function login(profile: string): Promise<boolean> {
    if (loginState(profile).busy) return false;
    logins.value = { ...logins.value, [profile]: { busy: true, error: null, expiresAt: null } };
    try {
      const result = await getBridge().invoke('profiles.login', { profile });
      logins.value = {
        ...logins.value,
        [profile]: { busy: false, error: null, expiresAt: result.expiresAt },
      };
      return true;
    } catch (err) {
      logins.value = {
        ...logins.value,
        [profile]: { busy: false, error: describeError(err), expiresAt: null },
      };
      return false;
    }
  }

  function clearLoginError(profile: string): void {
    const s = logins.value[profile];
    if (s) logins.value = { ...logins.value, [profile]: { ...s, error: null } };
  }

  return {
    queue,
    current,
    answering,
    answerError,
    lastOutcome,
    logins,
    init,
    dispose,
    answer,
    cancel,
    loginState,
    login,
    clearLoginError,
  };
});

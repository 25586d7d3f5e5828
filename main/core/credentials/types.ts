/**
 * What the credential resolver asks of the user, and how it says what went wrong.
 *
 * The resolver never talks to a person itself: the app (events to the renderer, answered
 * with `credentials.answer`) and the CLI (a prompt on the terminal) implement
 * {@link CredentialPrompter}. Prompts can be cancelled by the user (the prompter rejects
 * with {@link PromptCancelledError}) and are withdrawn by the resolver through their
 * AbortSignal (timed out: reason {@link PromptTimeoutError}; no longer needed or
 * finished: reason {@link PromptCompleted}).
 */

/** Shown while an SSO (IAM Identity Center) device sign-in waits for the user's approval. */
export interface SsoDeviceLoginInfo {
  profile: string;
  /** Where to sign in (the page asks for the code). */
  verificationUri: string;
  /** The same page with the code filled in (open this one in a browser when possible). */
  verificationUriComplete?: string;
  /** The code to check on that page, e.g. "BCDF-GHJK". */
  userCode: string;
  /** When the code stops working. */
  expiresAt: Date;
  /** The IAM Identity Center start URL being signed in to. */
  startUrl: string;
}

/** Extra context for an MFA prompt. */
export interface MfaPromptContext {
  /** 1 for the first ask; 2 and up after a wrong code. */
  attempt: number;
  /** Why it asks again (e.g. "the code 123456 was wrong"), for attempts after the first. */
  retryReason?: string;
  /** Profiles from the named one to the one with mfa_serial. */
  chain?: string[];
  /** The role the code is for (role_arn of the profile with mfa_serial). */
  roleArn?: string;
}

/** Implemented by the app (events) and the CLI (TTY prompt). */
export interface CredentialPrompter {
  /**
   * Ask for the current code of the MFA device `serial` (a 6-digit TOTP code) needed to
   * assume the role of `profile`. Resolve with the code; reject with PromptCancelledError
   * when the user cancels. `signal` aborts when the resolver withdraws the prompt (timeout).
   */
  mfa(profile: string, serial: string, signal: AbortSignal, context?: MfaPromptContext): Promise<string>;
  /**
   * Tell the user to approve an SSO sign-in (show the URL and code; the CLI may open the
   * browser). The resolver polls for the approval meanwhile; `signal` aborts when the sign-in
   * is over (approved: reason PromptCompleted; expired: PromptTimeoutError; failed or no
   * longer needed: another reason). Returning (or resolving) means "shown"; rejecting
   * cancels the sign-in.
   */
  ssoDeviceLogin(info: SsoDeviceLoginInfo, signal: AbortSignal): void | Promise<void>;
}

/** The user cancelled a prompt (prompters reject with this). */
export class PromptCancelledError extends Error {
  override readonly name = 'PromptCancelledError';
  constructor(message = 'The prompt was cancelled.') {
    super(message);
  }
}

/** Abort reason: the prompt was not answered in time (or the SSO code expired). */
export class PromptTimeoutError extends Error {
  override readonly name = 'PromptTimeoutError';
  constructor(message = 'The prompt timed out.') {
    super(message);
  }
}

/** Abort reason: what the prompt waited for happened (the SSO sign-in was approved). */
export class PromptCompleted extends Error {
  override readonly name = 'PromptCompleted';
  constructor(message = 'Done.') {
    super(message);
  }
}

/**
 * Abort reason: the user answered "no" where the prompt sent them (the SSO sign-in was denied
 * in the browser). The prompt was answered; what waited for it fails with an error saying so.
 */
export class PromptDeclined extends Error {
  override readonly name = 'PromptDeclined';
  constructor(message = 'Declined.') {
    super(message);
  }
}

/** How a withdrawn prompt ended, from its signal's reason (for `credentials.promptDone`). */
export function promptOutcome(reason: unknown): 'answered' | 'cancelled' | 'expired' {
  if (reason instanceof PromptCompleted || reason instanceof PromptDeclined) return 'answered';
  if (reason instanceof PromptTimeoutError) return 'expired';
  return 'cancelled';
}

export type CredentialErrorCode =
  /** The profile is in neither file. */
  | 'profile-not-found'
  /** The profile's settings are incomplete or contradictory (the message says which). */
  | 'profile-invalid'
  /** The profile sets no kind of credentials. */
  | 'no-credentials'
  /** source_profile leads back to a profile already on the way. */
  | 'source-profile-loop'
  /** source_profile without role_arn. */
  | 'missing-role-arn'
  /** role_arn without source_profile or credential_source. */
  | 'missing-source'
  /** No cached SSO token: sign in. */
  | 'sso-login-required'
  /** The SSO token expired or was revoked: sign in again. */
  | 'sso-token-expired'
  /** The user denied the SSO sign-in request. */
  | 'sso-login-denied'
  /** The SSO sign-in code expired before it was approved. */
  | 'sso-login-expired'
  /** The SSO user is not assigned the profile's account and role. */
  | 'sso-no-access'
  /** The profile is not an SSO profile (login). */
  | 'not-sso'
  /** MFA needed, but nobody can be asked (no prompter, or a non-interactive resolve). */
  | 'mfa-required'
  /** STS refused the MFA code. */
  | 'mfa-invalid'
  /** The user cancelled a prompt. */
  | 'prompt-cancelled'
  /** Nobody answered a prompt in time. */
  | 'prompt-timeout'
  /** credential_process failed or printed something unusable. */
  | 'process-failed'
  /** STS refused AssumeRole (trust policy, external_id, unknown role). */
  | 'assume-role-denied'
  /** The credentials the profile starts from have expired. */
  | 'source-expired'
  /** The source keys were rejected (unknown key or wrong secret). */
  | 'invalid-keys'
  /** The `environment` profile, but AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not set. */
  | 'environment-missing'
  /** The credential endpoint (STS, SSO) could not be reached. */
  | 'network'
  | 'failed';

/** Codes that need the user to act (sign in, answer a prompt) rather than fix a file. */
const NEEDS_USER: ReadonlySet<CredentialErrorCode> = new Set<CredentialErrorCode>([
  'sso-login-required',
  'sso-token-expired',
  'sso-login-denied',
  'sso-login-expired',
  'mfa-required',
  'mfa-invalid',
  'prompt-cancelled',
  'prompt-timeout',
]);

/**
 * Why credentials for a profile could not be had. The message names the profile, says
 * what is wrong and ends with what to do (also alone in `fix`).
 */
export class CredentialError extends Error {
  override readonly name = 'CredentialError';
  readonly needsUser: boolean;
  constructor(
    readonly code: CredentialErrorCode,
    readonly profile: string,
    /** What is wrong, without the fix. */
    readonly problem: string,
    /** What to do. */
    readonly fix: string,
    options?: { cause?: unknown },
  ) {
    super(`Profile "${profile}": ${problem.replace(/[.\s]+$/, '')}. ${fix}`, options);
    this.needsUser = NEEDS_USER.has(code);
  }
}

/**
 * AWS credentials for profiles of the shared config files: the resolver (SDK providers,
 * MFA and SSO sign-in through a prompter, caching and refresh before expiry), the app's
 * prompt broker and the CLI's terminal prompter. See docs/credentials.md.
 */
export {
  CredentialResolver,
  type CredentialProvider,
  type CredentialResolverOptions,
  type CredentialsEvent,
  type CredentialsFailure,
  type ProfileStatus,
  type ProviderOptions,
  type ResolveOptions,
} from './resolver.js';
export {
  CredentialPromptBroker,
  PromptAnswerError,
  type PromptAnswer,
  type PromptDone,
  type PromptOutcome,
} from './prompt-broker.js';
export { createTtyPrompter, openInBrowser, type TtyPrompterOptions } from './tty-prompter.js';
export {
  CredentialError,
  PromptCancelledError,
  PromptCompleted,
  PromptDeclined,
  PromptTimeoutError,
  promptOutcome,
  type CredentialErrorCode,
  type CredentialPrompter,
  type MfaPromptContext,
  type SsoDeviceLoginInfo,
} from './types.js';
export {
  ENVIRONMENT_PROFILE,
  planProfile,
  loadConfig,
  type ProfilePlan,
  type ProfileKind,
  type SsoSettings,
} from './profile-config.js';
export { deviceLogin, type DeviceLoginOptions, type DeviceLoginResult } from './sso-login.js';
export {
  readSsoToken,
  removeSsoToken,
  tokenCacheId,
  tokenCachePath,
  type SsoTokenFile,
} from './sso-cache.js';

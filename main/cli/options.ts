/**
 * Options shared by commands that talk to AWS (or the sandbox), and the configuration they run
 * with: the file (EC2_CONNECT_CONFIG, else config.json in the data folder), then EC2_CONNECT_*
 * variables, then these flags (docs/config.md). A problem in the file is printed once as a
 * warning and that key keeps its default: a typo never stops a command.
 */
import { Option, type Command } from 'commander';
import { configFile, loadConfig, type LoadedConfig } from '../core/config/load.js';
import { databaseFile, networkOptions } from '../core/config/apply.js';
import { cliLogLevel } from '../core/config/runtime.js';
import type { Config, ConfigValue } from '../core/config/schema.js';
import { createTtyPrompter } from '../core/credentials/tty-prompter.js';
import type { Logger } from '../core/log/logger.js';
import { createConfiguredLog } from '../core/log/setup.js';
import type { ResolvedProfile } from '../sandbox/embedded-profile.js';

export interface AwsOptions {
  profile?: string;
  region?: string;
  endpoint?: string;
  logLevel?: string;
  /** false with --no-browser: an SSO sign-in prints its URL instead of opening the browser. */
  browser?: boolean;
}

export function addAwsOptions(cmd: Command): Command {
  return cmd
    .option('-p, --profile <name>', 'AWS profile; "sandbox" (the default) is the built-in local AWS')
    .option('-r, --region <region>', 'AWS region (default: from the profile or AWS_REGION)')
    .option('--endpoint <url>', 'endpoint URL for SSM, EC2 and STS (e.g. a standalone `ec2-connect sandbox`)')
    .option('--no-browser', 'SSO sign-in: print the URL and code instead of opening the browser')
    .addOption(
      new Option('--log-level <level>', 'log level on stderr').choices([
        'silent',
        'error',
        'warn',
        'info',
        'debug',
        'trace',
      ]),
    );
}

/** `connect`'s persistent-session flags: session.persistence and session.auto_reattach. */
export interface SessionFlags {
  /** --persist off|tmux|screen. */
  persist?: string;
  /** --auto-reattach (true) / --no-auto-reattach (false). */
  autoReattach?: boolean;
}

export function addSessionFlags(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        '--persist <mode>',
        'run the shell inside tmux or screen on the instance and, after a drop longer than the service keeps sessions, re-attach to it (default: session.persistence)',
      ).choices(['off', 'tmux', 'screen']),
    )
    .option(
      '--auto-reattach',
      're-attach by itself to a persistent session lost for good (on with --persist tmux|screen; default: session.auto_reattach)',
    )
    .option(
      '--no-auto-reattach',
      'do not re-attach by itself: exit, saying where the tmux or screen session keeps running',
    );
}

/**
 * The command-line flags as configuration keys: they sit at the top of the precedence, above
 * EC2_CONNECT_* variables and the file. `--persist tmux|screen` also turns automatic re-attach on
 * for that run (a terminal has no Re-attach button), unless --no-auto-reattach says otherwise.
 */
export function configFlags(opts: AwsOptions & SessionFlags): Record<string, ConfigValue | undefined> {
  const persisting = opts.persist === 'tmux' || opts.persist === 'screen';
  return {
    'aws.profile': opts.profile,
    'aws.region': opts.region,
    'aws.endpoint': opts.endpoint,
    'logging.level': opts.logLevel,
    'session.persistence': opts.persist,
    'session.auto_reattach': opts.autoReattach ?? (persisting ? true : undefined),
  };
}

const loadedConfigs = new Map<string, LoadedConfig>();

/**
 * The effective configuration of this command (loaded once per process and set of flags). Its
 * problems go to stderr the first time, each naming the key, the value and what is allowed.
 */
export function cliConfig(
  opts: AwsOptions & SessionFlags,
  env: NodeJS.ProcessEnv = process.env,
  warn: (line: string) => void = (line) => process.stderr.write(line),
): LoadedConfig {
  const flags = configFlags(opts);
  const file = configFile(env);
  const cacheKey = JSON.stringify([file, flags, env === process.env]);
  const cached = loadedConfigs.get(cacheKey);
  if (cached) return cached;
  const loaded = loadConfig({ file, env, flags });
  if (env === process.env) loadedConfigs.set(cacheKey, loaded);
  if (opts.logLevel !== 'silent') {
    for (const p of loaded.problems) {
      warn(
        `ec2-connect: warning: ${p.message} (\`ec2-connect config validate ${file}\` lists every problem.)\n`,
      );
    }
  }
  return loaded;
}

/**
 * The stderr log of a command: `--log-level`, else logging.level when set in the file, a preset
 * or EC2_CONNECT_LOG_LEVEL, else errors only; logging.format chooses JSON or readable lines.
 * Written synchronously, so nothing is lost when the command exits. No log file: that is for
 * the long-running app and web mode.
 */
export function loggerFor(opts: AwsOptions): Logger {
  const loaded = cliConfig(opts);
  return createConfiguredLog(
    { ...loaded.config.logging, level: cliLogLevel(loaded, opts.logLevel), file: false },
    { name: 'ec2-connect', sync: true },
  ).logger;
}

/**
 * MFA codes from the terminal; SSO sign-ins print the URL and code, and open the browser unless
 * --no-browser or aws.sso_open_browser is false.
 */
export function ttyPrompterFor(opts: AwsOptions, config: Config = cliConfig(opts).config) {
  return createTtyPrompter(
    opts.browser === false || !config.aws.sso_open_browser ? { openBrowser: false } : {},
  );
}

/** The history database: --db, else database.file (EC2_CONNECT_DB), else sessions.db in the data folder. */
export function databaseFileFor(db?: string): string {
  return db ?? databaseFile(cliConfig({}).config);
}

/** The profile, region and endpoint of the effective configuration, with its timeouts, retries and proxy. */
export async function profileFor(opts: AwsOptions, logger: Logger): Promise<ResolvedProfile> {
  const config = cliConfig(opts).config;
  // Loaded here, not at start-up: the AWS SDK and the sandbox are most of the CLI's start-up time.
  const { resolveProfile } = await import('../sandbox/embedded-profile.js');
  return resolveProfile({
    profile: config.aws.profile,
    ...(config.aws.region ? { region: config.aws.region } : {}),
    ...(config.aws.endpoint ? { endpoint: config.aws.endpoint } : {}),
    connectionTimeoutMs: config.connection.connection_timeout,
    requestTimeoutMs: config.connection.request_timeout,
    maxAttempts: config.connection.max_attempts,
    // The proxy and CA bundle (connection.*, else HTTPS_PROXY, NO_PROXY, AWS_CA_BUNDLE).
    network: networkOptions(config),
    logger,
    prompter: ttyPrompterFor(opts, config),
  });
}

/**
 * Run a command body with the resolved profile: an error is printed as `ec2-connect: <message>`
 * and gives exit status 1, and the profile (an embedded sandbox included) is always released.
 */
export async function withProfile(
  opts: AwsOptions,
  body: (resolved: ResolvedProfile, logger: Logger) => Promise<number>,
  /** The exit status of a failure (default 1; commands that connect use 255, as ssh does). */
  failureCode = 1,
): Promise<number> {
  const logger = loggerFor(opts);
  let resolved: ResolvedProfile;
  try {
    resolved = await profileFor(opts, logger);
  } catch (err) {
    process.stderr.write(`ec2-connect: ${(err as Error).message}\n`);
    return failureCode;
  }
  try {
    return await body(resolved, logger);
  } catch (err) {
    process.stderr.write(`ec2-connect: ${(err as Error).message}\n`);
    return failureCode;
  } finally {
    await resolved.dispose();
  }
}

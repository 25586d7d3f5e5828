/** Options shared by commands that talk to AWS (or the sandbox). */
import { Option, type Command } from 'commander';
import { createTtyPrompter } from '../core/credentials/tty-prompter.js';
import { createLogger, type Logger } from '../core/log/logger.js';
import { resolveProfile, type ResolvedProfile } from '../sandbox/embedded-profile.js';

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

export function loggerFor(opts: AwsOptions): Logger {
  return createLogger({ level: (opts.logLevel as 'warn' | undefined) ?? 'error' });
}

/** MFA codes from the terminal; SSO sign-ins print the URL and code (and open the browser unless --no-browser). */
export function ttyPrompterFor(opts: AwsOptions) {
  return createTtyPrompter(opts.browser === false ? { openBrowser: false } : {});
}

export function profileFor(opts: AwsOptions, logger: Logger): Promise<ResolvedProfile> {
  return resolveProfile({
    ...(opts.profile ? { profile: opts.profile } : {}),
    ...(opts.region ? { region: opts.region } : {}),
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    logger,
    prompter: ttyPrompterFor(opts),
  });
}

/**
 * Run a command body with the resolved profile: an error is printed as `ec2-connect: <message>`
 * and gives exit status 1, and the profile (an embedded sandbox included) is always released.
 */
export async function withProfile(
  opts: AwsOptions,
  body: (resolved: ResolvedProfile) => Promise<number>,
): Promise<number> {
  let resolved: ResolvedProfile;
  try {
    resolved = await profileFor(opts, loggerFor(opts));
  } catch (err) {
    process.stderr.write(`ec2-connect: ${(err as Error).message}\n`);
    return 1;
  }
  try {
    return await body(resolved);
  } catch (err) {
    process.stderr.write(`ec2-connect: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await resolved.dispose();
  }
}

/**
 * `ec2-connect login --profile NAME`: sign in to IAM Identity Center (AWS SSO) for an SSO
 * profile (or a role profile whose source is one), as `aws sso login --use-device-code`
 * does: the URL and code are printed (and the browser opened unless --no-browser or there
 * is no terminal), the token is cached where the AWS CLI and SDKs find it, and the role
 * credentials are checked with STS GetCallerIdentity.
 */
import type { Command } from 'commander';
import { addAwsOptions, loggerFor, ttyPrompterFor, type AwsOptions } from '../options.js';

interface LoginOptions extends AwsOptions {
  json?: boolean;
}

export function registerLoginCommand(program: Command): void {
  addAwsOptions(
    program
      .command('login')
      .description(
        'sign in to IAM Identity Center (SSO) for a profile; the token is shared with the AWS CLI and SDKs',
      )
      .option('--json', 'print the result as JSON'),
  ).action(async (opts: LoginOptions) => {
    process.exitCode = await runLogin(opts);
  });
}

export async function runLogin(opts: LoginOptions): Promise<number> {
  if (!opts.profile) {
    process.stderr.write('ec2-connect: login needs --profile <name>: an SSO profile of your AWS config.\n');
    return 2;
  }
  // Loaded here, not at start-up: the AWS SDK is most of the CLI's start-up time.
  const { SANDBOX_PROFILE, resolveProfile } = await import('../../sandbox/embedded-profile.js');
  if (opts.profile === SANDBOX_PROFILE) {
    process.stderr.write('The built-in sandbox profile needs no sign-in.\n');
    return 0;
  }
  const logger = loggerFor(opts);
  const { CredentialResolver } = await import('../../core/credentials/resolver.js');
  const resolver = new CredentialResolver({
    prompter: ttyPrompterFor(opts),
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    logger,
  });
  try {
    const signedIn = await resolver.login(opts.profile);
    // Check the sign-in end to end: role credentials, and who they are.
    const resolved = await resolveProfile({
      profile: opts.profile,
      ...(opts.region ? { region: opts.region } : {}),
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      credentials: resolver,
      logger,
    });
    try {
      const id = await resolved.controlPlane.getCallerIdentity();
      if (opts.json) {
        process.stdout.write(
          JSON.stringify(
            {
              profile: opts.profile,
              arn: id.arn,
              account: id.account,
              expiresAt: signedIn.expiresAt.toISOString(),
              tokenFile: signedIn.tokenFile,
            },
            null,
            2,
          ) + '\n',
        );
      } else {
        process.stdout.write(
          `Signed in: profile "${opts.profile}" is ${id.arn}\n` +
            `The sign-in lasts until ${signedIn.expiresAt.toISOString()} (token cache ${signedIn.tokenFile}).\n`,
        );
      }
      return 0;
    } finally {
      await resolved.dispose();
    }
  } catch (err) {
    process.stderr.write(`ec2-connect: ${(err as Error).message}\n`);
    return 1;
  } finally {
    resolver.dispose();
  }
}

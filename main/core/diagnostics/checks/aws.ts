/**
 * Checks that call AWS: credentials (STS GetCallerIdentity), the instance's registration and
 * ping status (SSM DescribeInstanceInformation, EC2 DescribeInstances), its agent version, and
 * the permission to start a session (a real StartSession, terminated at once).
 */
import {
  DescribeInstanceInformationCommand,
  StartSessionCommand,
  TerminateSessionCommand,
  type InstanceInformation,
} from '@aws-sdk/client-ssm';
import type {
  DescribeInstancesCommandInput,
  DescribeInstancesCommandOutput,
  Instance,
} from '@aws-sdk/client-ec2';
import { classifyAwsError, quote, type ClassifiedError } from '../aws-errors.js';
import { AGENT_FEATURES, RECOMMENDED_AGENT_VERSION, parseAgentVersion, supports } from '../agent-version.js';
import type { CredentialSource } from '../credential-source.js';
import { formatMs, formatSpan } from '../format.js';
import type { CheckResult, CheckSpec } from '../types.js';
import { CHECK_IDS, abortable, hostOf, maskKey, type RunEnv } from './env.js';
import { loadEc2Sdk, loadStsSdk } from '../../ssm/lazy-client.js';

export interface CredentialsData {
  arn: string;
  account: string;
  userId: string;
}

export interface InstanceData {
  /** The instance id (resolved from a Name tag when one was given). */
  instanceId: string;
  name: string | null;
  info: InstanceInformation | null;
  ec2State: string | null;
  /** Neither SSM nor EC2 knows it. */
  notFound: boolean;
}

export interface SessionData {
  sessionId: string | null;
  streamUrl: string | null;
}

/** "could not check" results shared by the AWS checks. */
export function unavailableResult(
  c: ClassifiedError,
  action: string,
  env: RunEnv,
  endpoint: string,
): CheckResult {
  switch (c.kind) {
    case 'throttled':
      return {
        status: 'fail',
        figure: 'throttled',
        detail: `AWS throttled ${action} (${quote(c)}), so this could not be checked.`,
        fix: `Too many API calls are made with these credentials in ${env.region}: wait a minute and run again, and look for scripts or tools polling AWS with the same account.`,
      };
    case 'network':
      return {
        status: 'fail',
        figure: 'endpoint unreachable',
        detail: `${action} could not reach ${hostOf(endpoint)}: ${c.message}.`,
        fix: 'See "SSM endpoint reachable" and "Proxy settings" for the network path to AWS.',
      };
    default:
      return {
        status: 'fail',
        figure: c.code,
        detail: `${action} failed (${quote(c)}).`,
        fix: 'Run again with --log-level debug to see the request and the full answer.',
      };
  }
}

function credentialFix(kind: ClassifiedError['kind'], source: CredentialSource, env: RunEnv): string {
  const p = env.profile;
  const files = `~/.aws/credentials ([${p}])`;
  switch (kind) {
    case 'expired':
      switch (source.kind) {
        case 'sso':
          return `Sign in again: run \`aws sso login --profile ${source.loginProfile ?? p}\`, or sign in from the app.`;
        case 'assume-role':
          return source.loginProfile
            ? `The role's source credentials come from SSO and have run out: run \`aws sso login --profile ${source.loginProfile}\` (or sign in from the app); the role is then assumed again.`
            : `The role session ran out and could not be renewed: check the source credentials of profile ${p} (source_profile or credential_source), then run again.`;
        case 'process':
          return `The credential_process of profile ${p} returned expired credentials: run that command by hand to see why (it often needs a fresh login).`;
        case 'sandbox':
          return 'These temporary sandbox credentials ran out: issue new ones (POST /__sandbox/credentials/temporary) or use the sandbox key.';
        default:
          return `These are temporary credentials (with a session token) and they ran out: get new ones and replace aws_access_key_id, aws_secret_access_key and aws_session_token in ${files}, or the AWS_* environment variables.`;
      }
    case 'invalid-key':
      return `Check the access key: aws_access_key_id in ${files} or AWS_ACCESS_KEY_ID. It may be mistyped, deleted or deactivated in IAM, or belong to another partition (China, GovCloud) or to temporary credentials without their session token; if it was rotated, create a new access key in IAM.`;
    case 'bad-secret':
      return `The secret access key does not belong to this access key: check aws_secret_access_key in ${files} (or AWS_SECRET_ACCESS_KEY), copied whole.`;
    case 'clock':
      return 'This computer\'s clock is off: see "Clock in sync" and turn on automatic time synchronisation.';
    case 'no-credentials':
      return source.kind === 'unknown'
        ? `Profile ${p} has no credentials: check its name in ~/.aws/config and ~/.aws/credentials, set it up (\`aws configure --profile ${p}\`, or \`aws configure sso --profile ${p}\`), or use the built-in sandbox profile.`
        : `Profile ${p} (${source.kind}) gave no credentials: run \`aws sts get-caller-identity --profile ${p}\` to see why, or sign in from the app.`;
    default:
      return 'Run again with --log-level debug to see the request and the full answer.';
  }
}

/** Figures for the codes of EC2 Connect's credential resolver (main/core/credentials). */
const RESOLVER_FIGURES: Record<string, string> = {
  'profile-not-found': 'no such profile',
  'no-credentials': 'no credentials',
  'sso-login-required': 'SSO sign-in needed',
  'sso-token-expired': 'expired',
  'sso-login-expired': 'expired',
  'sso-login-denied': 'SSO sign-in denied',
  'mfa-required': 'MFA code needed',
  'mfa-invalid': 'MFA code refused',
};

/**
 * An error of EC2 Connect's own credential resolver already says what is wrong and what to do
 * (`problem`, `fix`); use its words.
 */
function credentialResolverError(err: unknown): CheckResult<CredentialsData> | undefined {
  const e = err as { name?: unknown; code?: unknown; problem?: unknown; fix?: unknown } | undefined;
  if (e?.name !== 'CredentialError' || typeof e.problem !== 'string' || typeof e.fix !== 'string')
    return undefined;
  const code = typeof e.code === 'string' ? e.code : 'credentials';
  return {
    status: 'fail',
    figure: RESOLVER_FIGURES[code] ?? code,
    detail: `${e.problem.replace(/[.\s]+$/, '')}.`,
    fix: e.fix,
  };
}

export function credentialsCheck(env: RunEnv): CheckSpec<CredentialsData> {
  return {
    id: CHECK_IDS.credentials,
    title: 'Credentials valid',
    timeoutFix: `STS (${hostOf(env.stsEndpoint)}) did not answer in time, or the credentials provider (SSO, credential_process, an MFA prompt) is waiting: see "SSM endpoint reachable" and "Proxy settings", then run again.`,
    async run(ctx) {
      const sts = await env.cp.stsClient();
      const cfgCreds = (sts.config as { credentials?: unknown }).credentials;
      let keyId: string | undefined;
      let expiration: Date | undefined;
      let temporary = false;
      const fail = async (err: unknown, action: string): Promise<CheckResult<CredentialsData>> => {
        const resolver = credentialResolverError(err);
        if (resolver) return resolver;
        const c = classifyAwsError(err);
        if (c.kind === 'aborted') throw err;
        const source = await env.credentialSource();
        const key = keyId ? ` (access key ${maskKey(keyId)})` : '';
        const when =
          expiration && c.kind === 'expired'
            ? ` They expired at ${expiration.toISOString()} (${formatSpan(env.now() - expiration.getTime())} ago).`
            : '';
        switch (c.kind) {
          case 'expired':
            return {
              status: 'fail',
              figure: 'expired',
              detail: `The credentials of profile ${env.profile}${key} have expired (${quote(c)}).${when}`,
              fix: credentialFix(c.kind, source, env),
            };
          case 'invalid-key':
            return {
              status: 'fail',
              figure: keyId ? `unknown access key ${maskKey(keyId)}` : 'unknown access key',
              detail: `AWS does not recognise ${keyId ? `access key ${maskKey(keyId)}` : 'the access key'} of profile ${env.profile} (${quote(c)}).`,
              fix: credentialFix(c.kind, source, env),
            };
          case 'bad-secret':
            return {
              status: 'fail',
              figure: 'wrong secret key',
              detail: `AWS rejected the request signature${key} (${quote(c)}): the secret access key does not match the access key.`,
              fix: credentialFix(c.kind, source, env),
            };
          case 'clock':
            return {
              status: 'fail',
              figure: 'signature expired (clock)',
              detail: `AWS rejected the request as signed at the wrong time (${quote(c)}): this computer's clock is off.`,
              fix: credentialFix(c.kind, source, env),
            };
          case 'no-credentials':
            return {
              status: 'fail',
              figure: 'no credentials',
              detail: `No credentials were found for profile ${env.profile} (${c.message}).`,
              fix: credentialFix(c.kind, source, env),
            };
          default:
            return unavailableResult(c, action, env, env.stsEndpoint) as CheckResult<CredentialsData>;
        }
      };

      if (typeof cfgCreds === 'function') {
        ctx.step(`resolving the credentials of profile ${env.profile}`);
        try {
          const creds = (await abortable(
            Promise.resolve((cfgCreds as () => Promise<unknown>)()),
            ctx.signal,
          )) as { accessKeyId?: string; sessionToken?: string; expiration?: Date };
          keyId = creds.accessKeyId;
          temporary = !!creds.sessionToken;
          expiration = creds.expiration instanceof Date ? creds.expiration : undefined;
        } catch (err) {
          return fail(err, 'Resolving the credentials');
        }
      }
      ctx.step(`waiting for STS GetCallerIdentity at ${hostOf(env.stsEndpoint)}`);
      const t0 = performance.now();
      try {
        const { GetCallerIdentityCommand } = await loadStsSdk();
        const out = await sts.send(new GetCallerIdentityCommand({}), { abortSignal: ctx.signal });
        const ms = performance.now() - t0;
        const arn = out.Arn ?? '';
        const account = out.Account ?? '';
        const kindText = temporary
          ? `temporary credentials${expiration ? ` that expire at ${expiration.toISOString()} (in ${formatSpan(expiration.getTime() - env.now())})` : ''}`
          : keyId
            ? `access key ${maskKey(keyId)}`
            : 'credentials';
        return {
          status: 'pass',
          figure: `${arn} (account ${account})`,
          detail: `STS GetCallerIdentity answered in ${formatMs(ms)}: signed in as ${arn} in account ${account} with ${kindText}.`,
          fix: null,
          data: { arn, account, userId: out.UserId ?? '' },
        };
      } catch (err) {
        return fail(err, 'STS GetCallerIdentity');
      }
    },
  };
}

const INSTANCE_ID_RE = /^(i|mi)-[0-9a-f]{8,17}$/;

function nameTag(inst: Instance | undefined): string | null {
  return inst?.Tags?.find((t) => t.Key === 'Name')?.Value ?? null;
}

function agentPathFix(region: string, suffix: string): string {
  return `let it reach ssm.${region}.${suffix}, ssmmessages.${region}.${suffix} and ec2messages.${region}.${suffix} on port 443 (through a NAT gateway, or VPC interface endpoints for all three with private DNS on)`;
}

/** EC2 DescribeInstances as it answers (errors unclassified, for the check to name), abortable. */
async function describeInstances(
  env: RunEnv,
  input: DescribeInstancesCommandInput,
  signal: AbortSignal,
): Promise<DescribeInstancesCommandOutput> {
  const [{ DescribeInstancesCommand }, ec2] = await Promise.all([loadEc2Sdk(), env.cp.ec2Client()]);
  return ec2.send(new DescribeInstancesCommand(input), { abortSignal: signal });
}

export function instanceCheck(env: RunEnv): CheckSpec<InstanceData> {
  const suffix = env.region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return {
    id: CHECK_IDS.instance,
    title: 'Instance registered and online',
    requires: [CHECK_IDS.credentials],
    async run(ctx) {
      if (!env.instance) {
        return { status: 'skip', figure: null, detail: 'No instance was given (--instance-id).', fix: null };
      }
      const signal = ctx.signal;
      let id = env.instance;
      let ec2: Instance | undefined;
      let ec2Error: ClassifiedError | undefined;
      if (!INSTANCE_ID_RE.test(id)) {
        ctx.step(`looking up the instance named "${id}" with EC2 DescribeInstances`);
        try {
          const out = await describeInstances(env, { Filters: [{ Name: 'tag:Name', Values: [id] }] }, signal);
          const all = (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
          const live = all.filter((i) => i.State?.Name !== 'terminated');
          const matches = live.length ? live : all;
          if (matches.length !== 1) {
            return {
              status: 'fail',
              figure: matches.length
                ? `${matches.length} instances named "${id}"`
                : `no instance named "${id}"`,
              detail: matches.length
                ? `${matches.length} instances in ${env.region} are named "${id}": ${matches.map((m) => m.InstanceId).join(', ')}.`
                : `No instance in ${env.region} (profile ${env.profile}) has the Name tag "${id}".`,
              fix: matches.length
                ? 'Pass the instance id instead of the name.'
                : `Check the name and the region (\`ec2-connect list --profile ${env.profile} --region ${env.region}\` shows them all).`,
              data: { instanceId: id, name: id, info: null, ec2State: null, notFound: true },
            };
          }
          ec2 = matches[0]!;
          id = ec2.InstanceId ?? id;
        } catch (err) {
          const c = classifyAwsError(err);
          if (c.kind === 'aborted') throw err;
          return unavailableResult(
            c,
            'EC2 DescribeInstances',
            env,
            env.ssmEndpoint,
          ) as CheckResult<InstanceData>;
        }
      }
      ctx.step(`waiting for SSM DescribeInstanceInformation for ${id}`);
      let info: InstanceInformation | undefined;
      try {
        const out = await env.cp.ssm.send(
          new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [id] }] }),
          { abortSignal: signal },
        );
        info = (out.InstanceInformationList ?? []).find((i) => i.InstanceId === id);
      } catch (err) {
        const c = classifyAwsError(err);
        if (c.kind === 'aborted') throw err;
        if (c.kind === 'access-denied') {
          return {
            status: 'fail',
            figure: 'AccessDenied',
            detail: `SSM refused DescribeInstanceInformation (${quote(c)}), so the instance's registration could not be read.`,
            fix: 'Allow ssm:DescribeInstanceInformation (EC2 Connect lists instances with it) in the IAM policy of these credentials.',
          };
        }
        return unavailableResult(
          c,
          'SSM DescribeInstanceInformation',
          env,
          env.ssmEndpoint,
        ) as CheckResult<InstanceData>;
      }
      const online = info?.PingStatus === 'Online';
      if (!online && !ec2 && id.startsWith('i-')) {
        ctx.step(`waiting for EC2 DescribeInstances for ${id}`);
        try {
          const out = await describeInstances(env, { InstanceIds: [id] }, signal);
          ec2 = (out.Reservations ?? []).flatMap((r) => r.Instances ?? [])[0];
        } catch (err) {
          const c = classifyAwsError(err);
          if (c.kind === 'aborted') throw err;
          if (!/NotFound|Malformed/.test(c.code)) ec2Error = c;
        }
      }
      const name = nameTag(ec2) ?? (env.instance !== id ? env.instance : null);
      const label = name ? `${id} (${name})` : id;
      const state = ec2?.State?.Name ?? null;
      const data: InstanceData = {
        instanceId: id,
        name,
        info: info ?? null,
        ec2State: state,
        notFound: !info && !ec2 && !ec2Error,
      };
      const lastPing =
        info?.LastPingDateTime instanceof Date
          ? formatSpan(env.now() - info.LastPingDateTime.getTime())
          : null;
      if (info && online) {
        const platform = [info.PlatformName, info.PlatformVersion].filter(Boolean).join(' ');
        return {
          status: 'pass',
          figure: 'Online',
          detail: `${label} is registered with Systems Manager and Online${lastPing ? ` (last ping ${lastPing} ago)` : ''}${platform ? `; ${platform}` : ''}${info.AgentVersion ? `, agent ${info.AgentVersion}` : ''}.`,
          fix: null,
          data,
        };
      }
      if (info) {
        const ping = info.PingStatus ?? 'unknown';
        const since = lastPing ? ` Its agent last reported ${lastPing} ago.` : '';
        if (state && state !== 'running') {
          return {
            status: 'fail',
            figure: `${ping} (instance ${state})`,
            detail: `${label} is ${state}, so its SSM agent is not reporting (PingStatus ${ping}).${since}`,
            fix: `Start the instance (EC2 console, or \`aws ec2 start-instances --instance-ids ${id}\`) and wait a minute for its agent to report in.`,
            data,
          };
        }
        if (ping === 'Inactive') {
          return {
            status: 'fail',
            figure: 'Inactive',
            detail: `Systems Manager marks ${label} Inactive: it has not reported for a long time (it was stopped or terminated, or deregistered).${since}`,
            fix: `Start it if it is stopped; a managed instance that was deregistered must be registered again (on EC2, restart the agent with its instance profile attached).`,
            data,
          };
        }
        return {
          status: 'fail',
          figure: `${ping}${lastPing ? ` (last ping ${lastPing} ago)` : ''}`,
          detail: `${label} is ${state ?? 'known to SSM'} but its SSM agent stopped reporting (PingStatus ${ping}).${since}`,
          fix:
            `On the instance (EC2 serial console, or SSH if you have it): check that the agent runs (\`sudo systemctl status amazon-ssm-agent\`; on Windows the AmazonSSMAgent service) and restart it; ` +
            `check that its instance profile still has the AmazonSSMManagedInstanceCore policy; and ${agentPathFix(env.region, suffix)}. ` +
            'Its log, /var/log/amazon/ssm/amazon-ssm-agent.log, says what it cannot reach.',
          data,
        };
      }
      // Not registered with SSM.
      if (ec2) {
        const running = state === 'running';
        return {
          status: 'fail',
          figure: 'not registered with SSM',
          detail: `EC2 knows ${label} (${state ?? 'state unknown'}) but Systems Manager does not: its SSM agent has never registered${running ? '' : ', and the instance is not running'}.`,
          fix:
            (running ? '' : `Start the instance (\`aws ec2 start-instances --instance-ids ${id}\`). `) +
            'Give it an instance profile (IAM role) with the AmazonSSMManagedInstanceCore policy (or turn on Default Host Management Configuration in Fleet Manager); ' +
            'make sure the SSM agent is installed and running (AWS images of Amazon Linux, Ubuntu and Windows have it); and ' +
            `${agentPathFix(env.region, suffix)}. It registers within minutes of the role being attached (restarting the agent is faster).`,
          data,
        };
      }
      if (ec2Error) {
        return {
          status: 'fail',
          figure: 'not registered with SSM',
          detail: `Systems Manager does not know ${label}, and EC2 DescribeInstances failed (${quote(ec2Error)}), so whether the instance exists could not be checked.`,
          fix: `Check the instance id and region; if the instance exists, give it an instance profile with AmazonSSMManagedInstanceCore, make sure its SSM agent runs, and ${agentPathFix(env.region, suffix)}.`,
          data,
        };
      }
      return {
        status: 'fail',
        figure: 'not found',
        detail: `Neither EC2 nor Systems Manager knows ${label} in ${env.region} (profile ${env.profile}).`,
        fix: `Check the instance id, and that it runs in ${env.region} under this account (\`ec2-connect list --profile ${env.profile} --region ${env.region}\`).`,
        data,
      };
    },
  };
}

export function agentVersionCheck(env: RunEnv): CheckSpec {
  return {
    id: CHECK_IDS.agentVersion,
    title: 'SSM agent version',
    after: [CHECK_IDS.instance],
    async run(ctx) {
      const inst = ctx.result<InstanceData>(CHECK_IDS.instance);
      const info = inst?.data?.info;
      if (!info) {
        return {
          status: 'skip',
          figure: null,
          detail: !env.instance
            ? 'No instance was given (--instance-id).'
            : inst?.data?.notFound
              ? `Not checked: the instance ${env.instance} was not found.`
              : inst?.data
                ? 'Not known: the instance is not registered with Systems Manager, which is what reports the agent version.'
                : 'Not checked: the instance could not be checked.',
          fix: null,
        };
      }
      const v = info.AgentVersion ?? '';
      const id = inst.data!.instanceId;
      const lastReported = info.PingStatus === 'Online' ? '' : ' (as last reported)';
      if (!parseAgentVersion(v)) {
        return {
          status: 'warn',
          figure: v ? `agent ${v}` : 'agent version unknown',
          detail: `Systems Manager reports the agent version as "${v}"${lastReported}, which is not a version EC2 Connect can compare.`,
          fix: 'Update the agent to a current release (the AWS-UpdateSSMAgent document).',
        };
      }
      const update =
        `Update the agent: run the AWS-UpdateSSMAgent document on it (\`aws ssm send-command --document-name AWS-UpdateSSMAgent --targets Key=InstanceIds,Values=${id}\`, or Run Command in the console), ` +
        'or turn on automatic agent updates (Fleet Manager settings).';
      const missing = AGENT_FEATURES.filter((f) => !supports(v, f));
      const essential = missing.find((f) => f.essential);
      if (essential) {
        return {
          status: 'fail',
          figure: `agent ${v}`,
          detail: `Agent ${v}${lastReported} predates Session Manager, which needs ${essential.minVersion} or later: no session can open.`,
          fix: update,
        };
      }
      if (missing.length > 0) {
        const list = missing
          .map(
            (f) =>
              `${f.feature}, which needs ${f.exclusive ? `a version later than ${f.minVersion}` : `${f.minVersion} or later`}`,
          )
          .join('; ');
        return {
          status: 'warn',
          figure: `agent ${v}`,
          detail: `Agent ${v}${lastReported} opens shells, but lacks: ${list}. ${RECOMMENDED_AGENT_VERSION} or later has everything EC2 Connect uses.`,
          fix: update,
        };
      }
      const latest =
        info.IsLatestVersion === false ? ' A newer agent release exists (IsLatestVersion is false).' : '';
      return {
        status: 'pass',
        figure: `agent ${v}`,
        detail: `Agent ${v}${lastReported} supports everything EC2 Connect uses (shells, interactive and non-interactive commands, clean session ends).${latest}`,
        fix: null,
      };
    },
  };
}

export const DIAGNOSTIC_SESSION_REASON = 'EC2 Connect diagnostics: permission check (terminated at once)';

export function startSessionCheck(env: RunEnv): CheckSpec<SessionData> {
  return {
    id: CHECK_IDS.startSession,
    title: 'Permission to start a session',
    requires: [CHECK_IDS.credentials],
    after: [CHECK_IDS.instance],
    // A session opened after the deadline is still terminated: wait for that (the SDK's request timeout bounds it).
    graceMs: 15_000,
    async run(ctx) {
      if (!env.instance) {
        return { status: 'skip', figure: null, detail: 'No instance was given (--instance-id).', fix: null };
      }
      const inst = ctx.result<InstanceData>(CHECK_IDS.instance);
      if (inst?.data?.notFound) {
        return {
          status: 'skip',
          figure: null,
          detail: `Not checked: the instance ${env.instance} was not found.`,
          fix: null,
        };
      }
      const id = inst?.data?.instanceId ?? env.instance;
      const caller = ctx.result<CredentialsData>(CHECK_IDS.credentials)?.data;
      ctx.step(`waiting for SSM StartSession for ${id}`);
      const t0 = performance.now();
      // StartSession is not aborted half-way: a session it opened must be terminated, even after the deadline.
      const started = env.cp.ssm.send(
        new StartSessionCommand({ Target: id, Reason: DIAGNOSTIC_SESSION_REASON }),
      );
      let out: Awaited<typeof started>;
      try {
        out = await started;
      } catch (err) {
        const c = classifyAwsError(err);
        if (c.code === 'TargetNotConnected') {
          return {
            status: 'pass',
            figure: 'not denied (instance not connected)',
            detail: `SSM accepted the StartSession request for ${id} (no AccessDenied) but answered TargetNotConnected, so no session was opened: see "Instance registered and online".`,
            fix: null,
            data: { sessionId: null, streamUrl: null },
          };
        }
        if (c.kind === 'access-denied') {
          const account = caller?.account || '<account>';
          const who = caller?.arn ? ` for ${caller.arn}` : '';
          const onDocument = /document\//.test(c.message);
          const explicit = /explicit deny/i.test(c.message);
          return {
            status: 'fail',
            figure: `AccessDenied on ssm:StartSession`,
            detail: `SSM refused StartSession for ${id}${onDocument ? ' on the session document' : ''} (${quote(c)}).`,
            fix:
              (explicit
                ? `A policy explicitly denies ssm:StartSession${who}: find the Deny statement (identity policy, permissions boundary or SCP) that matches this instance or document. `
                : '') +
              `Allow ssm:StartSession${who} on the instance (arn:aws:ec2:${env.region}:${account}:instance/${id}) and on the session document (arn:aws:ssm:${env.region}::document/SSM-SessionManagerRunShell, or your account's arn:aws:ssm:${env.region}:${account}:document/SSM-SessionManagerRunShell if it overrides it), ` +
              'plus ssm:TerminateSession and ssm:ResumeSession on your own sessions (arn:aws:ssm:*:*:session/${aws:userid}-*). ' +
              'If the policy allows it only under a condition (such as a tag, ssm:resourceTag/...), check the instance tags.',
            data: { sessionId: null, streamUrl: null },
          };
        }
        if (c.kind === 'aborted') throw err;
        return unavailableResult(c, 'SSM StartSession', env, env.ssmEndpoint) as CheckResult<SessionData>;
      }
      const ms = performance.now() - t0;
      const sessionId = out.SessionId ?? null;
      let terminateError: ClassifiedError | undefined;
      if (sessionId) {
        ctx.step(`waiting for SSM TerminateSession of the test session ${sessionId}`);
        try {
          await env.cp.ssm.send(new TerminateSessionCommand({ SessionId: sessionId }));
        } catch (err) {
          terminateError = classifyAwsError(err);
        }
      }
      const data: SessionData = { sessionId, streamUrl: out.StreamUrl ?? null };
      if (terminateError) {
        return {
          status: 'warn',
          figure: `StartSession ${formatMs(ms)}, TerminateSession failed`,
          detail: `StartSession for ${id} succeeded (session ${sessionId}), but TerminateSession failed (${quote(terminateError)}): sessions you end stay open until they time out.`,
          fix:
            terminateError.kind === 'access-denied'
              ? 'Allow ssm:TerminateSession on your own sessions (arn:aws:ssm:*:*:session/${aws:userid}-*).'
              : `End the test session by hand (\`ec2-connect terminate ${sessionId}\`) and run again.`,
          data,
        };
      }
      return {
        status: 'pass',
        figure: `allowed (StartSession ${formatMs(ms)})`,
        detail: `StartSession for ${id} succeeded (session ${sessionId}, terminated at once)${caller?.arn ? `: ${caller.arn} may open sessions` : ''}.`,
        fix: null,
        data,
      };
    },
  };
}

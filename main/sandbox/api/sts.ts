/**
 * STS (AWS Query protocol, `Version=2011-06-15`, XML responses): GetCallerIdentity, and
 * AssumeRole for the sandbox's roles (credentials.ts) with RoleSessionName,
 * DurationSeconds, ExternalId and MFA (SerialNumber + TokenCode, checked as TOTP codes of
 * the sandbox's virtual MFA devices). The credentials it returns are registered in the
 * credential store with their expiry, so they sign the other APIs (and further
 * AssumeRole calls: role chaining) until they expire, then fail with ExpiredToken.
 *
 * Errors are AWS's: ValidationError for malformed parameters, AccessDenied for a role the
 * caller may not assume (unknown role, wrong ExternalId, MFA required but missing) and for
 * a wrong MFA code ("MultiFactorAuthentication failed with invalid MFA one time pass code.").
 */
import {
  checkMfaDevice,
  checkRole,
  defaultMfaDevices,
  defaultRoles,
  parseRoleArn,
  roleIdFor,
  verifyTotp,
  type CallerIdentity,
  type CredentialStore,
  type SandboxMfaDevice,
  type SandboxRole,
} from '../credentials.js';
import { ApiError, constraint, xmlEscape } from './errors.js';

export const STS_API_VERSION = '2011-06-15';
export const STS_ACTIONS = ['AssumeRole', 'GetCallerIdentity'] as const;

/** AWS's bounds for DurationSeconds. */
export const STS_MIN_DURATION_SECONDS = 900;
export const STS_MAX_DURATION_SECONDS = 43_200;
/** Sessions of roles assumed with role credentials (role chaining) last at most an hour. */
export const ROLE_CHAINING_MAX_SECONDS = 3600;

export const MFA_INVALID_CODE_MESSAGE =
  'MultiFactorAuthentication failed with invalid MFA one time pass code.';

export interface SandboxStsOptions {
  /** The roles AssumeRole knows (replaces the defaults: SandboxAdmin, SandboxReadOnly, SandboxMfa, SandboxPartner). */
  roles?: SandboxRole[];
  /** The virtual MFA devices (replaces the default one, arn:aws:iam::123456789012:mfa/sandbox-user). */
  mfaDevices?: SandboxMfaDevice[];
  /** Shortest DurationSeconds accepted (default 900, as AWS); lower it to test expiry and refresh. */
  minDurationSeconds?: number;
}

function xml(name: string, value: string): string {
  return `<${name}>${xmlEscape(value)}</${name}>`;
}

/** 2019-11-09T13:34:41Z, as STS writes times. */
export function stsTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function validation(problems: string[]): ApiError {
  const n = problems.length;
  return new ApiError(
    'ValidationError',
    `${n} validation error${n === 1 ? '' : 's'} detected: ${problems.join('; ')}`,
  );
}

/** The STS side of the sandbox: its roles and MFA devices, and the action handler. */
export class SandboxSts {
  private readonly roles = new Map<string, SandboxRole>();
  private readonly devices = new Map<string, SandboxMfaDevice>();
  readonly minDurationSeconds: number;

  constructor(
    private readonly store: CredentialStore,
    options: SandboxStsOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    for (const role of options.roles ?? defaultRoles()) this.addRole(role);
    for (const device of options.mfaDevices ?? defaultMfaDevices()) this.addMfaDevice(device);
    const min = options.minDurationSeconds ?? STS_MIN_DURATION_SECONDS;
    if (!Number.isInteger(min) || min < 1 || min > STS_MIN_DURATION_SECONDS) {
      throw new Error(
        `Sandbox STS: minDurationSeconds must be an integer from 1 to ${STS_MIN_DURATION_SECONDS}.`,
      );
    }
    this.minDurationSeconds = min;
  }

  /** Add (or replace) a role. */
  addRole(role: SandboxRole): SandboxRole {
    const checked = checkRole(role);
    this.roles.set(checked.arn, checked);
    return { ...checked };
  }

  addMfaDevice(device: SandboxMfaDevice): SandboxMfaDevice {
    const checked = checkMfaDevice(device);
    this.devices.set(checked.serialNumber, checked);
    return { ...checked };
  }

  listRoles(): SandboxRole[] {
    return [...this.roles.values()].map((r) => ({ ...r }));
  }

  listMfaDevices(): SandboxMfaDevice[] {
    return [...this.devices.values()].map((d) => ({ ...d }));
  }

  /** Runs one STS action; returns the response XML (without the XML declaration) or throws an ApiError. */
  handle(params: URLSearchParams, caller: CallerIdentity, requestId: string): string {
    const action = params.get('Action');
    if (!action) throw new ApiError('MissingAction', 'The request must contain the parameter Action.');
    if (action === 'GetCallerIdentity') return getCallerIdentity(caller, requestId);
    if (action === 'AssumeRole') return this.assumeRole(params, caller, requestId);
    throw new ApiError(
      'InvalidAction',
      `Could not find operation ${action.slice(0, 100)} for version ${STS_API_VERSION}. The sandbox implements: ${STS_ACTIONS.join(', ')}.`,
    );
  }

  private assumeRole(params: URLSearchParams, caller: CallerIdentity, requestId: string): string {
    const roleArn = params.get('RoleArn') ?? undefined;
    const sessionName = params.get('RoleSessionName') ?? undefined;
    const durationText = params.get('DurationSeconds') ?? undefined;
    const externalId = params.get('ExternalId') ?? undefined;
    const serial = params.get('SerialNumber') ?? undefined;
    const code = params.get('TokenCode') ?? undefined;

    const problems: string[] = [];
    if (roleArn === undefined) problems.push(constraint(undefined, 'roleArn', 'Member must not be null'));
    else if (roleArn.length < 20 || roleArn.length > 2048)
      problems.push(
        constraint(
          roleArn,
          'roleArn',
          'Member must have length greater than or equal to 20 and less than or equal to 2048',
        ),
      );
    if (sessionName === undefined)
      problems.push(constraint(undefined, 'roleSessionName', 'Member must not be null'));
    else if (!/^[\w+=,.@-]{2,64}$/.test(sessionName))
      problems.push(
        constraint(
          sessionName,
          'roleSessionName',
          'Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length from 2 to 64',
        ),
      );
    let duration: number | undefined;
    if (durationText !== undefined) {
      duration = /^\d{1,9}$/.test(durationText) ? Number(durationText) : NaN;
      if (Number.isNaN(duration) || duration < this.minDurationSeconds)
        problems.push(
          constraint(
            durationText,
            'durationSeconds',
            `Member must have value greater than or equal to ${this.minDurationSeconds}`,
          ),
        );
      else if (duration > STS_MAX_DURATION_SECONDS)
        problems.push(
          constraint(
            durationText,
            'durationSeconds',
            `Member must have value less than or equal to ${STS_MAX_DURATION_SECONDS}`,
          ),
        );
    }
    if (externalId !== undefined && !/^[\w+=,.@:/-]{2,1224}$/.test(externalId))
      problems.push(
        constraint(
          externalId,
          'externalId',
          'Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]* and have length from 2 to 1224',
        ),
      );
    if (serial !== undefined && !/^[\w+=/:,.@-]{9,256}$/.test(serial))
      problems.push(
        constraint(
          serial,
          'serialNumber',
          'Member must satisfy regular expression pattern: [\\w+=/:,.@-]* and have length from 9 to 256',
        ),
      );
    if (code !== undefined && !/^\d{6}$/.test(code))
      problems.push(
        constraint(
          code,
          'tokenCode',
          'Member must satisfy regular expression pattern: [\\d]* and have length 6',
        ),
      );
    if (problems.length > 0) throw validation(problems);

    const notAuthorized = (): ApiError =>
      new ApiError(
        'AccessDenied',
        `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn!}`,
        403,
      );
    const role = this.roles.get(roleArn!);
    const parsed = parseRoleArn(roleArn!);
    if (!role || !parsed) throw notAuthorized();
    if (role.externalId !== undefined && externalId !== role.externalId) throw notAuthorized();

    if ((serial === undefined) !== (code === undefined)) {
      throw new ApiError(
        'AccessDenied',
        'MultiFactorAuthentication failed, must provide both MFA serial number and one time pass code.',
        403,
      );
    }
    if (serial !== undefined && code !== undefined) {
      const device = this.devices.get(serial);
      if (!device) {
        throw new ApiError(
          'AccessDenied',
          'MultiFactorAuthentication failed, unable to validate MFA code. Please verify your MFA serial number is valid and associated with this user.',
          403,
        );
      }
      if (!verifyTotp(device.secret, code, this.now())) {
        throw new ApiError('AccessDenied', MFA_INVALID_CODE_MESSAGE, 403);
      }
    } else if (role.requireMfa) {
      throw notAuthorized();
    }

    const chained = caller.arn.includes(':assumed-role/');
    const maxSession = role.maxSessionDurationSeconds ?? 3600;
    const seconds = duration ?? Math.min(3600, maxSession);
    if (chained && seconds > ROLE_CHAINING_MAX_SECONDS) {
      throw new ApiError(
        'ValidationError',
        'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
      );
    }
    if (seconds > maxSession) {
      throw new ApiError(
        'ValidationError',
        'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
      );
    }

    const now = this.now();
    const expiration = new Date(Math.floor((now + seconds * 1000) / 1000) * 1000);
    const assumedArn = `arn:aws:sts::${parsed.accountId}:assumed-role/${parsed.roleName}/${sessionName!}`;
    const assumedRoleId = `${roleIdFor(role.arn)}:${sessionName!}`;
    const record = this.store.issueTemporary(
      expiration,
      { userName: sessionName!, arn: assumedArn, accountId: parsed.accountId, userId: assumedRoleId },
      now,
    );
    return [
      `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/${STS_API_VERSION}/">`,
      '<AssumeRoleResult>',
      '<AssumedRoleUser>',
      xml('AssumedRoleId', assumedRoleId),
      xml('Arn', assumedArn),
      '</AssumedRoleUser>',
      '<Credentials>',
      xml('AccessKeyId', record.accessKeyId),
      xml('SecretAccessKey', record.secretAccessKey),
      xml('SessionToken', record.sessionToken!),
      xml('Expiration', stsTime(expiration.getTime())),
      '</Credentials>',
      '<PackedPolicySize>0</PackedPolicySize>',
      '</AssumeRoleResult>',
      `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>`,
      '</AssumeRoleResponse>',
    ].join('');
  }
}

function getCallerIdentity(caller: CallerIdentity, requestId: string): string {
  return [
    `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/${STS_API_VERSION}/">`,
    '<GetCallerIdentityResult>',
    xml('Arn', caller.arn),
    xml('UserId', caller.userId),
    xml('Account', caller.accountId),
    '</GetCallerIdentityResult>',
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>`,
    '</GetCallerIdentityResponse>',
  ].join('');
}

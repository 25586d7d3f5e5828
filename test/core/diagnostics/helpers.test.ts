import { describe, expect, it } from 'vitest';
import {
  AGENT_FEATURES,
  compareAgentVersions,
  missingFeatures,
  parseAgentVersion,
} from '../../../main/core/diagnostics/agent-version.js';
import { classifyAwsError } from '../../../main/core/diagnostics/aws-errors.js';
import { formatReportText, formatSeconds, formatSpan } from '../../../main/core/diagnostics/format.js';
import { proxyFor, proxySettings, redactProxy } from '../../../main/core/diagnostics/proxy.js';
import { describeAwsError } from '../../../main/core/ssm/errors.js';
import { DiagnosticReportSchema, type DiagnosticReport } from '../../../preload/api.js';

describe('agent versions', () => {
  it('parses and compares dotted versions numerically', () => {
    expect(parseAgentVersion('3.2.1582.0')).toEqual([3, 2, 1582, 0]);
    expect(parseAgentVersion('2.3')).toEqual([2, 3, 0, 0]);
    expect(parseAgentVersion('latest')).toBeUndefined();
    expect(compareAgentVersions('2.3.68.0', '2.3.672.0')).toBeLessThan(0);
    expect(compareAgentVersions('3.0.1124.0', '3.0.1124.0')).toBe(0);
    expect(compareAgentVersions('10.0.0.0', '9.9.9.9')).toBeGreaterThan(0);
  });
  it('knows what each version lacks (TerminateSession flag strictly after 2.3.722.0)', () => {
    expect(missingFeatures('3.3.1142.0')).toEqual([]);
    expect(missingFeatures('2.3.50.0').map((f) => f.minVersion)).toEqual([
      '2.3.68.0',
      '2.3.668.0',
      '2.3.722.0',
      '3.0.1124.0',
    ]);
    expect(missingFeatures('2.3.722.0').map((f) => f.minVersion)).toEqual(['2.3.722.0', '3.0.1124.0']);
    expect(missingFeatures('2.3.723.0').map((f) => f.minVersion)).toEqual(['3.0.1124.0']);
    expect(AGENT_FEATURES.every((f) => f.source.length > 0)).toBe(true);
  });
});

describe('proxy settings', () => {
  const env = {
    HTTPS_PROXY: 'http://user:secret@proxy.corp:3128',
    NO_PROXY: 'localhost, .internal.corp,10.0.0.0/8, ssm.eu-west-1.amazonaws.com:443',
  };
  it('applies HTTPS_PROXY to https and wss hosts unless NO_PROXY matches', () => {
    const s = proxySettings(env);
    expect(proxyFor('https://ssm.us-east-1.amazonaws.com', s)).toMatchObject({
      endpoint: 'ssm.us-east-1.amazonaws.com:443',
      proxy: { source: 'HTTPS_PROXY' },
    });
    expect(proxyFor('wss://ssmmessages.us-east-1.amazonaws.com/v1/data-channel/x', s).proxy?.value).toBe(
      'http://user:secret@proxy.corp:3128',
    );
    expect(proxyFor('https://ssm.eu-west-1.amazonaws.com', s)).toMatchObject({
      proxy: null,
      reason: 'excluded by NO_PROXY entry "ssm.eu-west-1.amazonaws.com:443"',
    });
    expect(proxyFor('https://api.internal.corp', s).proxy).toBeNull();
    expect(proxyFor('https://internal.corp', s).proxy).toBeNull();
    expect(proxyFor('https://10.1.2.3:8443', s).reason).toMatch(/10\.0\.0\.0\/8/);
    expect(proxyFor('https://11.1.2.3', s).proxy).not.toBeNull();
    // http needs HTTP_PROXY; loopback is never proxied.
    expect(proxyFor('http://example.com', s)).toMatchObject({ proxy: null, reason: 'no HTTP_PROXY is set' });
    expect(proxyFor('https://127.0.0.1:9', s).reason).toBe('loopback addresses are never proxied');
  });
  it('lower-case variables win, `*` excludes everything, the configuration replaces the environment', () => {
    const s = proxySettings({ https_proxy: 'http://a:1', HTTPS_PROXY: 'http://b:2', no_proxy: '*' });
    expect(s.https).toEqual({ value: 'http://a:1', source: 'https_proxy' });
    expect(proxyFor('https://ssm.us-east-1.amazonaws.com', s).proxy).toBeNull();
    const c = proxySettings(env, { url: 'http://cfg:8080', noProxy: ['.amazonaws.com'] });
    expect(c.https?.source).toBe('config');
    expect(proxyFor('https://ssm.us-east-1.amazonaws.com', c).reason).toBe(
      'excluded by config entry ".amazonaws.com"',
    );
  });
  it('hides the password of a proxy URL', () => {
    expect(redactProxy('http://user:secret@proxy.corp:3128')).toBe('http://user:***@proxy.corp:3128');
    expect(redactProxy('http://proxy.corp:3128')).toBe('http://proxy.corp:3128');
  });
});

describe('classifyAwsError', () => {
  const err = (name: string, message: string): Error => Object.assign(new Error(message), { name });
  it('tells expiry, unknown keys, wrong secrets, clock skew, missing credentials, denial and throttling apart', () => {
    expect(
      classifyAwsError(err('ExpiredToken', 'The security token included in the request is expired')).kind,
    ).toBe('expired');
    expect(classifyAwsError(err('ExpiredTokenException', 'x')).kind).toBe('expired');
    expect(classifyAwsError(err('InvalidClientTokenId', 'x')).kind).toBe('invalid-key');
    expect(classifyAwsError(err('UnrecognizedClientException', 'x')).kind).toBe('invalid-key');
    expect(
      classifyAwsError(err('SignatureDoesNotMatch', 'The request signature we calculated does not match'))
        .kind,
    ).toBe('bad-secret');
    expect(
      classifyAwsError(
        err('InvalidSignatureException', 'Signature expired: 20240101T000000Z is now earlier than ...'),
      ).kind,
    ).toBe('clock');
    expect(
      classifyAwsError(err('CredentialsProviderError', 'Could not resolve credentials using profile: [x]'))
        .kind,
    ).toBe('no-credentials');
    expect(
      classifyAwsError(
        err(
          'CredentialsProviderError',
          'The SSO session associated with this profile has expired. To refresh this SSO session run aws sso login',
        ),
      ).kind,
    ).toBe('expired');
    expect(classifyAwsError(err('AccessDeniedException', 'User: x is not authorized')).kind).toBe(
      'access-denied',
    );
    expect(classifyAwsError(err('ThrottlingException', 'Rate exceeded')).kind).toBe('throttled');
    expect(
      classifyAwsError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }))
        .kind,
    ).toBe('network');
    expect(classifyAwsError(err('AbortError', 'aborted')).kind).toBe('aborted');
  });
  it('looks through the AwsCallError the control plane wraps errors in', () => {
    const wrapped = describeAwsError(err('ExpiredTokenException', 'expired'), 'StartSession', 'us-east-1');
    expect(classifyAwsError(wrapped)).toMatchObject({
      kind: 'expired',
      code: 'ExpiredTokenException',
      message: 'expired',
    });
  });
});

describe('format', () => {
  it('formats seconds and spans for people', () => {
    expect(formatSeconds(10_000)).toBe('10 s');
    expect(formatSeconds(1500)).toBe('1.5 s');
    expect(formatSeconds(150)).toBe('0.15 s');
    expect(formatSpan(45_000)).toBe('45 s');
    expect(formatSpan(362_000)).toBe('6 min 2 s');
    expect(formatSpan(-120_000)).toBe('2 min');
    expect(formatSpan(3 * 86_400_000)).toBe('3 days');
  });
  it('renders a report as text: a line per check, detail and fix under warnings, failures and skips, a summary', () => {
    const report: DiagnosticReport = DiagnosticReportSchema.parse({
      kind: 'preventive',
      profile: 'prod',
      region: 'eu-west-1',
      instanceId: 'i-0123456789abcdef0',
      startedAt: new Date(0).toISOString(),
      durationMs: 1234,
      checks: [
        {
          id: 'a',
          title: 'Credentials valid',
          status: 'pass',
          figure: 'arn:aws:iam::1:user/x',
          detail: 'ok',
          fix: null,
          durationMs: 1,
        },
        {
          id: 'b',
          title: 'Clock in sync',
          status: 'warn',
          figure: 'clock 2 min ahead',
          detail: 'Ahead.',
          fix: 'Sync it.',
          durationMs: 1,
        },
        {
          id: 'c',
          title: 'Instance',
          status: 'fail',
          figure: 'ConnectionLost',
          detail: 'Lost.',
          fix: 'Restart the agent.',
          durationMs: 1,
        },
        {
          id: 'd',
          title: 'Agent',
          status: 'skip',
          figure: null,
          detail: 'Not checked.',
          fix: null,
          durationMs: 0,
        },
      ],
      summary: { pass: 1, warn: 1, fail: 1, skip: 1 },
    });
    const text = formatReportText(report);
    expect(text).toContain('✓ Credentials valid  arn:aws:iam::1:user/x\n');
    expect(text).not.toContain('    ok');
    expect(text).toContain('! Clock in sync      clock 2 min ahead\n    Ahead.\n    Fix: Sync it.\n');
    expect(text).toContain('✗ Instance           ConnectionLost\n    Lost.\n    Fix: Restart the agent.\n');
    expect(text).toContain('- Agent\n    Not checked.\n');
    expect(text.trimEnd().split('\n').pop()).toBe('1 passed, 1 warning, 1 failed, 1 skipped in 1.23 s');
    expect(formatReportText(report, { color: true })).toContain('\x1b[31m✗\x1b[0m Instance');
  });
});

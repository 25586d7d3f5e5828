/**
 * The pieces that must match the AWS CLI byte for byte or rule for rule: the SSO cache ids
 * (checked against Python's json.dumps + sha1, as botocore computes them) and the endpoint
 * precedence for the credential clients.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { credentialEndpoint, loadConfig } from '../../../main/core/credentials/profile-config.js';
import { cliTime, registrationCacheId } from '../../../main/core/credentials/sso-cache.js';
import { tempAwsConfig, type TempAwsConfig } from '../../helpers/aws-profile.js';

let aws: TempAwsConfig | undefined;
afterEach(async () => {
  await aws?.restore();
  aws = undefined;
});

describe('SSO cache ids', () => {
  it('the registration id is sha1 of the JSON Python writes, sorted keys, null when unset', () => {
    // Vectors from: hashlib.sha1(json.dumps(args, sort_keys=True).encode()).hexdigest()
    expect(
      registrationCacheId({
        startUrl: 'https://sandbox.awsapps.com/start',
        region: 'eu-west-1',
        scopes: ['sso:account:access'],
        sessionName: 'corp',
      }),
    ).toBe('0ac5729db49dfacd1c318145b9f4b863721531c6');
    expect(registrationCacheId({ startUrl: 'https://x.awsapps.com/start', region: 'us-east-1' })).toBe(
      '82b0c67d95e3f77cf7c6ca383e781de54afc4b21',
    );
    expect(
      registrationCacheId({
        startUrl: 'https://é.example/start',
        region: 'us-east-1',
        scopes: ['a', 'b'],
        sessionName: 'sé"s',
      }),
    ).toBe('045c172c8c0cc651f54a8f54514787320caa6cde');
  });

  it('times are written as the CLI writes them', () => {
    expect(cliTime(Date.UTC(2024, 4, 1, 18, 0, 0, 750))).toBe('2024-05-01T18:00:00Z');
  });
});

describe('credential endpoints', () => {
  it('env per service, env global, the services section, endpoint_url, along the chain; ignore turns it off', async () => {
    aws = await tempAwsConfig(
      [
        '[profile top]',
        'role_arn = arn:aws:iam::123456789012:role/R',
        'source_profile = sso',
        '',
        '[profile sso]',
        'services = local',
        'endpoint_url = http://127.0.0.1:1',
        '',
        '[services local]',
        'sso =',
        '  endpoint_url = http://127.0.0.1:2',
        '',
        '[profile off]',
        'endpoint_url = http://127.0.0.1:3',
        'ignore_configured_endpoint_urls = true',
        '',
      ].join('\n'),
    );
    const cfg = await loadConfig();
    expect(credentialEndpoint('sso', ['top', 'sso'], cfg, {})).toBe('http://127.0.0.1:2');
    expect(credentialEndpoint('sts', ['top', 'sso'], cfg, {})).toBe('http://127.0.0.1:1');
    expect(credentialEndpoint('sts', ['top', 'sso'], cfg, { AWS_ENDPOINT_URL: 'http://e' })).toBe('http://e');
    expect(
      credentialEndpoint('sso_oidc', ['top', 'sso'], cfg, {
        AWS_ENDPOINT_URL: 'http://e',
        AWS_ENDPOINT_URL_SSO_OIDC: 'http://oidc',
      }),
    ).toBe('http://oidc');
    expect(
      credentialEndpoint('sts', ['top'], cfg, {
        AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true',
        AWS_ENDPOINT_URL: 'x',
      }),
    ).toBeUndefined();
    expect(credentialEndpoint('sts', ['off'], cfg, {})).toBeUndefined();
    expect(credentialEndpoint('sts', ['top'], cfg, {})).toBeUndefined();
  });
});

/**
 * networkOptions(config, env): the connection section as the Network's options, and which
 * setting wins (the configuration over the environment, as docs/config.md says).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { networkOptions } from '../../../main/core/config/apply.js';
import { IN_MEMORY, loadConfig } from '../../../main/core/config/load.js';
import { Network } from '../../../main/core/net/network.js';

const CA = path.resolve(import.meta.dirname, '../../fixtures/tls/ca.pem');

function configWith(connection: Record<string, unknown>) {
  const r = loadConfig({
    file: IN_MEMORY,
    content: { exists: true, data: { connection }, problem: null },
    env: {},
  });
  expect(r.problems).toEqual([]);
  return r.config;
}

describe('networkOptions', () => {
  it('maps connection.proxy, no_proxy, ca_bundle and connection_timeout, with the environment for null keys', () => {
    const env = { HTTPS_PROXY: 'http://env-proxy:3128' };
    const config = configWith({
      proxy: 'http://corp-proxy:8080',
      no_proxy: '.internal.example,10.0.0.0/8',
      ca_bundle: CA,
      connection_timeout: 2500,
    });
    expect(networkOptions(config, env)).toEqual({
      proxy: 'http://corp-proxy:8080',
      noProxy: '.internal.example,10.0.0.0/8',
      caBundle: CA,
      env,
      connectTimeoutMs: 2500,
    });
    const defaults = networkOptions(configWith({}), env);
    expect(defaults).toMatchObject({
      proxy: null,
      noProxy: null,
      caBundle: null,
      env,
      connectTimeoutMs: 5000,
    });
  });

  it('connection.proxy replaces HTTPS_PROXY / HTTP_PROXY; unset, they apply (https and http each their own)', () => {
    const env = {
      HTTPS_PROXY: 'http://env-https:3128',
      http_proxy: 'http://env-http:3128',
      NO_PROXY: '.corp',
    };
    const own = new Network(networkOptions(configWith({ proxy: 'http://corp-proxy:8080' }), env));
    expect(own.route('https://ssm.eu-west-1.amazonaws.com')).toMatchObject({
      proxy: 'http://corp-proxy:8080',
      source: 'connection.proxy',
    });
    expect(own.route('ws://ssm.sandbox.test:8080/x')).toMatchObject({ proxy: 'http://corp-proxy:8080' });
    // NO_PROXY still applies when connection.no_proxy is null.
    expect(own.route('https://ssm.corp/').proxy).toBeNull();

    const fromEnv = new Network(networkOptions(configWith({}), env));
    expect(fromEnv.route('wss://ssmmessages.eu-west-1.amazonaws.com/v1/data-channel/s')).toMatchObject({
      proxy: 'http://env-https:3128',
      source: 'HTTPS_PROXY',
    });
    expect(fromEnv.route('http://ssm.sandbox.test:1/')).toMatchObject({
      proxy: 'http://env-http:3128',
      source: 'http_proxy',
    });
    expect(fromEnv.route('https://127.0.0.1:443/')).toMatchObject({
      proxy: null,
      reason: 'loopback addresses are never proxied',
    });
    expect(fromEnv.describe()).toEqual({
      https: 'http://env-https:3128 (HTTPS_PROXY)',
      http: 'http://env-http:3128 (http_proxy)',
      noProxy: '.corp',
      caBundle: null,
    });
    own.dispose();
    fromEnv.dispose();
  });

  it('a Network made without env reads no variable (the caller decides)', () => {
    const saved = process.env.HTTPS_PROXY;
    process.env.HTTPS_PROXY = 'http://should-not-be-used:3128';
    try {
      expect(new Network({}).route('https://ssm.us-east-1.amazonaws.com').proxy).toBeNull();
    } finally {
      if (saved === undefined) delete process.env.HTTPS_PROXY;
      else process.env.HTTPS_PROXY = saved;
    }
  });
});

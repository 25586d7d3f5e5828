import { describe, expect, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import {
  AppInfoSchema,
  BridgeError,
  CHANNEL_NAMES,
  InstanceSummarySchema,
  ResultEnvelopeSchema,
  WsRequestSchema,
  WsServerMessageSchema,
  channels,
  events,
  isChannel,
  parseEvent,
  unwrapEnvelope,
  validateRequest,
  validateResponse,
  type BridgeHandlers,
  type ResponseOf,
} from '../../preload/api.js';
import type { InstanceSummary } from '../../main/core/ssm/types.js';

const instance: InstanceSummary = {
  instanceId: 'i-0123456789abcdef0',
  name: 'web-1',
  state: 'running',
  pingStatus: 'Online',
  platform: 'Linux',
  platformName: 'Amazon Linux',
  agentVersion: '3.3.1142.0',
  instanceType: 't3.micro',
  availabilityZone: 'us-east-1a',
  privateIpAddress: '10.0.1.12',
  launchTime: '2025-01-01T00:00:00.000Z',
  tags: { Name: 'web-1', env: 'dev' },
};

describe('InstanceSummarySchema', () => {
  it('has the same type as InstanceSummary in main/core/ssm/types.ts', () => {
    expectTypeOf<z.infer<typeof InstanceSummarySchema>>().toEqualTypeOf<InstanceSummary>();
    expectTypeOf<ResponseOf<'instances.list'>['instances']>().toEqualTypeOf<InstanceSummary[]>();
  });

  it('accepts full and minimal summaries', () => {
    expect(InstanceSummarySchema.parse(instance)).toEqual(instance);
    const minimal = {
      instanceId: 'mi-0123456789abcdef0',
      name: '',
      state: 'unknown',
      pingStatus: 'NotRegistered',
      platform: 'Unknown',
      tags: {},
    };
    expect(InstanceSummarySchema.safeParse(minimal).success).toBe(true);
    expect(InstanceSummarySchema.safeParse({ ...instance, instanceId: 'i-0123abcd' }).success).toBe(true);
    expect(
      InstanceSummarySchema.safeParse({
        ...instance,
        state: 'stopped',
        unavailableReason: 'the instance is stopped',
      }).success,
    ).toBe(true);
  });

  it.each([
    ['a bad instance id', { ...instance, instanceId: 'web-1' }],
    ['an upper-case id', { ...instance, instanceId: 'i-0123456789ABCDEF0' }],
    ['an unknown state', { ...instance, state: 'exploded' }],
    ['an unknown ping status', { ...instance, pingStatus: 'online' }],
    ['missing tags', { ...instance, tags: undefined }],
    ['non-string tag values', { ...instance, tags: { n: 1 } }],
    ['a numeric name', { ...instance, name: 42 }],
    ['null', null],
  ])('rejects %s', (_label, value) => {
    expect(InstanceSummarySchema.safeParse(value).success).toBe(false);
  });
});

describe('AppInfoSchema', () => {
  it('accepts an endpoint URL or null', () => {
    const info = {
      version: '0.1.0',
      profile: 'sandbox',
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:4566',
      platform: 'linux',
    };
    expect(AppInfoSchema.parse(info)).toEqual(info);
    expect(AppInfoSchema.safeParse({ ...info, endpoint: null }).success).toBe(true);
  });

  it('rejects missing or malformed fields', () => {
    const info = {
      version: '0.1.0',
      profile: 'sandbox',
      region: 'us-east-1',
      endpoint: null,
      platform: 'linux',
    };
    expect(AppInfoSchema.safeParse({ ...info, endpoint: 'not a url' }).success).toBe(false);
    expect(AppInfoSchema.safeParse({ ...info, profile: '' }).success).toBe(false);
    expect(AppInfoSchema.safeParse({ version: '0.1.0' }).success).toBe(false);
  });
});

describe('channels', () => {
  it('lists every channel with a request and a response schema', () => {
    expect(CHANNEL_NAMES).toContain('app.info');
    expect(CHANNEL_NAMES).toContain('sessions.open');
    expect(CHANNEL_NAMES.length).toBeGreaterThanOrEqual(15);
    for (const name of CHANNEL_NAMES) {
      expect(isChannel(name)).toBe(true);
      expect(typeof channels[name].request.safeParse).toBe('function');
      expect(typeof channels[name].response.safeParse).toBe('function');
      expect(channels[name].description.length).toBeGreaterThan(0);
    }
    expect(isChannel('toString')).toBe(false);
    expect(isChannel('__proto__')).toBe(false);
    expect(isChannel(7)).toBe(false);
  });

  it('types handlers from the schemas', () => {
    expectTypeOf<BridgeHandlers['app.info']>().returns.resolves.toEqualTypeOf<
      z.infer<typeof AppInfoSchema>
    >();
  });

  it('accepts parameterless requests as undefined or {}', () => {
    expect(validateRequest('app.info', undefined)).toEqual({
      ok: true,
      value: { channel: 'app.info', request: undefined },
    });
    expect(validateRequest('instances.list', {})).toEqual({
      ok: true,
      value: { channel: 'instances.list', request: {} },
    });
  });

  it('rejects unknown channels and unexpected parameters with a clear error', () => {
    const unknown = validateRequest('instances.delete', {});
    expect(unknown.ok).toBe(false);
    if (!unknown.ok) {
      expect(unknown.error.code).toBe('UNKNOWN_CHANNEL');
      expect(unknown.error.message).toContain('instances.delete');
      expect(unknown.error.message).toContain('app.info');
    }
    const extra = validateRequest('app.info', { verbose: true });
    expect(extra.ok).toBe(false);
    if (!extra.ok) {
      expect(extra.error.code).toBe('INVALID_REQUEST');
      expect(extra.error.message).toMatch(/^Invalid request for app\.info/);
      expect(extra.error.issues?.length).toBeGreaterThan(0);
    }
    const notObject = validateRequest('app.info', 'hello');
    expect(notObject.ok).toBe(false);
  });

  it('validates responses', () => {
    const list = {
      profile: 'sandbox',
      region: 'us-east-1',
      instances: [instance],
      fetchedAt: '2026-01-01T00:00:00.000Z',
    };
    expect(validateResponse('instances.list', list)).toEqual({ ok: true, value: list });
    const bad = validateResponse('instances.list', { ...list, instances: [{ ...instance, state: 'nope' }] });
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.error.code).toBe('INVALID_RESPONSE');
      expect(bad.error.issues?.[0]?.path).toBe('instances.0.state');
    }
  });
});

describe('events', () => {
  it('rejects unknown events and invalid payloads', () => {
    expect(Object.keys(events)).toContain('session.output');
    expect(parseEvent('instances.changed', {})).toBeUndefined();
    expect(parseEvent('__proto__', {})).toBeUndefined();
    const output = { sessionId: '9b2f6a8e-8f0c-4b1e-9d5a-2f3c4d5e6f70', offset: 0, bytes: 5, data: 'hello' };
    expect(parseEvent('session.output', output)).toEqual({ name: 'session.output', payload: output });
    expect(parseEvent('session.output', { ...output, sessionId: 'x' })).toBeUndefined();
    expect(parseEvent('session.output', { ...output, bytes: -1 })).toBeUndefined();
  });
});

describe('envelopes and errors', () => {
  it('unwraps ok envelopes and validates the value', () => {
    expect(unwrapEnvelope('sessions.list', { ok: true, value: [] })).toEqual([]);
    expect(() => unwrapEnvelope('sessions.list', { ok: true, value: [{}] })).toThrow(/INVALID_RESPONSE/);
  });

  it('turns error envelopes into BridgeErrors', () => {
    let caught: unknown;
    try {
      unwrapEnvelope('app.info', {
        ok: false,
        error: { code: 'HANDLER_FAILED', message: 'boom', name: 'ThrottlingException' },
      });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(BridgeError);
    const e = caught as BridgeError;
    expect(e.code).toBe('HANDLER_FAILED');
    expect(e.detail).toBe('boom');
    expect(e.errorName).toBe('ThrottlingException');
    expect(e.message).toBe('HANDLER_FAILED: boom');
  });

  it('rejects malformed envelopes', () => {
    expect(ResultEnvelopeSchema.safeParse({ ok: 'yes' }).success).toBe(false);
    expect(ResultEnvelopeSchema.safeParse({ ok: false, error: { code: 'NOPE', message: 'x' } }).success).toBe(
      false,
    );
    expect(() => unwrapEnvelope('app.info', 'garbage')).toThrow(/INVALID_RESPONSE/);
  });

  it('recovers the code of an error that crossed the context bridge', () => {
    const crossed = new Error(
      "Error invoking remote method 'x': Error: INVALID_REQUEST: Invalid request for app.info: x",
    );
    const e = BridgeError.from(crossed);
    expect(e.code).toBe('INVALID_REQUEST');
    expect(e.detail).toBe('Invalid request for app.info: x');
    expect(BridgeError.from('plain').code).toBe('UNAVAILABLE');
  });
});

describe('WebSocket messages', () => {
  it('accepts well-formed requests', () => {
    expect(WsRequestSchema.safeParse({ type: 'request', id: 1, channel: 'app.info' }).success).toBe(true);
    expect(
      WsRequestSchema.safeParse({ type: 'request', id: 0, channel: 'app.info', request: {} }).success,
    ).toBe(true);
  });

  it.each([
    ['no id', { type: 'request', channel: 'app.info' }],
    ['a negative id', { type: 'request', id: -1, channel: 'app.info' }],
    ['a fractional id', { type: 'request', id: 1.5, channel: 'app.info' }],
    ['a string id', { type: 'request', id: '1', channel: 'app.info' }],
    ['an extra key', { type: 'request', id: 1, channel: 'app.info', admin: true }],
    ['a wrong type', { type: 'response', id: 1, channel: 'app.info' }],
    ['a huge channel name', { type: 'request', id: 1, channel: 'x'.repeat(201) }],
  ])('rejects a request with %s', (_label, value) => {
    expect(WsRequestSchema.safeParse(value).success).toBe(false);
  });

  it('parses server messages', () => {
    expect(
      WsServerMessageSchema.safeParse({ type: 'response', id: 1, result: { ok: true, value: 1 } }).success,
    ).toBe(true);
    expect(
      WsServerMessageSchema.safeParse({ type: 'error', error: { code: 'BAD_MESSAGE', message: 'not JSON' } })
        .success,
    ).toBe(true);
    expect(WsServerMessageSchema.safeParse({ type: 'response', id: 1 }).success).toBe(false);
  });
});

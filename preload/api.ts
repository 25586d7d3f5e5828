/**
 * The bridge contract between the renderer and the main side.
 *
 * Every request the renderer can make is a *channel*: a name mapped to a zod schema for
 * its request and one for its response. The same map is used by all three parties:
 *
 * - the Electron preload (`preload/index.ts`) validates requests before sending them over
 *   IPC and responses after receiving them;
 * - the web-mode client (`renderer/bridge/`) does the same over a WebSocket;
 * - the main side (`main/core/bridge/`) validates requests again before calling a handler
 *   (the renderer is untrusted) and validates what the handler returns.
 *
 * To add a feature: add a channel to `channels` (and, for pushed data, an event to `events`),
 * then implement it in `main/core/bridge/handlers.ts`. Types follow from the schemas.
 *
 * This module must stay free of Node and Electron imports: it is bundled into the sandboxed
 * preload and into the renderer.
 */
import { z } from 'zod';

// ---------------------------------------------------------------------------------------------
// Shared shapes
// ---------------------------------------------------------------------------------------------

/** EC2 instance ids (`i-` + 8 or 17 hex) and hybrid managed-node ids (`mi-` + 17 hex). */
export const InstanceIdSchema = z
  .string()
  .regex(/^(i|mi)-[0-9a-f]{8,17}$/, 'expected an instance id like i-0123456789abcdef0');

export const InstanceStateSchema = z.enum([
  'pending',
  'running',
  'stopping',
  'stopped',
  'shutting-down',
  'terminated',
  'unknown',
]);

export const InstancePingStatusSchema = z.enum(['Online', 'ConnectionLost', 'Inactive', 'NotRegistered']);

/** Mirrors `InstanceSummary` in main/core/ssm/types.ts (a test checks the two stay equal). */
export const InstanceSummarySchema = z.object({
  instanceId: InstanceIdSchema,
  name: z.string(),
  state: InstanceStateSchema,
  pingStatus: InstancePingStatusSchema,
  platform: z.string(),
  platformName: z.string().optional(),
  agentVersion: z.string().optional(),
  instanceType: z.string().optional(),
  availabilityZone: z.string().optional(),
  privateIpAddress: z.string().optional(),
  launchTime: z.string().optional(),
  tags: z.record(z.string(), z.string()),
  unavailableReason: z.string().optional(),
});

export const AppInfoSchema = z.object({
  version: z.string().min(1),
  /** The active profile; `sandbox` is the local AWS emulation. */
  profile: z.string().min(1),
  region: z.string().min(1),
  /** The AWS API endpoint in use (the sandbox's local URL), or null for the default AWS endpoints. */
  endpoint: z.url().nullable(),
});

/** A request that takes no parameters: nothing, or an empty object (extra keys are rejected). */
export const NoParamsSchema = z.strictObject({}).optional();

// ---------------------------------------------------------------------------------------------
// Channels (renderer -> main, request/response)
// ---------------------------------------------------------------------------------------------

export interface ChannelSpec {
  request: z.ZodType;
  response: z.ZodType;
  description: string;
}

export const channels = {
  'app.info': {
    request: NoParamsSchema,
    response: AppInfoSchema,
    description: 'Version, active profile, region and endpoint.',
  },
  'instances.list': {
    request: NoParamsSchema,
    response: z.array(InstanceSummarySchema),
    description: 'EC2 instances joined with their SSM status.',
  },
} as const satisfies Record<string, ChannelSpec>;

export type Channel = keyof typeof channels;
/** What a caller passes (before zod defaults/transforms). */
export type RequestInput<C extends Channel> = z.input<(typeof channels)[C]['request']>;
/** What a handler receives (after validation). */
export type RequestOf<C extends Channel> = z.output<(typeof channels)[C]['request']>;
export type ResponseOf<C extends Channel> = z.output<(typeof channels)[C]['response']>;

/** Arguments of `invoke` after the channel: the request is optional when the schema accepts undefined. */
export type InvokeArgs<C extends Channel> =
  undefined extends RequestInput<C> ? [request?: RequestInput<C>] : [request: RequestInput<C>];

/** The main-side implementation of every channel (see main/core/bridge/handlers.ts). */
export type BridgeHandlers = { [C in Channel]: (request: RequestOf<C>) => Promise<ResponseOf<C>> };

export const CHANNEL_NAMES = Object.keys(channels) as Channel[];

export function isChannel(name: unknown): name is Channel {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(channels, name);
}

// ---------------------------------------------------------------------------------------------
// Events (main -> renderer, pushed)
// ---------------------------------------------------------------------------------------------

/** Event name -> payload schema. Empty for now; sessions and instance updates will land here. */
export const events = {} as const satisfies Record<string, z.ZodType>;

export type EventName = keyof typeof events;
export type EventPayload<E extends EventName> = z.output<(typeof events)[E]>;
export type EventListener<E extends EventName> = (payload: EventPayload<E>) => void;

export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(events, name);
}

/** Check an event's payload against its schema; undefined for unknown events or bad payloads. */
export function parseEvent(
  name: unknown,
  payload: unknown,
): { name: EventName; payload: unknown } | undefined {
  if (!isEventName(name)) return undefined;
  const schema: z.ZodType = (events as Record<string, z.ZodType>)[name as string]!;
  const parsed = schema.safeParse(payload);
  return parsed.success ? { name, payload: parsed.data } : undefined;
}

// ---------------------------------------------------------------------------------------------
// Results and errors (the same envelope over IPC and over the WebSocket)
// ---------------------------------------------------------------------------------------------

export const BridgeErrorCodeSchema = z.enum([
  /** The message itself was malformed (not JSON, not an object, no id). */
  'BAD_MESSAGE',
  'UNKNOWN_CHANNEL',
  /** The request did not match the channel's request schema. */
  'INVALID_REQUEST',
  /** The handler's (or the server's) answer did not match the channel's response schema. */
  'INVALID_RESPONSE',
  /** The handler threw (an AWS error, a sandbox fault, ...). */
  'HANDLER_FAILED',
  /** The back end is not ready or failed to start, or the transport is down. */
  'UNAVAILABLE',
  'TIMEOUT',
]);
export type BridgeErrorCode = z.infer<typeof BridgeErrorCodeSchema>;

export const BridgeIssueSchema = z.object({ path: z.string(), message: z.string() });
export type BridgeIssue = z.infer<typeof BridgeIssueSchema>;

export const BridgeErrorDataSchema = z.object({
  code: BridgeErrorCodeSchema,
  message: z.string(),
  /** The error's name when a handler threw (e.g. `ThrottlingException`). */
  name: z.string().optional(),
  /** Which fields failed validation, for INVALID_REQUEST / INVALID_RESPONSE. */
  issues: z.array(BridgeIssueSchema).optional(),
});
export type BridgeErrorData = z.infer<typeof BridgeErrorDataSchema>;

export const ResultEnvelopeSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), value: z.unknown() }),
  z.object({ ok: z.literal(false), error: BridgeErrorDataSchema }),
]);
export type ResultEnvelope = z.infer<typeof ResultEnvelopeSchema>;

/**
 * What `invoke` rejects with on every transport. The message starts with the code
 * (`INVALID_REQUEST: ...`) because Electron's context bridge copies only an error's message
 * into the page; `BridgeError.from` rebuilds the code from it on the renderer side.
 */
export class BridgeError extends Error {
  readonly code: BridgeErrorCode;
  /** The message without the code prefix. */
  readonly detail: string;
  readonly issues: BridgeIssue[] | undefined;
  readonly errorName: string | undefined;

  constructor(data: BridgeErrorData) {
    super(`${data.code}: ${data.message}`);
    this.name = 'BridgeError';
    this.code = data.code;
    this.detail = data.message;
    this.issues = data.issues;
    this.errorName = data.name;
  }

  /** Any rejection reason as a BridgeError (keeps the code of errors that crossed the context bridge). */
  static from(err: unknown): BridgeError {
    if (err instanceof BridgeError) return err;
    const message = err instanceof Error ? err.message : String(err);
    // Electron may prefix "Error invoking remote method ..."; look for our "CODE: " anywhere.
    for (const code of BridgeErrorCodeSchema.options) {
      const at = message.indexOf(`${code}: `);
      if (at !== -1) return new BridgeError({ code, message: message.slice(at + code.length + 2) });
    }
    return new BridgeError({ code: 'UNAVAILABLE', message });
  }
}

/** Zod issues as plain, serialisable `{ path, message }` pairs. */
export function toIssues(error: z.ZodError): BridgeIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)',
    message: issue.message,
  }));
}

function describeIssues(issues: BridgeIssue[]): string {
  return issues
    .slice(0, 5)
    .map((i) => `${i.path}: ${i.message}`)
    .join('; ');
}

export type Validated<T> = { ok: true; value: T } | { ok: false; error: BridgeErrorData };

/** Check a channel name and request; the single entry point for request validation on every side. */
export function validateRequest(
  channel: unknown,
  request: unknown,
): Validated<{ channel: Channel; request: unknown }> {
  if (!isChannel(channel)) {
    return {
      ok: false,
      error: {
        code: 'UNKNOWN_CHANNEL',
        message: `Unknown channel ${JSON.stringify(channel)}; known channels: ${CHANNEL_NAMES.join(', ')}`,
      },
    };
  }
  const parsed = channels[channel].request.safeParse(request);
  if (!parsed.success) {
    const issues = toIssues(parsed.error);
    return {
      ok: false,
      error: {
        code: 'INVALID_REQUEST',
        message: `Invalid request for ${channel}: ${describeIssues(issues)}`,
        issues,
      },
    };
  }
  return { ok: true, value: { channel, request: parsed.data } };
}

/** Check a response against its channel's schema. */
export function validateResponse<C extends Channel>(channel: C, response: unknown): Validated<ResponseOf<C>> {
  const parsed = channels[channel].response.safeParse(response);
  if (!parsed.success) {
    const issues = toIssues(parsed.error);
    return {
      ok: false,
      error: {
        code: 'INVALID_RESPONSE',
        message: `Invalid response for ${channel}: ${describeIssues(issues)}`,
        issues,
      },
    };
  }
  return { ok: true, value: parsed.data as ResponseOf<C> };
}

/** Turn an envelope received from the main side into a value, or throw a BridgeError. */
export function unwrapEnvelope<C extends Channel>(channel: C, raw: unknown): ResponseOf<C> {
  const envelope = ResultEnvelopeSchema.safeParse(raw);
  if (!envelope.success) {
    throw new BridgeError({
      code: 'INVALID_RESPONSE',
      message: `Malformed reply for ${channel}`,
      issues: toIssues(envelope.error),
    });
  }
  if (!envelope.data.ok) throw new BridgeError(envelope.data.error);
  const checked = validateResponse(channel, envelope.data.value);
  if (!checked.ok) throw new BridgeError(checked.error);
  return checked.value;
}

// ---------------------------------------------------------------------------------------------
// Transports
// ---------------------------------------------------------------------------------------------

/** The single IPC channel for requests: `ipcRenderer.invoke(IPC_INVOKE, channel, request)` -> ResultEnvelope. */
export const IPC_INVOKE = 'ec2connect:invoke';
/** The single IPC channel for events: `webContents.send(IPC_EVENT, eventName, payload)`. */
export const IPC_EVENT = 'ec2connect:event';

/** WebSocket path of the web-mode server; the page's `?token=` must be repeated on it. */
export const WS_PATH = '/bridge';
/** Largest WebSocket message either side accepts. */
export const WS_MAX_MESSAGE_BYTES = 1024 * 1024;

export const WsRequestSchema = z.strictObject({
  type: z.literal('request'),
  id: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  channel: z.string().max(200),
  request: z.unknown().optional(),
});
export type WsRequest = z.infer<typeof WsRequestSchema>;

export const WsServerMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('response'), id: z.number().int().nonnegative(), result: ResultEnvelopeSchema }),
  z.object({ type: z.literal('event'), event: z.string(), payload: z.unknown() }),
  /** A message the server could not attribute to a request (not JSON, no id). */
  z.object({ type: z.literal('error'), error: BridgeErrorDataSchema }),
]);
export type WsServerMessage = z.infer<typeof WsServerMessageSchema>;

// ---------------------------------------------------------------------------------------------
// What the renderer sees
// ---------------------------------------------------------------------------------------------

/** Exposed as `window.ec2connect` by the preload; implemented over a WebSocket in web mode. */
export interface Ec2ConnectBridge {
  readonly transport: 'ipc' | 'websocket';
  invoke<C extends Channel>(channel: C, ...args: InvokeArgs<C>): Promise<ResponseOf<C>>;
  /** Subscribe to an event; returns the unsubscribe function. */
  on<E extends EventName>(event: E, listener: EventListener<E>): () => void;
}

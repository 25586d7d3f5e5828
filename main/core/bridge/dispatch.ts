/**
 * One request through the contract: check the channel and request, call the handler, check
 * its answer, and turn every failure into a `ResultEnvelope` error (never a throw), so a bad
 * message from the renderer or a failing handler cannot take the transport down.
 */
import {
  validateRequest,
  validateResponse,
  type BridgeHandlers,
  type Channel,
  type ResultEnvelope,
} from '../../../preload/api.js';
import { redactSecrets, silentLogger, type Logger } from '../log/logger.js';

/** Handlers, or a promise of them while the back end (sandbox, control plane) is starting. */
export type HandlerSource =
  BridgeHandlers | Promise<BridgeHandlers> | (() => BridgeHandlers | Promise<BridgeHandlers>);

async function resolveHandlers(source: HandlerSource): Promise<BridgeHandlers> {
  return typeof source === 'function' ? source() : source;
}

export async function dispatch(
  source: HandlerSource,
  channel: unknown,
  request: unknown,
  logger: Logger = silentLogger,
): Promise<ResultEnvelope> {
  const checked = validateRequest(channel, request);
  if (!checked.ok) {
    logger.debug({ channel: String(channel), error: checked.error }, 'bridge request rejected');
    return { ok: false, error: checked.error };
  }
  const name: Channel = checked.value.channel;

  let handlers: BridgeHandlers;
  try {
    handlers = await resolveHandlers(source);
  } catch (err) {
    return {
      ok: false,
      error: { code: 'UNAVAILABLE', message: `Back end unavailable: ${redactSecrets(errorMessage(err))}` },
    };
  }

  let value: unknown;
  try {
    const handler = handlers[name] as (request: unknown) => Promise<unknown>;
    value = await handler(checked.value.request);
  } catch (err) {
    logger.warn({ err, channel: name }, 'bridge handler failed');
    const errName = err instanceof Error && err.name !== 'Error' ? err.name : undefined;
    return {
      ok: false,
      error: {
        code: 'HANDLER_FAILED',
        message: redactSecrets(errorMessage(err)),
        ...(errName ? { name: errName } : {}),
      },
    };
  }

  const response = validateResponse(name, value);
  if (!response.ok) {
    logger.error(
      { channel: name, issues: response.error.issues },
      'bridge handler returned an invalid response',
    );
    return { ok: false, error: response.error };
  }
  return { ok: true, value: response.value };
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

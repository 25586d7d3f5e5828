/** The contract over IPC: one `ipcMain.handle` for every channel, through the shared dispatcher. */
import { ipcMain, type IpcMainInvokeEvent } from 'electron';
import { IPC_INVOKE, type ResultEnvelope } from '../../preload/api.js';
import { dispatch, type HandlerSource } from '../core/bridge/dispatch.js';
import type { Logger } from '../core/log/logger.js';
import { isAllowedUrl } from './security.js';

export function registerBridgeIpc(
  handlers: HandlerSource,
  allowedOrigins: string[],
  logger: Logger,
): () => void {
  ipcMain.handle(IPC_INVOKE, async (event: IpcMainInvokeEvent, channel: unknown, request: unknown) => {
    // Only our own page may call in (not a frame that got navigated elsewhere).
    const senderUrl = event.senderFrame?.url ?? '';
    if (!isAllowedUrl(senderUrl, allowedOrigins)) {
      logger.warn({ senderUrl }, 'IPC from an untrusted frame rejected');
      return {
        ok: false,
        error: { code: 'UNAVAILABLE', message: 'This frame may not use the bridge' },
      } satisfies ResultEnvelope;
    }
    return dispatch(handlers, channel, request, logger);
  });
  return () => ipcMain.removeHandler(IPC_INVOKE);
}

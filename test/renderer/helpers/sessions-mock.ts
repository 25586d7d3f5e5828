/**
 * A stand-in for renderer/stores/sessions.ts (the terminal workbench's store) with the part
 * the views use: `sessions`, `openSession`, `focusSession`, `closeSession`.
 *
 *   vi.mock('../../../renderer/stores/sessions.js', async () =>
 *     (await import('../helpers/sessions-mock.js')).sessionsModule());
 */
import { vi } from 'vitest';
import { reactive } from 'vue';
import type { SessionInfo } from '../../../preload/api.js';

export const sessionsMock = reactive({
  sessions: {} as Record<string, SessionInfo>,
  openSession: vi.fn(async (_instance: { instanceId: string; name: string }) => {}),
  focusSession: vi.fn((_id: string) => true),
  closeSession: vi.fn(async (_id: string) => {}),
});

export function resetSessionsMock(list: SessionInfo[] = []): typeof sessionsMock {
  for (const k of Object.keys(sessionsMock.sessions)) delete sessionsMock.sessions[k];
  for (const s of list) sessionsMock.sessions[s.id] = s;
  sessionsMock.openSession.mockReset();
  sessionsMock.openSession.mockImplementation(async () => {});
  sessionsMock.focusSession.mockReset();
  sessionsMock.focusSession.mockImplementation(() => true);
  sessionsMock.closeSession.mockReset();
  sessionsMock.closeSession.mockImplementation(async () => {});
  return sessionsMock;
}

export function sessionsModule(): { useSessionsStore: () => typeof sessionsMock } {
  return { useSessionsStore: () => sessionsMock };
}

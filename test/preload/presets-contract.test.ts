/**
 * The contract's side of session presets (preload/api.ts): what sessions.open accepts besides the
 * instance, the preset schemas, and the run-as user check both ends use.
 */
import { describe, expect, it } from 'vitest';
import { runAsUserProblem, SessionPresetInputSchema, validateRequest } from '../../preload/api.js';

const WEB1 = 'i-0b5bb7865829a72f8';

function openProblem(request: Record<string, unknown>): string | null {
  const r = validateRequest('sessions.open', { instanceId: WEB1, ...request });
  return r.ok ? null : r.error.message;
}

describe('sessions.open', () => {
  it('takes an explicit choice or a preset id', () => {
    expect(openProblem({})).toBeNull();
    expect(
      openProblem({ documentName: 'shell', runAs: 'alice', loginShell: true, shellProfile: 'cd /srv' }),
    ).toBeNull();
    expect(openProblem({ command: 'top' })).toBeNull();
    expect(openProblem({ documentName: 'command', command: 'top' })).toBeNull();
    expect(openProblem({ documentName: 'Team-Shell', parameters: { team: 'web' } })).toBeNull();
    expect(openProblem({ presetId: '00000000-0000-4000-8000-000000000001' })).toBeNull();
  });

  it('refuses unsafe users, impossible combinations and both a preset and a choice, saying why', () => {
    expect(openProblem({ runAs: 'alice;id' })).toMatch(/runAs: The run-as user "alice;id" contains ";"/);
    expect(openProblem({ command: 'top', runAs: 'bob' })).toMatch(/put sudo -u <user> in the command/);
    expect(openProblem({ documentName: 'command' })).toMatch(/needs the command to run/);
    expect(openProblem({ documentName: 'shell', parameters: { a: 'b' } })).toMatch(
      /Parameters go with a custom/,
    );
    expect(openProblem({ documentName: 'bad name!' })).toMatch(/documentName/);
    expect(openProblem({ presetId: '00000000-0000-4000-8000-000000000001', runAs: 'bob' })).toMatch(
      /either a preset or an explicit document/,
    );
    expect(openProblem({ user: 'x' })).toMatch(/Unrecognized key/);
  });
});

describe('session presets', () => {
  it('match one instance or a tag, on a profile or all', () => {
    const base = { profile: 'sandbox', document: 'shell' as const };
    expect(SessionPresetInputSchema.safeParse({ ...base, match: { instanceId: WEB1 } }).success).toBe(true);
    expect(
      SessionPresetInputSchema.safeParse({
        ...base,
        profile: null,
        match: { tag: { key: 'Team', value: 'web' } },
      }).success,
    ).toBe(true);
    expect(SessionPresetInputSchema.safeParse({ ...base, match: { instanceId: 'web-1' } }).success).toBe(
      false,
    );
    expect(
      SessionPresetInputSchema.safeParse({
        ...base,
        match: { instanceId: WEB1, tag: { key: 'a', value: 'b' } },
      }).success,
    ).toBe(false);
  });

  it('user names: POSIX portable, nothing a shell would read differently', () => {
    expect(runAsUserProblem('ec2-user')).toBeNull();
    expect(runAsUserProblem('a\nb')).toMatch(/control character 0x0a/);
    expect(runAsUserProblem('-x')).toMatch(/not a valid user name/);
  });
});

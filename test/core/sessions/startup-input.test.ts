/**
 * Run-as, login shell and shell profile as startup input (startup-input.ts), and what a choice
 * or a preset makes of a session (session-launch.ts): the document, its parameters, the text
 * typed into the shell, and the refusals of user names and profiles that are unsafe to type.
 */
import { describe, expect, it } from 'vitest';
import type { SessionPreset } from '../../../preload/api.js';
import {
  COMMAND_DOCUMENT,
  explicitChoice,
  planLaunch,
  presetChoice,
} from '../../../main/core/sessions/session-launch.js';
import {
  buildStartupInput,
  checkRunAsUser,
  shellProfileLines,
  StartupInputError,
} from '../../../main/core/sessions/startup-input.js';

describe('buildStartupInput', () => {
  it('becomes the user with sudo: -i for a login shell, -s otherwise; exec replaces the agent shell', () => {
    expect(buildStartupInput({ runAs: 'alice', loginShell: true })).toBe('exec sudo -iu alice\r');
    expect(buildStartupInput({ runAs: 'alice' })).toBe('exec sudo -u alice -s\r');
    expect(buildStartupInput({ loginShell: true })).toBe('exec bash -l\r');
    expect(buildStartupInput({})).toBeUndefined();
    expect(buildStartupInput({ loginShell: false, shellProfile: '' })).toBeUndefined();
  });

  it('types the shell profile after the user switch, one line each, blank lines dropped', () => {
    expect(
      buildStartupInput({ runAs: 'ec2-user', loginShell: true, shellProfile: 'cd /srv\r\n\n  \nexport A=1' }),
    ).toBe('exec sudo -iu ec2-user\rcd /srv\rexport A=1\r');
    expect(shellProfileLines('a\rb\nc\r\n')).toEqual(['a', 'b', 'c']);
  });

  it('accepts POSIX user names, which never need quoting', () => {
    for (const name of ['alice', 'ec2-user', 'ssm-user', '_svc', 'a.b', 'Admin_2', 'x'.repeat(32)]) {
      expect(checkRunAsUser(name)).toBe(name);
    }
  });

  it('refuses shell metacharacters and invalid names, saying what is wrong', () => {
    const cases: Array<[string, RegExp]> = [
      ['alice; rm -rf /', /contains ";", a shell metacharacter/],
      ['$(id)', /contains "\$", a shell metacharacter/],
      ['al ice', /contains a space/],
      ['bob`x`', /contains "`"/],
      ['a|b', /contains "\|"/],
      ["o'neil", /contains "'"/],
      ['tab\there', /control character 0x09/],
      ['-rf', /not a valid user name/],
      ['1abc', /not a valid user name/],
      ['x'.repeat(33), /at most 32/],
      ['', /empty/],
    ];
    for (const [name, message] of cases) {
      expect(() => buildStartupInput({ runAs: name }), name).toThrow(StartupInputError);
      expect(() => checkRunAsUser(name), name).toThrow(message);
    }
  });

  it('refuses control characters in the shell profile (they would act as keys)', () => {
    expect(() => shellProfileLines('echo hi\x03')).toThrow(/control character 0x03/);
    expect(() => buildStartupInput({ shellProfile: 'ls\x1b[A' })).toThrow(StartupInputError);
    expect(shellProfileLines('printf "a\tb"')).toEqual(['printf "a\tb"']);
  });
});

describe('planLaunch', () => {
  it('the plain shell is StartSession without a document and needs no description', () => {
    expect(planLaunch(undefined)).toEqual({});
    expect(planLaunch({ document: 'shell' })).toEqual({});
  });

  it('a command session uses AWS-StartInteractiveCommand with its command', () => {
    expect(planLaunch({ document: 'command', command: 'top -b' })).toEqual({
      documentName: COMMAND_DOCUMENT,
      parameters: { command: ['top -b'] },
      launch: { document: COMMAND_DOCUMENT, command: 'top -b', runAs: null, loginShell: false, preset: null },
    });
  });

  it('a custom document passes its name and parameters; run-as and profile are typed into it', () => {
    expect(
      planLaunch({
        document: 'Team-Shell',
        parameters: { logpath: '/var/log/x' },
        runAs: 'alice',
        loginShell: true,
        shellProfile: 'cd /srv',
      }),
    ).toEqual({
      documentName: 'Team-Shell',
      parameters: { logpath: ['/var/log/x'] },
      startupInput: 'exec sudo -iu alice\rcd /srv\r',
      launch: { document: 'Team-Shell', command: null, runAs: 'alice', loginShell: true, preset: null },
    });
  });

  it('describes the preset a session came from', () => {
    const preset: SessionPreset = {
      id: '00000000-0000-4000-8000-000000000001',
      match: { tag: { key: 'Team', value: 'web' } },
      profile: null,
      document: 'shell',
      loginShell: true,
      createdAt: 1,
      updatedAt: 1,
    };
    expect(planLaunch(presetChoice(preset), preset)).toEqual({
      startupInput: 'exec bash -l\r',
      launch: { document: null, command: null, runAs: null, loginShell: true, preset: 'preset for Team=web' },
    });
    expect(
      planLaunch(presetChoice({ ...preset, name: 'web login' }), { ...preset, name: 'web login' }).launch,
    ).toMatchObject({ preset: 'web login' });
  });

  it('on a Windows instance: refuses an explicit run-as or login shell, and a preset runs without them', () => {
    const win = { instanceId: 'i-0win', windows: true };
    expect(() => planLaunch({ document: 'shell', runAs: 'alice' }, undefined, win)).toThrow(
      /i-0win is a Windows instance: run-as and login shell .* PowerShell/,
    );
    expect(() => planLaunch({ document: 'shell', loginShell: true }, undefined, win)).toThrow(
      StartupInputError,
    );
    const preset: SessionPreset = {
      id: '00000000-0000-4000-8000-000000000002',
      match: { tag: { key: 'Team', value: 'web' } },
      profile: null,
      document: 'shell',
      runAs: 'alice',
      loginShell: true,
      shellProfile: 'Set-Location C:\\work',
      createdAt: 1,
      updatedAt: 1,
    };
    expect(planLaunch(presetChoice(preset), preset, win)).toMatchObject({
      startupInput: 'Set-Location C:\\work\r',
      launch: { runAs: null, loginShell: false },
    });
    // The same preset on a Linux instance switches user.
    expect(
      planLaunch(presetChoice(preset), preset, { instanceId: 'i-0lin', windows: false }).startupInput,
    ).toBe('exec sudo -iu alice\rSet-Location C:\\work\r');
  });
});

describe('explicitChoice', () => {
  it('is undefined when nothing was chosen (presets apply then)', () => {
    expect(explicitChoice({})).toBeUndefined();
  });

  it('maps document names and a bare command to the choice vocabulary', () => {
    expect(explicitChoice({ documentName: 'SSM-SessionManagerRunShell' })).toEqual({ document: 'shell' });
    expect(explicitChoice({ command: 'uptime' })).toEqual({ document: 'command', command: 'uptime' });
    expect(explicitChoice({ documentName: COMMAND_DOCUMENT, command: 'df' })).toEqual({
      document: 'command',
      command: 'df',
    });
    expect(explicitChoice({ runAs: 'bob' })).toEqual({ document: 'shell', runAs: 'bob' });
  });

  it('refuses combinations that cannot work, naming why', () => {
    expect(() => explicitChoice({ command: 'uptime', runAs: 'bob' })).toThrow(
      /put sudo -u <user> in the command/,
    );
    expect(() => explicitChoice({ documentName: 'command' })).toThrow(/needs the command to run/);
    expect(() => explicitChoice({ parameters: { a: 'b' } })).toThrow(/Parameters go with a custom document/);
    expect(() => explicitChoice({ runAs: 'x;y' })).toThrow(/shell metacharacter/);
    expect(() => explicitChoice({ documentName: 'no spaces allowed' })).toThrow(
      /document: expected a session document name/,
    );
  });
});

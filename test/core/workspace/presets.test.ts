/**
 * Session presets in the workspace, against the embedded sandbox: presets saved through the
 * contract (session-presets.json beside the configuration, presets.changed), resolved when a
 * session opens (an explicit choice > a preset asked for > the instance's > a tag's > the
 * shell), the shell really running as the preset's user, and the session's `launch` saying so.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SessionInfoSchema } from '../../../preload/api.js';
import { Workspace, type WorkspaceOptions } from '../../../main/core/workspace/workspace.js';
import { Recorder, until } from '../../helpers/workspace-recorder.js';

const WEB1 = 'i-0b5bb7865829a72f8'; // web-1, Team=web
const WEB2 = 'i-0a03534fd537d6397'; // web-2, Team=web
const API1 = 'i-022e45fccb4896048'; // api-1, Team=platform
const HOST1 = 'ip-10-0-1-11';

const workspaces: Workspace[] = [];
const dirs: string[] = [];

async function start(options: WorkspaceOptions = {}): Promise<{ ws: Workspace; rec: Recorder }> {
  const ws = await Workspace.start({ profile: 'sandbox', ...options });
  workspaces.push(ws);
  return { ws, rec: new Recorder(ws) };
}

afterEach(async () => {
  await Promise.all(workspaces.splice(0).map((w) => w.close()));
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** Type a line into a session and wait for `expected` in its output after it. */
async function typed(
  ws: Workspace,
  rec: Recorder,
  id: string,
  line: string,
  expected: RegExp,
): Promise<void> {
  const from = rec.text(id).length;
  await ws.handlers['sessions.write']({ sessionId: id, data: `${line}\r` });
  await until(`${expected} after ${line}`, () => expected.test(rec.text(id).slice(from)), 15_000);
}

describe('Workspace session presets', { timeout: 60_000 }, () => {
  it('saves presets to session-presets.json and opens an instance with its preset: a login shell as alice', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ec2c-presets-'));
    dirs.push(dir);
    const { ws, rec } = await start({ configFile: path.join(dir, 'config.json') });
    const h = ws.handlers;
    await h['instances.list']({ refresh: true });

    const preset = await h['presets.save']({
      match: { instanceId: WEB1 },
      profile: 'sandbox',
      document: 'shell',
      runAs: 'alice',
      loginShell: true,
      shellProfile: 'export GREETING=from-preset',
      name: 'alice on web-1',
    });
    expect(rec.of('presets.changed').at(-1)!.presets).toEqual([preset]);
    const file = path.join(dir, 'session-presets.json');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).presets).toEqual([preset]);
    expect(await h['presets.resolve']({ instanceId: WEB1 })).toEqual(preset);
    expect(await h['presets.list'](undefined)).toEqual({ presets: [preset], problem: null });

    const info = await h['sessions.open']({ instanceId: WEB1, cols: 100, rows: 30 });
    expect(SessionInfoSchema.parse(info).launch).toEqual({
      document: null,
      command: null,
      runAs: 'alice',
      loginShell: true,
      preset: 'alice on web-1',
    });
    await until('alice prompt', () => rec.text(info.id).includes(`[alice@${HOST1} ~]$ `));
    await typed(ws, rec, info.id, 'echo "W=$(whoami) 0=$0 G=$GREETING"', /W=alice 0=-bash G=from-preset/);
    expect(rec.updates(info.id).at(-1)!.launch?.runAs).toBe('alice');

    // An explicit choice wins over the preset: the plain shell as ssm-user.
    const plain = await h['sessions.open']({ instanceId: WEB1, documentName: 'shell' });
    expect(plain.launch).toBeUndefined();
    await until('ssm-user prompt', () => rec.text(plain.id).includes(`[ssm-user@${HOST1} ~]$ `));
    await typed(ws, rec, plain.id, 'whoami', /\rssm-user\r\n/);

    // An explicit command session, and a preset asked for by id on another instance.
    const top = await h['sessions.open']({ instanceId: WEB1, command: 'echo CMD-$((40+2))' });
    expect(top.launch).toMatchObject({
      document: 'AWS-StartInteractiveCommand',
      command: 'echo CMD-$((40+2))',
    });
    await until('command output', () => rec.text(top.id).includes('CMD-42'));
    const asked = await h['sessions.open']({ instanceId: API1, presetId: preset.id });
    await until('alice on api-1', () => rec.text(asked.id).includes('[alice@ip-10-0-1-21 ~]$ '));

    // Refusals name the problem.
    await expect(h['sessions.open']({ instanceId: WEB1, runAs: 'x; reboot' })).rejects.toThrow(
      /shell metacharacter/,
    );
    await expect(
      h['sessions.open']({ instanceId: WEB1, presetId: '00000000-0000-4000-8000-000000000042' }),
    ).rejects.toThrow(/No session preset is the id/);

    await h['presets.delete']({ id: preset.id });
    expect(await h['presets.resolve']({ instanceId: WEB1 })).toBeNull();
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).presets).toEqual([]);
  });

  it('a tag preset applies to every instance with the tag, on its profile; the instance’s own wins', async () => {
    const { ws, rec } = await start({ presetsFile: null });
    const h = ws.handlers;
    // Not listed first: the workspace lists the instances to learn their tags.
    const byTag = await h['presets.save']({
      match: { tag: { key: 'Team', value: 'web' } },
      profile: 'sandbox',
      document: 'shell',
      runAs: 'webadmin',
      loginShell: true,
    });
    await h['presets.save']({
      match: { tag: { key: 'Team', value: 'platform' } },
      profile: 'production',
      document: 'shell',
      runAs: 'nobody',
    });
    const own = await h['presets.save']({
      match: { instanceId: WEB1 },
      profile: null,
      document: 'shell',
      loginShell: true,
    });
    expect((await h['presets.resolve']({ instanceId: WEB2 }))?.id).toBe(byTag.id);
    expect((await h['presets.resolve']({ instanceId: WEB1 }))?.id).toBe(own.id);
    expect(await h['presets.resolve']({ instanceId: API1 })).toBeNull();

    const web2 = await h['sessions.open']({ instanceId: WEB2 });
    expect(web2.launch).toMatchObject({ runAs: 'webadmin', preset: 'preset for Team=web' });
    await until('webadmin prompt', () => rec.text(web2.id).includes('[webadmin@ip-10-0-2-12 ~]$ '));

    const web1 = await h['sessions.open']({ instanceId: WEB1 });
    expect(web1.launch).toMatchObject({ runAs: null, loginShell: true });
    await typed(ws, rec, web1.id, 'shopt -q login_shell && echo "LOGIN-$(whoami)"', /LOGIN-ssm-user/);

    const api = await h['sessions.open']({ instanceId: API1 });
    expect(api.launch).toBeUndefined();
  });
});

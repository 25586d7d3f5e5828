/**
 * The sandbox's session documents (documents.ts) and its emulation of users (agent/run-as.ts):
 * custom documents from a fleet file, the options and the admin API; parameters with defaults,
 * patterns and substitution; StartSession refusing unknown documents; a Standard_Stream
 * document's inputs honoured by the agent (handshake properties, shell profile typed at start,
 * the shell running as the run-as user); `sudo -iu`, `whoami`, `id` and `bash -l` in its shells.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SSMClient, StartSessionCommand } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionDocuments, type SessionDocumentInput } from '../../main/sandbox/documents.js';
import { loadFleetDocument } from '../../main/sandbox/fleet.js';
import { startSandbox } from '../../main/sandbox/server.js';
import type { SsmSession } from '../../main/core/ssm/session.js';
import { OutputCollector, startFixture, type Fixture } from '../helpers/sandbox.js';

const WEB1 = 'i-0b5bb7865829a72f8';
const HOST = 'ip-10-0-1-11';

const aliceShell: SessionDocumentInput = {
  name: 'Alice-Shell',
  content: {
    schemaVersion: '1.0',
    description: 'Sessions as alice',
    sessionType: 'Standard_Stream',
    inputs: {
      runAsEnabled: true,
      runAsDefaultUser: 'alice',
      shellProfile: { linux: 'echo PROFILE-$((6*7)) {{ team }}', windows: '' },
      idleSessionTimeout: '15',
    },
    parameters: { team: { type: 'String', default: 'web', allowedPattern: '^[a-z]+$' } },
  },
};

const tailDoc: SessionDocumentInput = {
  name: 'Team-Greeting',
  content: {
    schemaVersion: '1.0',
    sessionType: 'InteractiveCommands',
    parameters: {
      greeting: { type: 'String', allowedValues: ['hello', 'bye'] },
      who: { type: 'String', default: 'world' },
    },
    properties: { linux: { commands: 'echo {{ greeting }}-{{who}}-done; sleep 0.2' } },
  },
};

describe('SessionDocuments', () => {
  it('knows the AWS-owned documents and the preferences document', () => {
    const docs = new SessionDocuments();
    expect(docs.list().map((d) => [d.name, d.sessionType, d.owner])).toEqual([
      ['SSM-SessionManagerRunShell', 'Standard_Stream', 'Self'],
      ['AWS-StartInteractiveCommand', 'InteractiveCommands', 'Amazon'],
      ['AWS-StartNonInteractiveCommand', 'NonInteractiveCommands', 'Amazon'],
      ['AWS-StartPortForwardingSession', 'Port', 'Amazon'],
      ['AWS-StartPortForwardingSessionToRemoteHost', 'Port', 'Amazon'],
      ['AWS-StartSSHSession', 'Port', 'Amazon'],
    ]);
    expect(docs.resolve('SSM-SessionManagerRunShell', {})).toEqual({
      name: 'SSM-SessionManagerRunShell',
      sessionType: 'Standard_Stream',
      builtIn: false,
      parameters: {},
      shell: { runAsEnabled: false, runAsDefaultUser: '', shellProfile: { linux: '', windows: '' } },
    });
    expect(docs.resolve('AWS-StartInteractiveCommand', { command: ['top'] })).toMatchObject({
      sessionType: 'InteractiveCommands',
      builtIn: true,
      command: 'top',
    });
  });

  it('fills in defaults, checks patterns and allowed values, and substitutes {{ parameters }}', () => {
    const docs = new SessionDocuments([aliceShell, tailDoc]);
    expect(docs.resolve('Alice-Shell', {})).toMatchObject({
      parameters: { team: ['web'] },
      shell: {
        runAsEnabled: true,
        runAsDefaultUser: 'alice',
        shellProfile: { linux: 'echo PROFILE-$((6*7)) web' },
        idleSessionTimeout: 15,
      },
    });
    expect(docs.resolve('Alice-Shell', { team: ['data'] }).shell!.shellProfile.linux).toBe(
      'echo PROFILE-$((6*7)) data',
    );
    expect(() => docs.resolve('Alice-Shell', { team: ['Data!'] })).toThrow(
      /Parameter "team" has an invalid value "Data!": expected a value matching \^\[a-z\]\+\$/,
    );
    expect(() => docs.resolve('Team-Greeting', {})).toThrow(
      /Parameter "greeting" is required by document Team-Greeting; expected one of "hello", "bye"/,
    );
    expect(docs.resolve('Team-Greeting', { greeting: ['bye'] }).command).toBe(
      'echo bye-world-done; sleep 0.2',
    );
    expect(() => docs.resolve('Team-Greeting', { greeting: ['hi'] })).toThrow(/expected one of/);
    expect(() => docs.resolve('Alice-Shell', { colour: ['red'] })).toThrow(
      /Parameter "colour" is not defined in document Alice-Shell \(its parameters: team\)/,
    );
    expect(() => docs.resolve('Nope-Doc', {})).toThrow(/Document Nope-Doc does not exist/);
  });

  it('refuses invalid documents, listing every problem; reserves AWS names; replaces the preferences', () => {
    const docs = new SessionDocuments();
    expect(() =>
      docs.put({
        name: 'Bad-Doc',
        content: {
          schemaVersion: '1.0',
          sessionType: 'Standard_Stream',
          inputs: { runAsEnabld: true, idleSessionTimeout: '90' },
        },
      }),
    ).toThrow(
      /Invalid session document Bad-Doc: content.inputs.idleSessionTimeout: expected minutes from "1" to "60"; content.inputs: unknown key\(s\) "runAsEnabld"/,
    );
    expect(() =>
      docs.put({ name: 'Bad-Doc', content: { schemaVersion: '1.0', sessionType: 'Shell' } }),
    ).toThrow(/expected sessionType "Standard_Stream", "InteractiveCommands" or "Port"/);
    expect(() => docs.put({ name: 'AWS-Mine', content: aliceShell.content })).toThrow(/reserved/);
    expect(() => docs.put({ name: 'amazon-x', content: aliceShell.content })).toThrow(/reserved/);
    expect(() => docs.remove('AWS-StartSSHSession')).toThrow(/AWS-owned/);
    expect(() => new SessionDocuments([aliceShell, aliceShell])).toThrow(/Alice-Shell is given twice/);

    // The account's preferences: SSM-SessionManagerRunShell may be replaced, as Standard_Stream only.
    expect(() => docs.put({ name: 'SSM-SessionManagerRunShell', content: tailDoc.content })).toThrow(
      /must be of sessionType Standard_Stream/,
    );
    docs.put({ name: 'SSM-SessionManagerRunShell', content: { ...aliceShell.content, parameters: {} } });
    expect(docs.info('SSM-SessionManagerRunShell')!.content).toMatchObject({
      inputs: { runAsDefaultUser: 'alice' },
    });
    expect(docs.remove('SSM-SessionManagerRunShell')).toBe(true);
    expect(docs.resolve('SSM-SessionManagerRunShell', {}).shell!.runAsEnabled).toBe(false);
  });
});

describe('documents in a fleet file and through the admin API', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'docs-fleet-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a fleet file carries documents; duplicates and invalid ones are reported with their path', async () => {
    const file = join(dir, 'fleet.json');
    writeFileSync(
      file,
      JSON.stringify({ instances: [{ instanceId: WEB1, name: 'web-1' }], documents: [aliceShell, tailDoc] }),
    );
    expect((await loadFleetDocument(file)).documents.map((d) => d.name)).toEqual([
      'Alice-Shell',
      'Team-Greeting',
    ]);
    writeFileSync(
      file,
      JSON.stringify({
        instances: [{ instanceId: WEB1, name: 'web-1' }],
        documents: [aliceShell, aliceShell],
      }),
    );
    await expect(loadFleetDocument(file)).rejects.toThrow(
      /\$\.documents\[1\]\.name: duplicate document Alice-Shell \(also at \$\.documents\[0\]\)/,
    );
    writeFileSync(
      file,
      JSON.stringify({
        instances: [{ instanceId: WEB1, name: 'web-1' }],
        documents: [
          { name: 'X-Doc', content: { schemaVersion: '2.2', sessionType: 'Port', properties: {} } },
        ],
      }),
    );
    await expect(loadFleetDocument(file)).rejects.toThrow(/\$\.documents\[0\]\.content/);

    writeFileSync(
      file,
      JSON.stringify({ instances: [{ instanceId: WEB1, name: 'web-1' }], documents: [tailDoc] }),
    );
    const sandbox = await startSandbox({ port: 0, fleet: file });
    try {
      expect(sandbox.documents.info('Team-Greeting')?.sessionType).toBe('InteractiveCommands');
      const ssm = new SSMClient({
        endpoint: sandbox.endpoint,
        region: sandbox.region,
        credentials: sandbox.credentials,
      });
      const started = await ssm.send(
        new StartSessionCommand({
          Target: WEB1,
          DocumentName: 'Team-Greeting',
          Parameters: { greeting: ['hello'] },
        }),
      );
      expect(sandbox.registry.get(started.SessionId!)!.parameters).toEqual({
        greeting: ['hello'],
        who: ['world'],
      });
      await expect(
        ssm.send(new StartSessionCommand({ Target: WEB1, DocumentName: 'Alice-Shell' })),
      ).rejects.toMatchObject({ name: 'InvalidDocument' });

      // Added, listed and removed at run time.
      const admin = (method: string, path: string, body?: unknown): Promise<Response> =>
        fetch(`${sandbox.endpoint}/__sandbox${path}`, {
          method,
          headers: { 'x-sandbox-admin-token': sandbox.adminToken, 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
      const put = await admin('POST', '/documents', aliceShell);
      expect(put.status).toBe(200);
      expect(((await put.json()) as { document: { name: string } }).document.name).toBe('Alice-Shell');
      const bad = await admin('POST', '/documents', { name: 'B', content: {} });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: string }).error).toMatch(
        /Invalid session document B: name: expected a document name[\s\S]*content.sessionType: expected sessionType/,
      );
      const listed = (await (await admin('GET', '/documents')).json()) as {
        documents: Array<{ name: string }>;
      };
      expect(listed.documents.map((d) => d.name)).toContain('Alice-Shell');
      await ssm.send(new StartSessionCommand({ Target: WEB1, DocumentName: 'Alice-Shell' }));
      expect((await admin('DELETE', '/documents/Alice-Shell')).status).toBe(200);
      expect((await admin('DELETE', '/documents/Alice-Shell')).status).toBe(404);
      expect((await admin('DELETE', '/documents/AWS-StartSSHSession')).status).toBe(400);
      await expect(
        ssm.send(new StartSessionCommand({ Target: WEB1, DocumentName: 'Alice-Shell' })),
      ).rejects.toMatchObject({ name: 'InvalidDocument' });
      ssm.destroy();
    } finally {
      await sandbox.close();
    }
  });
});

describe('run-as in sandbox shells', { timeout: 60_000 }, () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await startFixture({
      documents: [
        aliceShell,
        tailDoc,
        {
          name: 'No-User',
          content: { schemaVersion: '1.0', sessionType: 'Standard_Stream', inputs: { runAsEnabled: true } },
        },
      ],
    });
  });
  afterAll(async () => {
    await fx.close();
  });

  async function shell(documentName?: string): Promise<{ s: SsmSession; out: OutputCollector }> {
    const s = await fx.open(documentName ? { documentName } : {});
    const out = new OutputCollector(s);
    return { s, out };
  }

  /** Type a line and wait for `expect` in the output after it. */
  async function run(
    s: SsmSession,
    out: OutputCollector,
    line: string,
    expect: RegExp | string,
  ): Promise<string> {
    const from = out.mark();
    s.write(`${line}\r`);
    return out.waitFor(expect, 15_000, from);
  }

  it('a Standard_Stream document with runAsDefaultUser and shellProfile: the shell runs as alice, its profile typed', async () => {
    const { s, out } = await shell('Alice-Shell');
    expect(s.handshake?.sessionProperties).toMatchObject({
      runAsEnabled: true,
      runAsDefaultUser: 'alice',
      shellProfile: { linux: 'echo PROFILE-$((6*7)) web', windows: '' },
      idleSessionTimeout: '15',
    });
    await out.waitFor('PROFILE-42 web');
    await out.waitFor(`[alice@${HOST} ~]$ `);
    await run(s, out, 'echo "W=$(whoami) I=$(id -un) U=$USER L=$LOGNAME"', 'W=alice I=alice U=alice L=alice');
    const home = await run(s, out, 'echo "H=$HOME P=$PWD"', /H=\S+\/alice P=\S+\/alice/);
    expect(home).toMatch(/homes\/i-0b5bb7865829a72f8\/alice/);
    await run(s, out, 'id', /uid=\d+\(alice\) gid=\d+\(alice\)/);

    // sudo -iu bob: a login shell as bob, in his home.
    await run(s, out, 'sudo -iu bob', `[bob@${HOST} ~]$ `);
    await run(
      s,
      out,
      'echo "W=$(whoami) U=$USER 0=$0"; shopt -q login_shell && echo LOGIN-YES',
      /W=bob U=bob 0=-bash[\s\S]*LOGIN-YES/,
    );
    await run(s, out, 'cd /tmp; sudo -u carol whoami; sudo -s -u dave', `[dave@${HOST} tmp]$ `);
    await run(s, out, 'whoami; shopt -q login_shell || echo NOT-LOGIN', /dave[\s\S]*NOT-LOGIN/);
    await run(s, out, 'sudo -k', /the EC2 Connect sandbox emulates users; it supports/);
    await run(s, out, 'sudo -iu "x;y"', /sudo: unknown user x;y/);
    s.write('exit\r');
    await run(s, out, 'whoami', /\rbob\r\n/);
    s.dispose();
  });

  it('the default shell is ssm-user; bash -l reads its profile and keeps the emulation', async () => {
    const { s, out } = await shell();
    await out.waitFor(`[ssm-user@${HOST} `);
    await run(s, out, 'echo "W=$(whoami) I=$(id -u)"', 'W=ssm-user I=1001');
    await run(s, out, 'exec bash -l', `[ssm-user@${HOST} `);
    await run(s, out, 'shopt -q login_shell && echo "LOGIN $(whoami)"', 'LOGIN ssm-user');
    await run(s, out, 'sudo -i', `[root@${HOST} ~]# `);
    await run(s, out, 'id -u; id -un', /\r0\r\nroot\r\n/);
    s.dispose();
  });

  it('an InteractiveCommands document runs its command with the parameters substituted', async () => {
    const s = await fx.open({
      documentName: 'Team-Greeting',
      parameters: { greeting: ['bye'], who: ['team'] },
    });
    const out = new OutputCollector(s);
    await out.waitFor('bye-team-done');
    expect(s.handshake?.sessionType).toBe('InteractiveCommands');
    s.dispose();
  });

  it('runAsEnabled without a user fails the session with the agent’s message', async () => {
    const s = await fx.open({ documentName: 'No-User' }).catch((err: Error) => err);
    const reason =
      s instanceof Error ? s.message : await new Promise<string>((r) => s.onClosed((c) => r(c.reason)));
    expect(reason).toMatch(/please set the RunAs default user/);
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createFleet, defaultFleet, loadFleetFile, parseFleet } from '../../main/sandbox/fleet.js';
import type { SandboxInstance } from '../../main/sandbox/types.js';

const dir = mkdtempSync(join(tmpdir(), 'sandbox-fleet-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeFleet(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

async function loadError(content: string): Promise<string> {
  const path = writeFleet(`f-${Math.random().toString(36).slice(2)}.json`, content);
  const err = await loadFleetFile(path).then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  expect(err, 'expected loadFleetFile to fail').toBeInstanceOf(Error);
  expect(err!.message).toContain(path);
  return err!.message;
}

describe('defaultFleet', () => {
  const fleet = defaultFleet();

  it('is a deterministic dozen with valid, unique ids', () => {
    expect(fleet).toHaveLength(12);
    expect(defaultFleet()).toEqual(fleet);
    const ids = fleet.map((i) => i.instanceId);
    expect(new Set(ids).size).toBe(12);
    for (const id of ids) expect(id).toMatch(/^i-[0-9a-f]{17}$/);
  });

  it('has the documented mix of platforms and statuses', () => {
    const byName = new Map(fleet.map((i) => [i.name, i]));
    for (const name of ['web-1', 'web-2', 'api-1', 'db-primary', 'bastion', 'worker-1']) {
      expect(byName.get(name)).toMatchObject({ state: 'running', pingStatus: 'Online' });
    }
    expect(fleet.filter((i) => i.platformType === 'Windows')).toHaveLength(1);
    expect(fleet.filter((i) => i.platformType === 'MacOS')).toHaveLength(1);
    expect(fleet.filter((i) => i.state === 'running' && i.pingStatus === 'ConnectionLost')).toHaveLength(1);
    expect(fleet.filter((i) => i.state === 'stopped')).toHaveLength(1);
    expect(fleet.filter((i) => i.state === 'running' && i.pingStatus === 'Inactive')).toHaveLength(1);
    expect(fleet.filter((i) => i.ssmManaged === false)).toHaveLength(1);
    expect(
      fleet.filter((i) => i.state === 'running' && i.pingStatus === 'Online' && i.ssmManaged !== false)
        .length,
    ).toBeGreaterThanOrEqual(8);
  });

  it('tags every instance with Name, Environment, Team and Role', () => {
    for (const i of fleet) {
      expect(i.tags.Name).toBe(i.name);
      expect(['prod', 'staging', 'dev']).toContain(i.tags.Environment);
      expect(i.tags.Team).toBeTruthy();
      expect(i.tags.Role).toBeTruthy();
    }
  });

  it('places instances in the given region', () => {
    for (const i of defaultFleet('eu-west-1')) expect(i.availabilityZone).toMatch(/^eu-west-1[a-c]$/);
  });
});

describe('fleet files', () => {
  it('loads an object with instances and fills in defaults', async () => {
    const path = writeFleet(
      'ok.json',
      JSON.stringify({
        instances: [
          { instanceId: 'i-0123456789abcdef0', name: 'one', tags: { Environment: 'dev' } },
          { instanceId: 'i-0123456789abcdef1', name: 'two', state: 'stopped', platformType: 'Windows' },
        ],
      }),
    );
    const instances = await loadFleetFile(path);
    expect(instances[0]).toMatchObject({
      instanceId: 'i-0123456789abcdef0',
      name: 'one',
      tags: { Name: 'one', Environment: 'dev' },
      state: 'running',
      pingStatus: 'Online',
      platformType: 'Linux',
    });
    expect(instances[1]).toMatchObject({
      state: 'stopped',
      pingStatus: 'ConnectionLost',
      platformType: 'Windows',
    });
    expect(instances[1]!.computerName).toMatch(/^EC2AMAZ-/);
  });

  it('loads a bare array', () => {
    expect(parseFleet([{ instanceId: 'i-0123456789abcdef0', name: 'one' }])).toHaveLength(1);
  });

  it('rejects unknown keys, naming the JSON path', async () => {
    const message = await loadError(
      JSON.stringify({ instances: [{ instanceId: 'i-0123456789abcdef0', name: 'a', pingstatus: 'Online' }] }),
    );
    expect(message).toContain('$.instances[0].pingstatus: unknown key');
  });

  it('rejects bad values, saying what is expected', async () => {
    const message = await loadError(
      JSON.stringify({
        instances: [
          { instanceId: 'i-0123456789abcdef0', name: 'a' },
          { instanceId: 'i-0123456789abcdef1', name: 'b', pingStatus: 'online' },
          { instanceId: 'i-123', name: 'c' },
        ],
      }),
    );
    expect(message).toMatch(/\$\.instances\[1\]\.pingStatus: .*"Online"\|"ConnectionLost"\|"Inactive"/);
    expect(message).toMatch(/\$\.instances\[2\]\.instanceId: expected an instance id: "i-" followed by 17/);
  });

  it('rejects duplicate ids and a Name tag that contradicts name', async () => {
    const message = await loadError(
      JSON.stringify([
        { instanceId: 'i-0123456789abcdef0', name: 'a' },
        { instanceId: 'i-0123456789abcdef0', name: 'b', tags: { Name: 'c' } },
      ]),
    );
    expect(message).toContain('$[1].instanceId: duplicate instance id i-0123456789abcdef0 (also at $[0])');
    expect(message).toContain('$[1].tags.Name: must equal "name"');
  });

  it('rejects invalid JSON, a wrong top-level shape and a missing file', async () => {
    expect(await loadError('{ "instances": [ }')).toMatch(/not valid JSON/);
    expect(await loadError('{"machines": []}')).toMatch(
      /\$\.machines: unknown key|expected an array of instances/,
    );
    expect(await loadError('42')).toMatch(
      /\$: expected an array of instances or an object \{"instances": \[\.\.\.\]\}/,
    );
    const missing = join(dir, 'missing.json');
    await expect(loadFleetFile(missing)).rejects.toThrow(
      `Cannot read sandbox fleet file ${missing}: no such file.`,
    );
  });
});

describe('createFleet', () => {
  it('hands out copies, so callers cannot change the fleet by accident', () => {
    const fleet = createFleet();
    const first = fleet.list()[0]!;
    first.tags.Name = 'changed';
    first.pingStatus = 'Inactive';
    expect(fleet.get(first.instanceId)).toMatchObject({ pingStatus: 'Online', tags: { Name: 'web-1' } });
  });

  it('rejects duplicate and malformed instance ids', () => {
    const one = defaultFleet()[0]!;
    expect(() => createFleet([one, one])).toThrow(/duplicate instance id/);
    expect(() => createFleet([{ ...one, instanceId: 'i-nope' }])).toThrow(/"i-" followed by 17/);
    expect(() => createFleet([{ ...one, pingStatus: 'Sleeping' as SandboxInstance['pingStatus'] }])).toThrow(
      /pingStatus/,
    );
  });

  it('update() changes an instance, emits changed, and keeps name and tags.Name in step', () => {
    const fleet = createFleet();
    const events: SandboxInstance[] = [];
    fleet.on('changed', (i: SandboxInstance) => events.push(i));
    const web1 = fleet.list()[0]!;
    const updated = fleet.update(web1.instanceId, { pingStatus: 'ConnectionLost', name: 'web-one' });
    expect(updated).toMatchObject({
      pingStatus: 'ConnectionLost',
      name: 'web-one',
      tags: { Name: 'web-one' },
    });
    expect(events).toHaveLength(1);
    expect(fleet.get(web1.instanceId)!.pingStatus).toBe('ConnectionLost');
    expect(() => fleet.update(web1.instanceId, { state: 'sleeping' as SandboxInstance['state'] })).toThrow(
      /state/,
    );
    expect(() => fleet.update('i-00000000000000000', { name: 'x' })).toThrow(/no instance/);
  });

  it('stopping an instance takes its agent offline; starting brings it back', () => {
    let now = 1_000_000;
    const fleet = createFleet(defaultFleet(), { now: () => now });
    const id = fleet.list()[0]!.instanceId;
    expect(fleet.lastPingDateTime(id)!.getTime()).toBe(now);
    fleet.update(id, { state: 'stopped' });
    expect(fleet.get(id)!.pingStatus).toBe('ConnectionLost');
    now += 60_000;
    expect(fleet.lastPingDateTime(id)!.getTime()).toBe(now - 60_000);
    fleet.update(id, { state: 'running' });
    expect(fleet.get(id)!.pingStatus).toBe('Online');
  });
});

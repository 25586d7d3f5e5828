/**
 * startSandbox(): the whole local AWS sandbox on one port (SSM, EC2 and STS APIs, IAM
 * Identity Center's SSO OIDC and portal APIs, the admin API and the data channel), ready
 * for the AWS SDKs, their credential providers and the official session-manager-plugin:
 *
 *   const sandbox = await startSandbox({ port: 0 });
 *   const ssm = new SSMClient({ endpoint: sandbox.endpoint, region: sandbox.region, credentials: sandbox.credentials });
 *   ...
 *   await sandbox.close();
 *
 * It listens on 127.0.0.1 only unless `allowNonLoopback` is set: the sandbox hands out
 * real shells on this machine.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { silentLogger, type Logger } from '../core/log/logger.js';
import { DataChannelServer, type DataChannelServerOptions } from './agent/data-channel-server.js';
import { SandboxSso, type SandboxSsoOptions } from './api/sso-oidc.js';
import { SandboxSts, type SandboxStsOptions } from './api/sts.js';
import { CredentialStore, defaultCredentials } from './credentials.js';
import { createFaultController, validateFaultPatch } from './faults.js';
import { createFleet, defaultFleet, loadFleetDocument, type SandboxFleet } from './fleet.js';
import { SandboxKmsKeys, defaultKmsKeys, type KmsKeySpec } from './api/kms-keys.js';
import { SessionDocuments, type SessionDocumentInput } from './documents.js';
import { ADMIN_TOKEN_HEADER, createSandboxHttpServer } from './http-server.js';
import { SandboxSessionRegistry } from './session-registry.js';
import type { FaultController, SandboxCredentials, SandboxInstance } from './types.js';

export interface SandboxOptions {
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Address to listen on (default 127.0.0.1). Anything but loopback needs `allowNonLoopback`. */
  host?: string;
  /** Allow a non-loopback `host`: anyone who can reach it gets shells on this machine. */
  allowNonLoopback?: boolean;
  /** The region this endpoint serves (default us-east-1); clients must sign for it. */
  region?: string;
  /** The instances, or the path of a fleet file (see fleet.ts); default: the built-in dozen. */
  fleet?: SandboxInstance[] | string;
  /**
   * KMS keys besides the default `alias/sandbox-session` (a fleet file's `kmsKeys` add to
   * them): for instances whose `kmsKeyId` requires encrypted sessions (see api/kms-keys.ts).
   */
  kmsKeys?: KmsKeySpec[];
  /** Custom session documents (see documents.ts); a fleet file's `documents` add to them. */
  documents?: SessionDocumentInput[];
  /** The long-term credentials accepted (default: the fixed sandbox credentials, see credentials.ts). */
  credentials?: SandboxCredentials;
  /** STS AssumeRole: roles, MFA devices, shortest DurationSeconds (see api/sts.ts). */
  sts?: SandboxStsOptions;
  /** IAM Identity Center: accounts and roles of the user, token and code lifetimes (see api/sso-oidc.ts). */
  sso?: SandboxSsoOptions;
  /** How long a session token stays valid for (re)connecting, in ms (default 10 minutes). */
  tokenTtlMs?: number;
  /** Seed for the fault controller's random source (default: random). */
  faultSeed?: number;
  /** Faults in force from the start (same shape as POST /__sandbox/faults); validated. */
  faults?: unknown;
  logger?: Logger;
  /** Passed to the data-channel server. */
  agent?: DataChannelServerOptions;
  /** Terminated sessions kept for DescribeSessions History (default 1000). */
  historyLimit?: number;
  /** Clock in ms (default Date.now), for tests. */
  now?: () => number;
  /**
   * Serve HTTPS and wss (data channel) with this key and certificate (PEM) instead of plain
   * HTTP: for tests of CA bundles and TLS through proxies. The endpoint becomes https://.
   */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /**
   * Host name put in the endpoint and the StreamUrls handed out, instead of the address listened
   * on (e.g. `ssm.sandbox.test`, a name that resolves nowhere, so only a proxy that maps it to
   * this machine reaches the sandbox; or the name in the `tls` certificate).
   */
  advertisedHost?: string;
}

export interface SandboxHandle {
  /** e.g. http://127.0.0.1:PORT: the endpoint for the SSM, EC2 and STS clients (and the plugin). */
  endpoint: string;
  /** The address really listened on, e.g. http://127.0.0.1:PORT (differs from `endpoint` with `advertisedHost`). */
  localEndpoint: string;
  region: string;
  /** The long-term credentials to sign with. */
  credentials: SandboxCredentials;
  /** Every key the sandbox accepts; add temporary credentials with `credentialStore.addTemporary`. */
  credentialStore: CredentialStore;
  /** STS: the roles AssumeRole knows and the virtual MFA devices (add more at run time). */
  sts: SandboxSts;
  /** IAM Identity Center: sign-in requests (approve them with `sso.act(userCode, 'approve')`), tokens, assignments. */
  sso: SandboxSso;
  /** KMS: the keys (add or change them at run time with `kms.put` / `kms.update`). */
  kms: SandboxKmsKeys;
  /** Session documents: the AWS-owned ones and custom ones (add more with `documents.put`). */
  documents: SessionDocuments;
  /** Value for the x-sandbox-admin-token header of the /__sandbox/ admin API (random per start). */
  adminToken: string;
  fleet: SandboxFleet;
  registry: SandboxSessionRegistry;
  faults: FaultController;
  dataChannel: DataChannelServer;
  /** Releases everything (server, sockets, sessions, timers). Idempotent. */
  close(): Promise<void>;
}

const REGION_RE = /^[a-z]{2}(-[a-z]+)+-\d+$/;

import { isLoopbackHost } from './loopback.js';

export { isLoopbackHost };

function endpointHost(address: AddressInfo): string {
  if (address.address === '0.0.0.0') return '127.0.0.1';
  if (address.address === '::') return '[::1]';
  return address.family === 'IPv6' || address.address.includes(':')
    ? `[${address.address}]`
    : address.address;
}

function checkOptions(options: SandboxOptions): void {
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(
      `Sandbox port must be an integer from 0 to 65535 (0 picks a free port), got ${String(options.port)}.`,
    );
  }
  const region = options.region ?? 'us-east-1';
  if (!REGION_RE.test(region)) {
    throw new Error(`Sandbox region "${region}" is not a region name like "us-east-1".`);
  }
  const host = options.host ?? '127.0.0.1';
  if (
    options.advertisedHost !== undefined &&
    !/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$|^\[[0-9a-f:.]+\]$/i.test(options.advertisedHost)
  ) {
    throw new Error(
      `Sandbox advertisedHost must be a host name like "ssm.sandbox.test" (or an IP address), got "${options.advertisedHost}".`,
    );
  }
  if (!isLoopbackHost(host) && !options.allowNonLoopback) {
    throw new Error(
      `Refusing to listen on ${host}: the sandbox hands out real shells on this machine to anyone who can reach it. ` +
        'Listen on 127.0.0.1 (the default), or set allowNonLoopback: true if you really mean to expose it.',
    );
  }
}

/** Starts the sandbox; resolves once it is listening. */
export async function startSandbox(options: SandboxOptions = {}): Promise<SandboxHandle> {
  checkOptions(options);
  const logger = options.logger ?? silentLogger;
  const region = options.region ?? 'us-east-1';
  const host = options.host ?? '127.0.0.1';
  const now = options.now ?? Date.now;

  if (!isLoopbackHost(host)) {
    const warning =
      `SANDBOX EXPOSED: listening on ${host}, not loopback. Anyone who can reach this address and knows the ` +
      'sandbox credentials (which are public) gets a shell on this machine.';
    logger.warn(warning);
    process.emitWarning(warning, { code: 'EC2_CONNECT_SANDBOX_EXPOSED' });
  }

  const fleetDocument =
    typeof options.fleet === 'string'
      ? await loadFleetDocument(options.fleet)
      : { instances: options.fleet ?? defaultFleet(region), kmsKeys: [], documents: [] };
  const instances = fleetDocument.instances;
  const fleet = createFleet(instances, { now });
  const documents = new SessionDocuments([...(options.documents ?? []), ...fleetDocument.documents]);
  const credentials = options.credentials ?? defaultCredentials();
  const kms = new SandboxKmsKeys(
    region,
    credentials.accountId,
    [...defaultKmsKeys(), ...(options.kmsKeys ?? []), ...fleetDocument.kmsKeys],
    now,
  );
  const credentialStore = new CredentialStore(credentials);
  const sts = new SandboxSts(credentialStore, options.sts, now);
  const sso = new SandboxSso(credentialStore, options.sso, now);
  const faults = createFaultController(options.faultSeed);
  if (options.faults !== undefined) faults.set(validateFaultPatch(options.faults));
  const adminToken = randomBytes(32).toString('base64url');

  let endpoint = '';
  const registry = new SandboxSessionRegistry({
    streamUrlBase: () => endpoint.replace(/^http/, 'ws'),
    ...(options.tokenTtlMs !== undefined ? { tokenTtlMs: options.tokenTtlMs } : {}),
    ...(options.historyLimit !== undefined ? { historyLimit: options.historyLimit } : {}),
    now,
  });
  const dataChannel = new DataChannelServer({
    ...options.agent,
    registry,
    fleet,
    faults,
    kms,
    documents,
    logger,
  });

  const onInstanceChanged = (instance: SandboxInstance): void => {
    faults.emit('instanceChanged', instance.instanceId);
  };
  fleet.on('changed', onInstanceChanged);

  const http = createSandboxHttpServer({
    region,
    fleet,
    registry,
    faults,
    credentials: credentialStore,
    sts,
    sso,
    kms,
    documents,
    dataChannel,
    adminToken,
    logger,
    now,
    describe: () => ({ endpoint, adminTokenHeader: ADMIN_TOKEN_HEADER }),
    endpoint: () => endpoint,
    ...(options.tls ? { tls: options.tls } : {}),
  });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      fleet.off('changed', onInstanceChanged);
      const results = await Promise.allSettled([dataChannel.close(), http.close()]);
      for (const r of results)
        if (r.status === 'rejected') logger.warn({ err: r.reason }, 'sandbox close step failed');
      logger.info({ endpoint }, 'sandbox stopped');
    })();
    return closing;
  };

  try {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        reject(
          new Error(
            err.code === 'EADDRINUSE'
              ? `Cannot start the sandbox: ${host}:${options.port} is already in use. Pick another port, or 0 for a free one.`
              : `Cannot start the sandbox on ${host}:${options.port ?? 0}: ${err.message}`,
          ),
        );
      };
      http.server.once('error', onError);
      http.server.listen(options.port ?? 0, host, () => {
        http.server.off('error', onError);
        resolve();
      });
    });
  } catch (err) {
    await close();
    throw err;
  }
  http.server.on('error', (err) => logger.error({ err }, 'sandbox server error'));

  const address = http.server.address() as AddressInfo;
  const scheme = options.tls ? 'https' : 'http';
  const localEndpoint = `${scheme}://${endpointHost(address)}:${address.port}`;
  endpoint = `${scheme}://${options.advertisedHost ?? endpointHost(address)}:${address.port}`;
  logger.info({ endpoint, region, instances: instances.length }, 'sandbox listening');

  return {
    endpoint,
    localEndpoint,
    region,
    credentials: { ...credentials },
    credentialStore,
    sts,
    sso,
    kms,
    documents,
    adminToken,
    fleet,
    registry,
    faults,
    dataChannel,
    close,
  };
}

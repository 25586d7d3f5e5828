/**
 * An AWS SDK client made on first use, its SDK module loaded only then. The SDK's client modules
 * are large (EC2's costs a Node process ~70 MB resident and ~0.3 s to load), and most commands
 * need few of them: `ec2-connect connect i-...` needs SSM only.
 */
export class LazyClient<C extends { destroy(): void }> {
  private loading: Promise<C> | undefined;
  private made: C | undefined;
  private closed = false;

  constructor(
    /** What it is ("EC2"), for messages. */
    readonly what: string,
    private readonly make: () => Promise<C>,
  ) {}

  get(): Promise<C> {
    this.loading ??= this.make().then((client) => {
      if (this.closed) {
        client.destroy();
        throw new Error(`This AWS connection was closed before ${this.what} was first used`);
      }
      this.made = client;
      return client;
    });
    return this.loading;
  }

  /** Whether the client exists yet (its module loaded). */
  get isMade(): boolean {
    return this.made !== undefined;
  }

  dispose(): void {
    this.closed = true;
    this.made?.destroy();
    this.made = undefined;
  }
}

/**
 * A CommonJS module's exports from a dynamic `import()`, whoever loaded it: Node (and tsx) give
 * the named exports on the namespace, the CLI's ESM bundle (esbuild) only a `default` holding
 * `module.exports`. `probe` is an export the module must have.
 */
export function cjsExports<T extends object>(namespace: T, probe: keyof T): T {
  if (probe in namespace) return namespace;
  const inner = (namespace as { default?: T }).default;
  if (inner && probe in inner) return inner;
  throw new Error(`The module loaded has no ${String(probe)} export (a broken install or bundle)`);
}

/**
 * The SDK modules of EC2, STS and KMS, loaded when first needed (see LazyClient): a session to a
 * known instance id needs none of them.
 */
export async function loadEc2Sdk(): Promise<typeof import('@aws-sdk/client-ec2')> {
  return cjsExports(await import('@aws-sdk/client-ec2'), 'EC2Client');
}
export async function loadStsSdk(): Promise<typeof import('@aws-sdk/client-sts')> {
  return cjsExports(await import('@aws-sdk/client-sts'), 'STSClient');
}
export async function loadKmsSdk(): Promise<typeof import('@aws-sdk/client-kms')> {
  return cjsExports(await import('@aws-sdk/client-kms'), 'KMSClient');
}

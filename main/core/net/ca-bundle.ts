/**
 * The certificate authorities trusted for AWS endpoints when a CA bundle is configured.
 *
 * Node's `ca` option replaces the trust store instead of adding to it, so the bundle is
 * appended to Node's own roots (`tls.rootCertificates`): the public AWS endpoints stay trusted
 * whether or not the traffic is re-signed (a TLS-inspecting proxy that lets some hosts through).
 * NODE_EXTRA_CA_CERTS is dropped by Node as soon as `ca` is given, so it is added back here too.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { NetworkConfigError } from './errors.js';

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

export interface CaBundleSource {
  file: string;
  /** The configuration key or variable that named it (for messages). */
  key: string;
}

/** The bundle to use: connection.ca_bundle, else AWS_CA_BUNDLE (as the AWS CLI reads it), else none. */
export function caBundleSource(
  configured: string | null | undefined,
  env: NodeJS.ProcessEnv,
): CaBundleSource | null {
  if (configured && configured.trim()) return { file: configured.trim(), key: 'connection.ca_bundle' };
  const fromEnv = env.AWS_CA_BUNDLE?.trim();
  return fromEnv ? { file: fromEnv, key: 'AWS_CA_BUNDLE' } : null;
}

function fixFor(key: string): string {
  return key === 'connection.ca_bundle'
    ? 'Set connection.ca_bundle to a PEM file holding the certificate authorities to trust (-----BEGIN CERTIFICATE----- blocks), or unset it.'
    : `Point ${key} at a PEM file holding the certificate authorities to trust (-----BEGIN CERTIFICATE----- blocks), unset it, or set connection.ca_bundle (which takes precedence).`;
}

/** The certificates of a PEM file, each checked; throws a NetworkConfigError naming the file and key. */
export function readCaBundle(source: CaBundleSource): string[] {
  const { file, key } = source;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'there is no such file'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'it is a folder, not a file'
            : (err as Error).message;
    throw new NetworkConfigError(key, `${key}: cannot read the CA bundle ${file} (${why}). ${fixFor(key)}`, {
      cause: err,
    });
  }
  const blocks = text.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) {
    throw new NetworkConfigError(
      key,
      `${key}: ${file} holds no PEM certificate (no -----BEGIN CERTIFICATE----- block). A DER (binary) certificate converts with \`openssl x509 -inform der -in cert.der -out cert.pem\`. ${fixFor(key)}`,
    );
  }
  blocks.forEach((pem, i) => {
    try {
      new X509Certificate(pem);
    } catch (err) {
      throw new NetworkConfigError(
        key,
        `${key}: certificate ${i + 1} of ${blocks.length} in ${file} is not a valid certificate (${(err as Error).message}). ${fixFor(key)}`,
        { cause: err },
      );
    }
  });
  return blocks;
}

/** NODE_EXTRA_CA_CERTS, which Node ignores once `ca` is set; unreadable: left out (Node already warned at start). */
function extraCertificates(env: NodeJS.ProcessEnv): string[] {
  const file = env.NODE_EXTRA_CA_CERTS;
  if (!file) return [];
  try {
    return readFileSync(file, 'utf8').match(PEM_BLOCK) ?? [];
  } catch {
    return [];
  }
}

/** Node's roots, NODE_EXTRA_CA_CERTS and the bundle: the `ca` option for every TLS connection. */
export function trustedCertificates(source: CaBundleSource, env: NodeJS.ProcessEnv): string[] {
  const bundle = readCaBundle(source);
  return [...tls.rootCertificates, ...extraCertificates(env), ...bundle];
}

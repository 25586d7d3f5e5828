import pkg from '../../package.json' with { type: 'json' };

/** The app's version, sent to the agent as ClientVersion and shown by `ec2-connect --version`. */
export const CLIENT_VERSION: string = pkg.version;
export const PRODUCT_NAME = 'EC2 Connect';

/**
 * The ClientVersion this client puts in the data channel's open frame and handshake response:
 * the session-manager-plugin release whose protocol it implements. Agents turn features on by
 * this number (smux multiplexing of port sessions needs 1.1.70 or later), so it must not be the
 * app's own version, which starts at 0.x.
 */
export const PROTOCOL_CLIENT_VERSION = '1.2.650.0';

import pkg from '../../package.json' with { type: 'json' };

/** The app's version, sent to the agent as ClientVersion and shown by `ec2-connect --version`. */
export const CLIENT_VERSION: string = pkg.version;
export const PRODUCT_NAME = 'EC2 Connect';

/** Entry point of the `ec2-connect` command. */
// The SDK warns once per process that releases after January 2027 need Node 22; users of the CLI
// cannot act on that, so it is silenced unless they set the variable themselves.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import { buildProgram } from './program.js';

buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.stderr.write(`ec2-connect: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });

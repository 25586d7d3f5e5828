/** Entry point of the `ec2-connect` command. */
import { buildProgram } from './program.js';

buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.stderr.write(`ec2-connect: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });

/** The `ec2-connect` command line: one commander program, each command in main/cli/commands/. */
import { Command } from 'commander';
import { CLIENT_VERSION } from '../core/version.js';
import { registerConnectCommand } from './commands/connect.js';
import { registerListCommand } from './commands/list.js';
import { registerLoginCommand } from './commands/login.js';
import { registerSessionsCommands } from './commands/sessions.js';
import { registerSandboxCommand } from './commands/sandbox.js';
import { registerAppCommands } from './commands/app.js';
import { registerDatabaseCommands } from './commands/database.js';
import { registerMetricsCommand } from './commands/metrics.js';
import { registerResourcesCommand } from './commands/resources.js';
import { registerDiagnoseCommands } from './commands/diagnose.js';
import { registerConfigCommands } from './commands/config.js';
import { registerForwardCommand } from './commands/forward.js';
import { registerSshProxyCommand } from './commands/ssh-proxy.js';
import { registerPresetsCommands } from './commands/presets.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('ec2-connect')
    .description(
      'Shells on EC2 instances through AWS Systems Manager Session Manager, with a local AWS sandbox.',
    )
    .version(CLIENT_VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    // Usage errors exit with 2 (as most CLIs do), so scripts can tell them from a failed session (255).
    .exitOverride((err) => {
      process.exit(err.exitCode === 0 ? 0 : 2);
    });
  registerListCommand(program);
  registerConnectCommand(program);
  registerPresetsCommands(program);
  registerForwardCommand(program);
  registerSshProxyCommand(program);
  registerLoginCommand(program);
  registerSessionsCommands(program);
  registerSandboxCommand(program);
  registerAppCommands(program);
  registerDatabaseCommands(program);
  registerMetricsCommand(program);
  registerResourcesCommand(program);
  registerDiagnoseCommands(program);
  registerConfigCommands(program);
  return program;
}

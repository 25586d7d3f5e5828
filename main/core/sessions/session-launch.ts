/**
 * What a new session runs, from a choice made at open time or a session preset: the document
 * and parameters for StartSession, the startup input typed into the shell (startup-input.ts),
 * and the description shown on its tab.
 *
 *   document 'shell'    SSM-SessionManagerRunShell (StartSession without a document)
 *   document 'command'  AWS-StartInteractiveCommand with { command }
 *   any other name      that document, with its parameters (a custom session document)
 *
 * Precedence (the caller finds the preset, session-presets.ts): an explicit choice at open time,
 * else the instance's preset, else the first preset of one of its tags, else the shell.
 */
import {
  SessionChoiceSchema,
  type SessionChoice,
  type SessionLaunch,
  type SessionPreset,
} from '../../../preload/api.js';
import { buildStartupInput, StartupInputError } from './startup-input.js';

export const SHELL_DOCUMENT = 'SSM-SessionManagerRunShell';
export const COMMAND_DOCUMENT = 'AWS-StartInteractiveCommand';

/** The parts of SessionManager.open (and SsmSession.open) a launch decides. */
export interface LaunchPlan {
  documentName?: string;
  parameters?: Record<string, string[]>;
  startupInput?: string;
  /** How it was started, for the session's info; undefined for the plain default shell. */
  launch?: SessionLaunch;
}

/** The fields of an explicit choice, as sessions.open and `ec2-connect connect` take them. */
export interface ChoiceFields {
  documentName?: string | undefined;
  parameters?: Record<string, string> | undefined;
  command?: string | undefined;
  runAs?: string | undefined;
  loginShell?: boolean | undefined;
  shellProfile?: string | undefined;
}

/** The explicit choice among `fields`, or undefined when none was made (then presets apply). */
export function explicitChoice(fields: ChoiceFields): SessionChoice | undefined {
  const { documentName, parameters, command, runAs, loginShell, shellProfile } = fields;
  const given = [documentName, parameters, command, runAs, loginShell, shellProfile].some(
    (v) => v !== undefined,
  );
  if (!given) return undefined;
  const document = documentName ?? (command !== undefined ? 'command' : 'shell');
  return checkChoice({
    document: document === SHELL_DOCUMENT ? 'shell' : document === COMMAND_DOCUMENT ? 'command' : document,
    ...(parameters !== undefined ? { parameters } : {}),
    ...(command !== undefined ? { command } : {}),
    ...(runAs !== undefined ? { runAs } : {}),
    ...(loginShell !== undefined ? { loginShell } : {}),
    ...(shellProfile !== undefined ? { shellProfile } : {}),
  });
}

/** The choice a preset makes. */
export function presetChoice(preset: SessionPreset): SessionChoice {
  const { document, command, parameters, runAs, loginShell, shellProfile } = preset;
  return checkChoice({
    document,
    ...(command !== undefined ? { command } : {}),
    ...(parameters !== undefined ? { parameters } : {}),
    ...(runAs !== undefined ? { runAs } : {}),
    ...(loginShell !== undefined ? { loginShell } : {}),
    ...(shellProfile !== undefined ? { shellProfile } : {}),
  });
}

/** A choice checked as the contract checks it; the first problem is thrown as a readable error. */
function checkChoice(choice: SessionChoice): SessionChoice {
  const parsed = SessionChoiceSchema.safeParse(choice);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.length ? `${issue.path.join('.')}: ` : '';
  throw new StartupInputError(issue.code === 'custom' ? issue.message : `${field}${issue.message}`);
}

/** "tag Team=web" or "i-0123…" when the preset has no name. */
function presetLabel(preset: SessionPreset): string {
  if (preset.name) return preset.name;
  return 'instanceId' in preset.match
    ? `preset of ${preset.match.instanceId}`
    : `preset for ${preset.match.tag.key}=${preset.match.tag.value}`;
}

/** The instance a launch is for, when known: a Windows one runs PowerShell, not a POSIX shell. */
export interface LaunchTarget {
  instanceId: string;
  windows: boolean;
}

/**
 * Run-as and login shell type `sudo` and `bash` into the shell, which a Windows instance's
 * PowerShell does not have: asked for explicitly, that is an error; from a preset (one for a tag
 * that also covers Windows instances) they are left out there, and the shell profile still runs.
 */
function forPlatform(
  choice: SessionChoice,
  target: LaunchTarget | undefined,
  preset: boolean,
): SessionChoice {
  if (!target?.windows || (choice.runAs === undefined && !choice.loginShell)) return choice;
  if (!preset) {
    throw new StartupInputError(
      `${target.instanceId} is a Windows instance: run-as and login shell type sudo and bash, which PowerShell does not have. Leave them off for Windows instances (a shell profile still works).`,
    );
  }
  const { runAs: _runAs, loginShell: _loginShell, ...rest } = choice;
  return rest;
}

/** The StartSession document, parameters and startup input of `choice` (none: the plain shell). */
export function planLaunch(
  requested: SessionChoice | undefined,
  preset?: SessionPreset,
  target?: LaunchTarget,
): LaunchPlan {
  if (!requested) return {};
  const choice = forPlatform(requested, target, preset !== undefined);
  const plan: LaunchPlan = {};
  if (choice.document === 'command') {
    plan.documentName = COMMAND_DOCUMENT;
    plan.parameters = { command: [choice.command!] };
  } else if (choice.document !== 'shell') {
    plan.documentName = choice.document;
    if (choice.parameters && Object.keys(choice.parameters).length) {
      plan.parameters = Object.fromEntries(Object.entries(choice.parameters).map(([k, v]) => [k, [v]]));
    }
  }
  const startupInput = buildStartupInput(choice);
  if (startupInput) plan.startupInput = startupInput;
  const launch: SessionLaunch = {
    document: choice.document === 'shell' ? null : (plan.documentName ?? null),
    command: choice.document === 'command' ? choice.command! : null,
    runAs: choice.runAs ?? null,
    loginShell: choice.loginShell ?? false,
    preset: preset ? presetLabel(preset) : null,
  };
  const plain = !launch.document && !launch.runAs && !launch.loginShell && !startupInput && !preset;
  if (!plain) plan.launch = launch;
  return plan;
}

/**
 * The sandbox's Session Manager documents: the AWS-owned session documents, the account's
 * preferences document (SSM-SessionManagerRunShell) and custom session documents added in a
 * fleet file (`"documents": [...]`), with `startSandbox({ documents })`, or through the admin API
 * (GET|POST /__sandbox/documents, DELETE /__sandbox/documents/<name>).
 *
 * A document is given as on AWS, its name and its content (the JSON of `aws ssm create-document
 * --document-type Session`):
 *
 *   { "name": "Alice-Shell",
 *     "content": { "schemaVersion": "1.0", "sessionType": "Standard_Stream",
 *                  "inputs": { "runAsEnabled": true, "runAsDefaultUser": "alice",
 *                              "shellProfile": { "linux": "cd ~", "windows": "" },
 *                              "idleSessionTimeout": "20" } } }
 *
 * Session types: Standard_Stream (a shell; its inputs are what the agent honours: run-as user,
 * shell profile, idle timeout), InteractiveCommands (`properties.linux.commands`), Port
 * (`properties.portNumber`, `type`, `localPortNumber`, `host`). Parameters are declared with
 * `type: "String"`, an optional `default` (without one a parameter is required),
 * `allowedPattern` and `allowedValues`, and referenced as `{{ name }}` in inputs and properties;
 * StartSession fills in the defaults and substitutes them, as the service does. Logging and
 * encryption inputs of the real preferences (s3*, cloudWatch*, kmsKeyId) are accepted and not
 * emulated. Names starting with AWS, Amazon or AMZN are reserved; SSM-SessionManagerRunShell may
 * be replaced (that is how the account's preferences are set) and must stay Standard_Stream.
 *
 * StartSession with a document the registry does not know answers InvalidDocument.
 */
import { z } from 'zod';
import { ApiError } from './api/errors.js';

export const DEFAULT_SESSION_DOCUMENT = 'SSM-SessionManagerRunShell';

export type SessionTypeName = 'Standard_Stream' | 'InteractiveCommands' | 'NonInteractiveCommands' | 'Port';

// ---------------------------------------------------------------------------
// Document content (as on AWS)
// ---------------------------------------------------------------------------

const NAME_RE = /^[a-zA-Z0-9_.-]{3,128}$/;
const RESERVED_RE = /^(aws|amazon|amzn)/i;

function validRegex(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

const parameterSchema = z.strictObject({
  type: z.literal('String', { error: 'the sandbox supports parameters of type "String"' }),
  description: z.string().max(1024).optional(),
  default: z.string().max(4096).optional(),
  allowedPattern: z
    .string()
    .max(1024)
    .refine(validRegex, { error: 'expected a valid regular expression' })
    .optional(),
  allowedValues: z.array(z.string().max(4096)).min(1).optional(),
});

const parametersSchema = z.record(
  z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, { error: 'parameter names are 1 to 64 of [A-Za-z0-9_.-]' }),
  parameterSchema,
);

const booleanInput = z.union([z.boolean(), z.enum(['true', 'false'])]);

const standardStreamInputsSchema = z.strictObject({
  runAsEnabled: booleanInput.optional(),
  runAsDefaultUser: z.string().max(256).optional(),
  shellProfile: z
    .strictObject({ linux: z.string().max(4096).optional(), windows: z.string().max(4096).optional() })
    .optional(),
  idleSessionTimeout: z
    .string()
    .regex(/^([1-9]|[1-5]\d|60)$/, { error: 'expected minutes from "1" to "60"' })
    .optional(),
  maxSessionDuration: z
    .string()
    .regex(/^([1-9]\d{0,2}|1[0-3]\d\d|14[0-3]\d|1440)$/, { error: 'expected minutes from "1" to "1440"' })
    .optional(),
  // Logging and encryption preferences: accepted as on AWS, not emulated by the sandbox.
  s3BucketName: z.string().optional(),
  s3KeyPrefix: z.string().optional(),
  s3EncryptionEnabled: booleanInput.optional(),
  cloudWatchLogGroupName: z.string().optional(),
  cloudWatchEncryptionEnabled: booleanInput.optional(),
  cloudWatchStreamingEnabled: booleanInput.optional(),
  kmsKeyId: z.string().optional(),
});

const commandsSchema = z.strictObject({
  commands: z.string().min(1).max(4096),
  runAsElevated: z.boolean().optional(),
});

const common = {
  schemaVersion: z.literal('1.0', { error: 'expected schemaVersion "1.0"' }),
  description: z.string().max(1024).optional(),
  parameters: parametersSchema.optional(),
};

export const documentContentSchema = z.discriminatedUnion(
  'sessionType',
  [
    z.strictObject({
      ...common,
      sessionType: z.literal('Standard_Stream'),
      inputs: standardStreamInputsSchema.optional(),
    }),
    z.strictObject({
      ...common,
      sessionType: z.literal('InteractiveCommands'),
      properties: z.strictObject({
        linux: commandsSchema.optional(),
        windows: commandsSchema.optional(),
        macos: commandsSchema.optional(),
      }),
    }),
    z.strictObject({
      ...common,
      sessionType: z.literal('Port'),
      properties: z.strictObject({
        portNumber: z.string().min(1),
        type: z.literal('LocalPortForwarding').optional(),
        localPortNumber: z.string().optional(),
        host: z.string().optional(),
      }),
    }),
  ],
  { error: 'expected sessionType "Standard_Stream", "InteractiveCommands" or "Port"' },
);
export type DocumentContent = z.infer<typeof documentContentSchema>;

/** A document as the fleet file and the admin API give it. */
export const sessionDocumentInputSchema = z.strictObject({
  name: z
    .string()
    .regex(NAME_RE, { error: 'expected a document name of 3 to 128 letters, digits, "_", "-" or "."' })
    .refine((n) => n === DEFAULT_SESSION_DOCUMENT || !RESERVED_RE.test(n), {
      error: 'names starting with AWS, Amazon or AMZN are reserved for AWS-owned documents',
    }),
  content: documentContentSchema,
});
export type SessionDocumentInput = z.input<typeof sessionDocumentInputSchema>;

// ---------------------------------------------------------------------------
// The AWS-owned documents (and the default preferences)
// ---------------------------------------------------------------------------

/** How a parameter is checked; AWS's documents say it in words, custom ones with a pattern. */
interface ParameterRule {
  default?: string;
  check: (value: string) => boolean;
  expected: string;
}

const port =
  (min: number): ParameterRule['check'] =>
  (v) =>
    /^\d{1,5}$/.test(v) && Number(v) >= min && Number(v) <= 65535;
const PORT: ParameterRule = { check: port(1), expected: 'a port number from 1 to 65535' };
const LOCAL_PORT: ParameterRule = {
  default: '0',
  check: port(0),
  expected: 'a port number from 0 to 65535 (0 picks a free port)',
};
const COMMAND: ParameterRule = { check: (v) => v.trim().length > 0, expected: 'a non-empty command line' };

interface Builtin {
  content: DocumentContent;
  rules: Record<string, ParameterRule>;
}

const commandDocument = (description: string): DocumentContent => ({
  schemaVersion: '1.0',
  description,
  sessionType: 'InteractiveCommands',
  parameters: { command: { type: 'String', description: 'The command to run.' } },
  properties: { linux: { commands: '{{ command }}', runAsElevated: false } },
});

const HOST: ParameterRule = {
  check: (v) => /^[^\s$|;&`<>\\"']{1,253}$/.test(v),
  expected: 'a host name or IP address (no spaces or shell characters)',
};

/** A local port forwarded to a port of the instance or, `toHost`, of a host it reaches. */
const portForwarding = (description: string, toHost: boolean): Builtin => ({
  content: {
    schemaVersion: '1.0',
    description,
    sessionType: 'Port',
    parameters: {
      ...(toHost ? { host: { type: 'String' } } : {}),
      portNumber: { type: 'String', default: '80' },
      localPortNumber: { type: 'String', default: '0' },
    },
    properties: {
      portNumber: '{{ portNumber }}',
      type: 'LocalPortForwarding',
      localPortNumber: '{{ localPortNumber }}',
      ...(toHost ? { host: '{{ host }}' } : {}),
    },
  },
  rules: {
    ...(toHost ? { host: HOST } : {}),
    portNumber: { ...PORT, default: '80' },
    localPortNumber: LOCAL_PORT,
  },
});

const BUILTINS: Record<string, Builtin> = {
  [DEFAULT_SESSION_DOCUMENT]: {
    content: {
      schemaVersion: '1.0',
      description: 'Document to hold regional settings for Session Manager',
      sessionType: 'Standard_Stream',
      inputs: { runAsEnabled: false, runAsDefaultUser: '', shellProfile: { linux: '', windows: '' } },
    },
    rules: {},
  },
  'AWS-StartInteractiveCommand': {
    content: commandDocument('Runs an interactive command in a terminal.'),
    rules: { command: COMMAND },
  },
  'AWS-StartNonInteractiveCommand': {
    // NonInteractiveCommands is not a type a custom document can have; only this AWS document is.
    content: commandDocument('Runs a command without a terminal.'),
    rules: { command: COMMAND },
  },
  'AWS-StartPortForwardingSession': portForwarding('Starts a port forwarding session.', false),
  'AWS-StartPortForwardingSessionToRemoteHost': portForwarding(
    'Starts a port forwarding session to a remote host.',
    true,
  ),
  'AWS-StartSSHSession': {
    content: {
      schemaVersion: '1.0',
      description: 'Document to start SSH session',
      sessionType: 'Port',
      parameters: { portNumber: { type: 'String', default: '22' } },
      properties: { portNumber: '{{ portNumber }}' },
    },
    rules: { portNumber: { ...PORT, default: '22' } },
  },
};

/** An AWS-owned document (the preferences document belongs to the account). */
function isAwsOwned(name: string): boolean {
  return name in BUILTINS && name !== DEFAULT_SESSION_DOCUMENT;
}

/** The session type the agent announces for a document. */
function sessionTypeOf(name: string, content: DocumentContent): SessionTypeName {
  return name === 'AWS-StartNonInteractiveCommand' ? 'NonInteractiveCommands' : content.sessionType;
}

/** A custom document's parameter declarations as rules. */
function rulesOf(content: DocumentContent): Record<string, ParameterRule> {
  const rules: Record<string, ParameterRule> = {};
  for (const [name, p] of Object.entries(content.parameters ?? {})) {
    const pattern = p.allowedPattern === undefined ? undefined : new RegExp(p.allowedPattern);
    const expected = p.allowedValues
      ? `one of ${p.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`
      : pattern
        ? `a value matching ${p.allowedPattern}`
        : 'a string';
    rules[name] = {
      ...(p.default !== undefined ? { default: p.default } : {}),
      check: (v) => (!pattern || pattern.test(v)) && (!p.allowedValues || p.allowedValues.includes(v)),
      expected,
    };
  }
  return rules;
}

// ---------------------------------------------------------------------------
// What the agent receives
// ---------------------------------------------------------------------------

/** A Standard_Stream document's inputs with its parameters substituted: what the agent honours. */
export interface ShellInputs {
  runAsEnabled: boolean;
  runAsDefaultUser: string;
  shellProfile: { linux: string; windows: string };
  /** Minutes, when the document sets them (else the service default). */
  idleSessionTimeout?: number;
  maxSessionDuration?: number;
}

/** A document resolved for one session: its type and what its parameters make of it. */
export interface ResolvedDocument {
  name: string;
  sessionType: SessionTypeName;
  /** An AWS-owned document (its parameters and properties are AWS's). */
  builtIn: boolean;
  /** The parameters with defaults filled in. */
  parameters: Record<string, string[]>;
  /** Standard_Stream: the inputs. */
  shell?: ShellInputs;
  /** InteractiveCommands / NonInteractiveCommands: the command line. */
  command?: string;
  /** Port: the properties (portNumber, type, localPortNumber, host). */
  port?: Record<string, string>;
}

/** `{{ name }}` -> the parameter's value, as the service substitutes them. */
function substitute(text: string, parameters: Record<string, string[]>): string {
  return text.replace(/\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g, (whole, name: string) =>
    parameters[name] !== undefined ? parameters[name]!.join(',') : whole,
  );
}

function invalidParameters(message: string): ApiError {
  return new ApiError('InvalidParameters', message);
}

/** One document in the registry, as the admin API lists it. */
export interface SessionDocumentInfo {
  name: string;
  sessionType: SessionTypeName;
  owner: 'Amazon' | 'Self';
  description: string;
  content: DocumentContent;
}

/**
 * The documents StartSession accepts: the AWS-owned ones, the preferences document and the
 * custom ones. Changes apply to sessions started afterwards.
 */
export class SessionDocuments {
  private readonly custom = new Map<string, DocumentContent>();

  constructor(documents: readonly SessionDocumentInput[] = []) {
    const seen = new Set<string>();
    documents.forEach((d, i) => {
      const name = typeof d?.name === 'string' ? d.name : `documents[${i}]`;
      if (seen.has(name)) throw new Error(`Sandbox documents: ${name} is given twice.`);
      seen.add(name);
      this.put(d);
    });
  }

  /** Every document, AWS-owned first. */
  list(): SessionDocumentInfo[] {
    const names = [...new Set([...Object.keys(BUILTINS), ...this.custom.keys()])];
    return names.map((name) => this.info(name)!);
  }

  info(name: string): SessionDocumentInfo | undefined {
    const content = this.contentOf(name);
    if (!content) return undefined;
    return {
      name,
      sessionType: sessionTypeOf(name, content),
      owner: isAwsOwned(name) ? 'Amazon' : 'Self',
      description: content.description ?? '',
      content,
    };
  }

  /** Add or replace a document (validated); throws an Error listing each problem. */
  put(input: unknown): SessionDocumentInfo {
    const parsed = sessionDocumentInputSchema.safeParse(input);
    if (!parsed.success) {
      const where = (path: PropertyKey[]): string =>
        path.length ? path.map(String).join('.') : '(document)';
      const lines = parsed.error.issues.map((i) =>
        i.code === 'unrecognized_keys'
          ? `${where(i.path)}: unknown key(s) ${i.keys.map((k) => JSON.stringify(k)).join(', ')}`
          : `${where(i.path)}: ${i.message}`,
      );
      const name = (input as { name?: unknown } | null)?.name;
      throw new Error(
        `Invalid session document${typeof name === 'string' ? ` ${name}` : ''}: ${lines.join('; ')}`,
      );
    }
    const { name, content } = parsed.data;
    if (name === DEFAULT_SESSION_DOCUMENT && content.sessionType !== 'Standard_Stream') {
      throw new Error(
        `Invalid session document ${name}: the preferences document must be of sessionType Standard_Stream.`,
      );
    }
    this.custom.set(name, content);
    return this.info(name)!;
  }

  /** Remove a custom document (the preferences document goes back to its defaults). */
  remove(name: string): boolean {
    if (isAwsOwned(name)) {
      throw new Error(`${name} is an AWS-owned document; it cannot be deleted.`);
    }
    return this.custom.delete(name);
  }

  /**
   * The document for a session, its parameters checked and defaulted, its inputs or properties
   * substituted; ApiError InvalidDocument or InvalidParameters as StartSession answers them.
   */
  resolve(name: string, parameters: Record<string, string[]>): ResolvedDocument {
    const content = this.contentOf(name);
    if (!content) {
      throw new ApiError(
        'InvalidDocument',
        `Document ${name} does not exist or is not a session document. Session documents: ${this.list()
          .map((d) => d.name)
          .join(', ')}.`,
      );
    }
    const builtIn = isAwsOwned(name);
    const values = checkParameters(name, builtIn ? BUILTINS[name]!.rules : rulesOf(content), parameters);
    const resolved: ResolvedDocument = {
      name,
      sessionType: sessionTypeOf(name, content),
      builtIn,
      parameters: values,
    };
    const sub = (text: string): string => substitute(text, values);
    if (content.sessionType === 'Standard_Stream') {
      const inputs = content.inputs ?? {};
      const runAs = inputs.runAsEnabled;
      resolved.shell = {
        runAsEnabled: runAs === true || runAs === 'true',
        runAsDefaultUser: sub(inputs.runAsDefaultUser ?? ''),
        shellProfile: {
          linux: sub(inputs.shellProfile?.linux ?? ''),
          windows: sub(inputs.shellProfile?.windows ?? ''),
        },
        ...(inputs.idleSessionTimeout ? { idleSessionTimeout: Number(inputs.idleSessionTimeout) } : {}),
        ...(inputs.maxSessionDuration ? { maxSessionDuration: Number(inputs.maxSessionDuration) } : {}),
      };
    } else if (content.sessionType === 'InteractiveCommands') {
      const props = content.properties;
      const commands = (props.linux ?? props.macos ?? props.windows)?.commands ?? '';
      resolved.command = sub(commands);
    } else {
      resolved.port = Object.fromEntries(
        Object.entries(content.properties)
          .filter((e): e is [string, string] => typeof e[1] === 'string')
          .map(([k, v]) => [k, sub(v)]),
      );
    }
    return resolved;
  }

  private contentOf(name: string): DocumentContent | undefined {
    return this.custom.get(name) ?? BUILTINS[name]?.content;
  }
}

/** Checks parameters against the document's rules and returns them with defaults filled in. */
function checkParameters(
  documentName: string,
  rules: Record<string, ParameterRule>,
  parameters: Record<string, string[]>,
): Record<string, string[]> {
  const known = Object.keys(rules);
  for (const name of Object.keys(parameters)) {
    if (!rules[name]) {
      throw invalidParameters(
        `Parameter "${name}" is not defined in document ${documentName}` +
          (known.length ? ` (its parameters: ${known.join(', ')}).` : ' (it takes no parameters).'),
      );
    }
  }
  const out: Record<string, string[]> = {};
  for (const [name, rule] of Object.entries(rules)) {
    const values = parameters[name];
    if (values === undefined || values.length === 0) {
      if (rule.default === undefined) {
        throw invalidParameters(
          `Parameter "${name}" is required by document ${documentName}; expected ${rule.expected}.`,
        );
      }
      out[name] = [rule.default];
      continue;
    }
    if (values.length !== 1) {
      throw invalidParameters(`Parameter "${name}" takes exactly one value, got ${values.length}.`);
    }
    if (!rule.check(values[0]!)) {
      throw invalidParameters(
        `Parameter "${name}" has an invalid value ${JSON.stringify(values[0]!.slice(0, 100))}: expected ${rule.expected}.`,
      );
    }
    out[name] = [values[0]!];
  }
  return out;
}

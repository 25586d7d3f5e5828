/** Handshake payloads (PayloadType 5, 6, 7), validated with zod where they enter. */
import { z } from 'zod';

export const SessionTypeName = {
  Shell: 'Standard_Stream',
  InteractiveCommands: 'InteractiveCommands',
  NonInteractiveCommands: 'NonInteractiveCommands',
  Port: 'Port',
} as const;

export const ActionType = { SessionType: 'SessionType', KMSEncryption: 'KMSEncryption' } as const;
export const ActionStatus = { Success: 1, Failed: 2, Unsupported: 3 } as const;

const RequestedClientAction = z.object({
  ActionType: z.string(),
  ActionParameters: z.unknown().optional(),
});

export const HandshakeRequestSchema = z.object({
  AgentVersion: z.string().default(''),
  RequestedClientActions: z.array(RequestedClientAction).default([]),
});
export type HandshakeRequest = z.infer<typeof HandshakeRequestSchema>;

export const SessionTypeParametersSchema = z.object({
  SessionType: z.string(),
  Properties: z.unknown().optional(),
});

export const KmsParametersSchema = z.object({ KMSKeyId: z.string() });

/**
 * The ActionResult of a processed KMSEncryption action: the data key as KMS encrypted it
 * (Go []byte, so base64 in JSON). KMSCipherTextHash is in the reference plugin's struct but
 * never set.
 */
export const KmsEncryptionResultSchema = z.object({
  KMSCipherTextKey: z.string().min(1),
  KMSCipherTextHash: z.string().nullish(),
});
export type KmsEncryptionResult = z.infer<typeof KmsEncryptionResultSchema>;

/** EncChallengeRequest (8) and EncChallengeResponse (9): the challenge bytes, sealed, base64 in JSON. */
export const EncryptionChallengeSchema = z.object({ Challenge: z.string().min(1) });
export type EncryptionChallenge = z.infer<typeof EncryptionChallengeSchema>;

export interface ProcessedClientAction {
  ActionType: string;
  ActionStatus: number;
  ActionResult?: unknown;
  Error?: string;
}

export interface HandshakeResponse {
  ClientVersion: string;
  ProcessedClientActions: ProcessedClientAction[];
  Errors?: string[];
}

export const HandshakeCompleteSchema = z.object({
  HandshakeTimeToComplete: z.number().default(0),
  CustomerMessage: z.string().default(''),
});
export type HandshakeComplete = z.infer<typeof HandshakeCompleteSchema>;

export const HandshakeResponseSchema = z.object({
  ClientVersion: z.string(),
  ProcessedClientActions: z.array(
    z.object({
      ActionType: z.string(),
      ActionStatus: z.number(),
      ActionResult: z.unknown().optional(),
      Error: z.string().optional(),
    }),
  ),
  Errors: z.array(z.string()).nullish(),
});

export const SizeSchema = z.object({
  cols: z.number().int().min(1).max(10_000),
  rows: z.number().int().min(1).max(10_000),
});
export type TerminalSize = z.infer<typeof SizeSchema>;

/** Parse JSON then a schema; the error names what was wrong. */
export function parsePayload<T>(schema: z.ZodType<T>, payload: Buffer, what: string): T {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    throw new Error(`${what} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const r = schema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new Error(
      `${what} is malformed at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return r.data;
}

/**
 * The request body of an AWS JSON 1.1 action (SSM, KMS): a JSON object (an empty body is `{}`)
 * checked against the action's input schema. What AWS answers otherwise, the sandbox answers
 * too: a SerializationException naming the first member that does not fit.
 */
import type { z } from 'zod';
import { ApiError } from './errors.js';

export function parseJsonBody<T>(schema: z.ZodType<T>, body: string): T {
  let data: unknown;
  try {
    data = body.trim() === '' ? {} : JSON.parse(body);
  } catch {
    throw new ApiError('SerializationException', 'The request body is not valid JSON.');
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ApiError('SerializationException', 'The request body must be a JSON object.');
  }
  const result = schema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const at = issue.path.map(String).join('.');
    throw new ApiError('SerializationException', `Unexpected value at '${at}': ${issue.message}.`);
  }
  return result.data;
}

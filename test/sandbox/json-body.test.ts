/** The AWS JSON 1.1 request body of the sandbox's SSM and KMS actions (main/sandbox/api/json-body.ts). */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ApiError } from '../../main/sandbox/api/errors.js';
import { parseJsonBody } from '../../main/sandbox/api/json-body.js';

const schema = z.object({
  KeyId: z.string().optional(),
  Filters: z.array(z.object({ Key: z.string() })).optional(),
});

function refusal(body: string): { code: string; message: string } {
  try {
    parseJsonBody(schema, body);
  } catch (err) {
    if (err instanceof ApiError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error(`accepted ${JSON.stringify(body)}`);
}

describe('parseJsonBody', () => {
  it('takes an object that fits the schema; an empty body is an empty object', () => {
    expect(parseJsonBody(schema, '{"KeyId":"alias/x","Filters":[{"Key":"a"}]}')).toEqual({
      KeyId: 'alias/x',
      Filters: [{ Key: 'a' }],
    });
    expect(parseJsonBody(schema, '')).toEqual({});
    expect(parseJsonBody(schema, ' \n')).toEqual({});
  });

  it('answers anything else with a SerializationException that says what is wrong', () => {
    expect(refusal('{"KeyId": ')).toEqual({
      code: 'SerializationException',
      message: 'The request body is not valid JSON.',
    });
    for (const body of ['[]', 'null', '"text"', '42']) {
      expect(refusal(body)).toEqual({
        code: 'SerializationException',
        message: 'The request body must be a JSON object.',
      });
    }
    const wrong = refusal('{"Filters":[{"Key":7}]}');
    expect(wrong.code).toBe('SerializationException');
    expect(wrong.message).toMatch(/^Unexpected value at 'Filters\.0\.Key': .+\.$/);
  });
});

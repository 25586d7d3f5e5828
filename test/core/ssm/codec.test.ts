import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import vectors from '../../fixtures/ssm-vectors.json' with { type: 'json' };
import {
  CodecError,
  HEADER_LENGTH,
  MessageType,
  PAYLOAD_OFFSET,
  decodeMessage,
  encodeAcknowledge,
  encodeMessage,
  parseAcknowledge,
  readUuid,
  writeUuid,
} from '../../../main/core/ssm/codec.js';

describe('codec against the official plugin serializer (shared vectors)', () => {
  for (const v of vectors) {
    it(`decodes ${v.name} to its fields`, () => {
      const msg = decodeMessage(Buffer.from(v.hex, 'hex'));
      expect(msg.messageType).toBe(v.messageType);
      expect(msg.schemaVersion).toBe(v.schemaVersion);
      expect(msg.createdDate).toBe(v.createdDate);
      expect(msg.sequenceNumber).toBe(BigInt(v.sequenceNumber));
      expect(msg.flags).toBe(BigInt(v.flags));
      expect(msg.messageId).toBe(v.messageId);
      expect(msg.payloadType).toBe(v.payloadType);
      expect(msg.payload.toString('utf8')).toBe(v.payloadUtf8);
    });

    it(`encodes ${v.name} to the same bytes`, () => {
      const bytes = encodeMessage({
        messageType: v.messageType,
        schemaVersion: v.schemaVersion,
        createdDate: v.createdDate,
        sequenceNumber: BigInt(v.sequenceNumber),
        flags: BigInt(v.flags),
        messageId: v.messageId,
        payloadType: v.payloadType,
        payload: Buffer.from(v.payloadUtf8, 'utf8'),
      });
      expect(bytes.toString('hex')).toBe(v.hex);
    });
  }

  it('stores UUIDs low half first, then high half', () => {
    const b = Buffer.alloc(16);
    writeUuid(b, 0, '00112233-4455-6677-8899-aabbccddeeff');
    expect(b.toString('hex')).toBe('8899aabbccddeeff0011223344556677');
    expect(readUuid(b, 0)).toBe('00112233-4455-6677-8899-aabbccddeeff');
  });

  it('builds acknowledgements the plugin accepts', () => {
    const v = vectors.find((x) => x.name === 'output')!;
    const ack = decodeMessage(
      encodeAcknowledge({
        messageType: v.messageType,
        messageId: v.messageId,
        sequenceNumber: BigInt(v.sequenceNumber),
      }),
    );
    expect(ack.messageType).toBe(MessageType.Acknowledge);
    expect(ack.flags).toBe(3n);
    expect(ack.sequenceNumber).toBe(0n);
    expect(parseAcknowledge(ack.payload)).toEqual({
      AcknowledgedMessageType: 'output_stream_data',
      AcknowledgedMessageId: v.messageId,
      AcknowledgedMessageSequenceNumber: 42,
      IsSequentialMessage: true,
    });
  });
});

describe('codec: malformed frames are rejected with a named reason, never a crash', () => {
  const good = () =>
    encodeMessage({
      messageType: MessageType.OutputStreamData,
      payload: Buffer.from('hello'),
      payloadType: 1,
      sequenceNumber: 3n,
    });

  const codeOf = (frame: Buffer): string => {
    try {
      decodeMessage(frame);
      return 'ok';
    } catch (err) {
      expect(err).toBeInstanceOf(CodecError);
      return (err as CodecError).code;
    }
  };

  it('short frames', () => {
    expect(codeOf(Buffer.alloc(0))).toBe('short_frame');
    expect(codeOf(good().subarray(0, PAYLOAD_OFFSET - 1))).toBe('short_frame');
  });
  it('bad digest', () => {
    const f = good();
    f[f.length - 1] ^= 1;
    expect(codeOf(f)).toBe('bad_digest');
  });
  it('zero header length, empty type, zero date', () => {
    let f = good();
    f.writeUInt32BE(0, 0);
    expect(codeOf(f)).toBe('bad_header_length');
    f = good();
    f.fill(0x20, 4, 36);
    expect(codeOf(f)).toBe('empty_message_type');
    f = good();
    f.writeBigUInt64BE(0n, 40);
    expect(codeOf(f)).toBe('zero_created_date');
  });
  it('header length beyond the frame and payload length mismatch', () => {
    let f = good();
    f.writeUInt32BE(5000, 0);
    expect(codeOf(f)).toBe('bad_header_length');
    f = good();
    f.writeUInt32BE(99, HEADER_LENGTH);
    expect(codeOf(f)).toBe('bad_payload_length');
  });
  it('oversized payloads', () => {
    const f = encodeMessage({
      messageType: 'output_stream_data',
      payload: Buffer.alloc(2048),
      payloadType: 1,
    });
    expect(() => decodeMessage(f, { maxPayloadBytes: 1024 })).toThrow(/exceeds/);
  });
  it('accepts empty start/pause_publication frames the service sends', () => {
    const f = encodeMessage({
      messageType: MessageType.PausePublication,
      payload: Buffer.alloc(0),
      payloadType: 0,
    });
    f.writeBigUInt64BE(0n, 40);
    expect(decodeMessage(f).messageType).toBe('pause_publication');
  });
  it('random bytes never throw anything but CodecError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        try {
          decodeMessage(Buffer.from(bytes));
        } catch (err) {
          return err instanceof CodecError;
        }
        return true;
      }),
      { numRuns: 2000 },
    );
  });
  it('round-trips arbitrary messages', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.values(MessageType)),
        fc.uint8Array({ maxLength: 3000 }),
        fc.bigInt({ min: 0n, max: 2n ** 62n }),
        fc.uuid(),
        fc.integer({ min: 0, max: 12 }),
        (type, payload, seq, id, ptype) => {
          const m = decodeMessage(
            encodeMessage({
              messageType: type,
              payload,
              payloadType: ptype,
              sequenceNumber: seq,
              messageId: id,
            }),
          );
          return (
            m.messageType === type &&
            m.sequenceNumber === seq &&
            m.messageId === id.toLowerCase() &&
            m.payloadType === ptype &&
            Buffer.from(payload).equals(m.payload)
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('codec: acknowledgement payloads', () => {
  const id = '0123ABCD-4567-89ab-cdef-0123456789AB';
  const canonical = (seq: string, sequential = 'true', type = 'output_stream_data', mid = id): Buffer =>
    Buffer.from(
      `{"AcknowledgedMessageType":"${type}","AcknowledgedMessageId":"${mid}",` +
        `"AcknowledgedMessageSequenceNumber":${seq},"IsSequentialMessage":${sequential}}`,
    );

  it('reads the canonical form as JSON.parse does', () => {
    for (const [seq, sequential] of [
      ['0', 'true'],
      ['7', 'false'],
      ['123456789012345', 'true'],
    ] as const) {
      const payload = canonical(seq, sequential);
      expect(parseAcknowledge(payload)).toEqual(JSON.parse(payload.toString()));
    }
  });

  it('falls back to JSON for any other spelling, and still names what is missing', () => {
    const spaced = Buffer.from(
      `{ "AcknowledgedMessageSequenceNumber": 5, "AcknowledgedMessageType": "input_stream_data", "AcknowledgedMessageId": "${id}" }`,
    );
    expect(parseAcknowledge(spaced)).toEqual({
      AcknowledgedMessageType: 'input_stream_data',
      AcknowledgedMessageId: id,
      AcknowledgedMessageSequenceNumber: 5,
      IsSequentialMessage: true,
    });
    // Near misses of the canonical form: each goes through JSON.parse (same answer, or an error).
    expect(parseAcknowledge(canonical('1234567890123456'))).toEqual(
      JSON.parse(canonical('1234567890123456').toString()),
    );
    expect(parseAcknowledge(canonical('9', 'true', 'Output_Stream'))).toMatchObject({
      AcknowledgedMessageType: 'Output_Stream',
    });
    expect(parseAcknowledge(canonical('9', 'true', 'output', 'short-id'))).toMatchObject({
      AcknowledgedMessageId: 'short-id',
    });
    expect(() => parseAcknowledge(Buffer.from(canonical('9').toString() + ' x'))).toThrow();
    expect(() => parseAcknowledge(canonical('1.5'))).toThrow(/integer AcknowledgedMessageSequenceNumber/);
  });
});

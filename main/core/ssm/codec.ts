/**
 * Binary codec for Session Manager data-channel messages ("ClientMessage" in the
 * reference plugin). Layout (big-endian), see docs/protocol.md:
 *
 *   0   4  HeaderLength (116: the offset of PayloadLength)
 *   4  32  MessageType, ASCII, space padded
 *  36   4  SchemaVersion
 *  40   8  CreatedDate (epoch ms)
 *  48   8  SequenceNumber (signed)
 *  56   8  Flags
 *  64  16  MessageId (UUID: least significant 8 bytes first, then most significant 8)
 *  80  32  PayloadDigest (SHA-256 of payload)
 * 112   4  PayloadType
 * 116   4  PayloadLength
 * 120   n  Payload
 */
import { createHash, randomFillSync } from 'node:crypto';
import * as nodeCrypto from 'node:crypto';

export const MessageType = {
  InputStreamData: 'input_stream_data',
  OutputStreamData: 'output_stream_data',
  Acknowledge: 'acknowledge',
  ChannelClosed: 'channel_closed',
  StartPublication: 'start_publication',
  PausePublication: 'pause_publication',
} as const;
export type MessageTypeName = (typeof MessageType)[keyof typeof MessageType];

export const PayloadType = {
  Null: 0,
  Output: 1,
  Error: 2,
  Size: 3,
  Parameter: 4,
  HandshakeRequest: 5,
  HandshakeResponse: 6,
  HandshakeComplete: 7,
  EncChallengeRequest: 8,
  EncChallengeResponse: 9,
  Flag: 10,
  StdErr: 11,
  ExitCode: 12,
} as const;
export type PayloadTypeValue = (typeof PayloadType)[keyof typeof PayloadType];

/** Flag payload values (PayloadType.Flag, 4-byte big-endian). */
export const FlagValue = {
  DisconnectToPort: 1,
  TerminateSession: 2,
  ConnectToPortError: 3,
} as const;

export const MessageFlags = { SYN: 1n, FIN: 2n, ACK: 3n } as const;

export const HEADER_LENGTH = 116;
export const MESSAGE_TYPE_LENGTH = 32;
export const PAYLOAD_OFFSET = HEADER_LENGTH + 4;
/** Largest payload we accept on receipt. The agent sends at most 1 KiB per message; keep ample room. */
export const MAX_PAYLOAD_BYTES = 4 * 1024 * 1024;

const OFF = {
  headerLength: 0,
  messageType: 4,
  schemaVersion: 36,
  createdDate: 40,
  sequenceNumber: 48,
  flags: 56,
  messageId: 64,
  payloadDigest: 80,
  payloadType: 112,
  payloadLength: 116,
} as const;

export interface ClientMessage {
  messageType: string;
  schemaVersion: number;
  /** Epoch milliseconds. */
  createdDate: number;
  sequenceNumber: bigint;
  flags: bigint;
  /** Canonical lower-case UUID text. */
  messageId: string;
  payloadType: number;
  payload: Buffer;
}

/** Why a frame was rejected: a stable code for counters plus a human message. */
export class CodecError extends Error {
  constructor(
    readonly code:
      | 'short_frame'
      | 'bad_header_length'
      | 'bad_payload_length'
      | 'empty_message_type'
      | 'zero_created_date'
      | 'bad_digest'
      | 'oversized_payload'
      | 'bad_uuid',
    message: string,
  ) {
    super(message);
    this.name = 'CodecError';
  }
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Write a UUID in the service's order: low 8 bytes, then high 8 bytes. */
export function writeUuid(target: Buffer, offset: number, uuid: string): void {
  if (!UUID_RE.test(uuid)) throw new CodecError('bad_uuid', `not a UUID: ${JSON.stringify(uuid)}`);
  const hex = uuid.replace(/-/g, '');
  const raw = Buffer.from(hex, 'hex');
  raw.copy(target, offset, 8, 16);
  raw.copy(target, offset + 8, 0, 8);
}

export function readUuid(source: Buffer, offset: number): string {
  // Two hex slices straight from the buffer (no subarray views, no joined copy): once per message.
  const hi = source.toString('hex', offset + 8, offset + 16);
  const lo = source.toString('hex', offset, offset + 8);
  return `${hi.slice(0, 8)}-${hi.slice(8, 12)}-${hi.slice(12, 16)}-${lo.slice(0, 4)}-${lo.slice(4)}`;
}

// crypto.hash (Node >= 20.12) is a one-shot digest without a Hash object per call; fall back where absent.
const oneShotHash = (nodeCrypto as { hash?: (alg: string, data: Uint8Array, enc: 'buffer') => Buffer }).hash;

export function sha256(data: Uint8Array): Buffer {
  return oneShotHash ? oneShotHash('sha256', data, 'buffer') : createHash('sha256').update(data).digest();
}

/** A random (version 4) UUID written straight into place, in the wire's half-swapped order. */
const RANDOM_POOL = Buffer.allocUnsafe(16 * 256);
let randomPoolOffset = RANDOM_POOL.length;

function writeRandomUuid(target: Buffer, offset: number): void {
  // One randomFillSync per 256 ids: the call itself costs more than the bytes (as randomUUID caches too).
  if (randomPoolOffset === RANDOM_POOL.length) {
    randomFillSync(RANDOM_POOL);
    randomPoolOffset = 0;
  }
  RANDOM_POOL.copy(target, offset, randomPoolOffset, randomPoolOffset + 16);
  randomPoolOffset += 16;
  // Canonical bytes 0-7 sit at offset+8..15 and bytes 8-15 at offset..offset+7.
  target[offset + 8 + 6] = (target[offset + 8 + 6]! & 0x0f) | 0x40; // version 4 (canonical byte 6)
  target[offset] = (target[offset]! & 0x3f) | 0x80; // RFC 4122 variant (canonical byte 8)
}

export function newMessageId(): string {
  const b = Buffer.allocUnsafe(16);
  writeRandomUuid(b, 0);
  return readUuid(b, 0);
}

/** Write a 64-bit big-endian integer; plain numbers avoid a BigInt per message on the hot path. */
function writeInt64(buf: Buffer, offset: number, value: bigint | number): void {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) {
    buf.writeUInt32BE(Math.floor(value / 0x1_0000_0000), offset);
    buf.writeUInt32BE(value >>> 0, offset + 4);
  } else {
    buf.writeBigInt64BE(BigInt(value), offset);
  }
}

export interface EncodeInput {
  messageType: MessageTypeName | string;
  payload: Uint8Array;
  payloadType: number;
  sequenceNumber?: bigint | number;
  flags?: bigint | number;
  messageId?: string;
  createdDate?: number;
  schemaVersion?: number;
}

export function encodeMessage(input: EncodeInput): Buffer {
  const payload = input.payload;
  const buf = Buffer.allocUnsafe(PAYLOAD_OFFSET + payload.length);
  Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).copy(buf, PAYLOAD_OFFSET);
  writeHeader(buf, input, payload);
  return buf;
}

/** The 120 header bytes of a frame whose payload is already in place at PAYLOAD_OFFSET. */
function writeHeader(buf: Buffer, input: Omit<EncodeInput, 'payload'>, payload: Uint8Array): void {
  buf.writeUInt32BE(HEADER_LENGTH, OFF.headerLength);
  paddedType(input.messageType).copy(buf, OFF.messageType);
  buf.writeUInt32BE(input.schemaVersion ?? 1, OFF.schemaVersion);
  writeInt64(buf, OFF.createdDate, input.createdDate ?? Date.now());
  writeInt64(buf, OFF.sequenceNumber, input.sequenceNumber ?? 0);
  writeInt64(buf, OFF.flags, input.flags ?? 0);
  if (input.messageId) writeUuid(buf, OFF.messageId, input.messageId);
  else writeRandomUuid(buf, OFF.messageId);
  sha256(payload).copy(buf, OFF.payloadDigest);
  buf.writeUInt32BE(input.payloadType >>> 0, OFF.payloadType);
  buf.writeUInt32BE(payload.length, OFF.payloadLength);
}

/** Message types as their 32 space-padded wire bytes, made once per type. */
const PADDED_TYPES = new Map<string, Buffer>();

function paddedType(type: string): Buffer {
  let padded = PADDED_TYPES.get(type);
  if (!padded) {
    const bytes = Buffer.from(type, 'ascii');
    if (bytes.length === 0 || bytes.length > MESSAGE_TYPE_LENGTH) {
      throw new CodecError('empty_message_type', `message type must be 1..32 ASCII bytes: ${type}`);
    }
    padded = Buffer.alloc(MESSAGE_TYPE_LENGTH, 0x20);
    bytes.copy(padded);
    if (PADDED_TYPES.size < 64) PADDED_TYPES.set(type, padded);
  }
  return padded;
}

/** The known types differ in their first byte: a frame is compared with one candidate only. */
const KNOWN_BY_FIRST_BYTE = new Map(
  Object.values(MessageType).map((t) => [t.charCodeAt(0), { padded: paddedType(t), name: t }] as const),
);

/** The message type field as a string: the known types without allocating, others trimmed. */
function readType(frame: Buffer): string {
  const known = KNOWN_BY_FIRST_BYTE.get(frame[OFF.messageType]!);
  const end = OFF.messageType + MESSAGE_TYPE_LENGTH;
  if (known && frame.compare(known.padded, 0, MESSAGE_TYPE_LENGTH, OFF.messageType, end) === 0)
    return known.name;
  return trimType(frame.subarray(OFF.messageType, end));
}

function trimType(raw: Buffer): string {
  let end = raw.length;
  while (end > 0 && (raw[end - 1] === 0x20 || raw[end - 1] === 0x00)) end--;
  let start = 0;
  while (start < end && (raw[start] === 0x20 || raw[start] === 0x00)) start++;
  return raw.toString('latin1', start, end);
}

export interface DecodeOptions {
  /** Skip the digest check (never used on the wire; for diagnostics). */
  skipDigest?: boolean;
  maxPayloadBytes?: number;
}

/**
 * Decode and validate one frame. Throws CodecError naming what is wrong; never
 * reads outside the buffer.
 */
export function decodeMessage(frame: Buffer, options: DecodeOptions = {}): ClientMessage {
  if (frame.length < PAYLOAD_OFFSET) {
    throw new CodecError(
      'short_frame',
      `frame of ${frame.length} bytes is shorter than the ${PAYLOAD_OFFSET}-byte header`,
    );
  }
  const headerLength = frame.readUInt32BE(OFF.headerLength);
  const messageType = readType(frame);
  const isPublication =
    messageType === MessageType.StartPublication || messageType === MessageType.PausePublication;
  if (!isPublication) {
    if (headerLength === 0) throw new CodecError('bad_header_length', 'HeaderLength is 0');
    if (messageType.length === 0) throw new CodecError('empty_message_type', 'MessageType is empty');
  }
  if (headerLength !== 0 && (headerLength < OFF.payloadLength || headerLength + 4 > frame.length)) {
    throw new CodecError(
      'bad_header_length',
      `HeaderLength ${headerLength} does not fit a frame of ${frame.length} bytes`,
    );
  }
  const payloadStart = (headerLength || HEADER_LENGTH) + 4;
  const payload = frame.subarray(payloadStart);
  const declared = frame.readUInt32BE(OFF.payloadLength);
  const max = options.maxPayloadBytes ?? MAX_PAYLOAD_BYTES;
  if (payload.length > max) {
    throw new CodecError(
      'oversized_payload',
      `payload of ${payload.length} bytes exceeds the ${max}-byte limit`,
    );
  }
  if (!isPublication && declared !== payload.length) {
    throw new CodecError(
      'bad_payload_length',
      `PayloadLength says ${declared} bytes but the frame carries ${payload.length}`,
    );
  }
  // Two 32-bit halves: the same number as Number(readBigUInt64BE) without a BigInt per frame.
  const createdDate =
    frame.readUInt32BE(OFF.createdDate) * 0x1_0000_0000 + frame.readUInt32BE(OFF.createdDate + 4);
  if (!isPublication && createdDate === 0) throw new CodecError('zero_created_date', 'CreatedDate is 0');
  const digest = frame.subarray(OFF.payloadDigest, OFF.payloadDigest + 32);
  if (!isPublication && !options.skipDigest && payload.length > 0 && !sha256(payload).equals(digest)) {
    throw new CodecError('bad_digest', 'PayloadDigest does not match the SHA-256 of the payload');
  }
  return {
    messageType,
    schemaVersion: frame.readUInt32BE(OFF.schemaVersion),
    createdDate,
    sequenceNumber: frame.readBigInt64BE(OFF.sequenceNumber),
    flags: frame.readBigUInt64BE(OFF.flags),
    messageId: readUuid(frame, OFF.messageId),
    payloadType: frame.readUInt32BE(OFF.payloadType),
    payload,
  };
}

// ---- Typed payloads -------------------------------------------------------

export interface AcknowledgeContent {
  AcknowledgedMessageType: string;
  AcknowledgedMessageId: string;
  AcknowledgedMessageSequenceNumber: number;
  IsSequentialMessage: boolean;
}

export function encodeAcknowledge(
  acked: Pick<ClientMessage, 'messageType' | 'messageId' | 'sequenceNumber'>,
): Buffer {
  // Same bytes as JSON.stringify of AcknowledgeContent; the type and id are plain ASCII from our decoder.
  const json =
    `{"AcknowledgedMessageType":${JSON.stringify(acked.messageType)},` +
    `"AcknowledgedMessageId":"${acked.messageId}",` +
    `"AcknowledgedMessageSequenceNumber":${acked.sequenceNumber},"IsSequentialMessage":true}`;
  // One allocation: the JSON is written straight after the header, and hashed in place.
  const buf = Buffer.allocUnsafe(PAYLOAD_OFFSET + json.length);
  buf.write(json, PAYLOAD_OFFSET, 'latin1');
  writeHeader(buf, ACK_HEADER, buf.subarray(PAYLOAD_OFFSET));
  return buf;
}

const ACK_HEADER = {
  messageType: MessageType.Acknowledge,
  payloadType: PayloadType.Null,
  sequenceNumber: 0,
  flags: Number(MessageFlags.ACK),
} as const;

const ACK_TYPE_KEY = '{"AcknowledgedMessageType":"';
const ACK_ID_KEY = '","AcknowledgedMessageId":"';
const ACK_SEQ_KEY = '","AcknowledgedMessageSequenceNumber":';
const ACK_SEQUENTIAL_KEY = ',"IsSequentialMessage":';

/**
 * The exact form Go's json.Marshal and encodeAcknowledge produce, read field by field (one per
 * output message, so neither JSON.parse nor a regular expression):
 * {"AcknowledgedMessageType":"[a-z_]{1,32}","AcknowledgedMessageId":"[0-9a-fA-F-]{36}",
 *  "AcknowledgedMessageSequenceNumber":\d{1,15},"IsSequentialMessage":(true|false)}
 * Anything else is undefined (and goes through JSON.parse).
 */
function parseCanonicalAck(text: string): AcknowledgeContent | undefined {
  if (!text.startsWith(ACK_TYPE_KEY)) return undefined;
  let i = ACK_TYPE_KEY.length;
  const typeStart = i;
  for (let c = text.charCodeAt(i); (c >= 0x61 && c <= 0x7a) || c === 0x5f; c = text.charCodeAt(++i));
  if (i === typeStart || i - typeStart > 32 || !text.startsWith(ACK_ID_KEY, i)) return undefined;
  const type = text.slice(typeStart, i);
  i += ACK_ID_KEY.length;
  const idStart = i;
  for (let c = text.charCodeAt(i); isHexOrDash(c); c = text.charCodeAt(++i));
  if (i - idStart !== 36 || !text.startsWith(ACK_SEQ_KEY, i)) return undefined;
  const id = text.slice(idStart, i);
  i += ACK_SEQ_KEY.length;
  let seq = 0;
  const seqStart = i;
  for (let c = text.charCodeAt(i); c >= 0x30 && c <= 0x39; c = text.charCodeAt(++i))
    seq = seq * 10 + (c - 0x30);
  if (i === seqStart || i - seqStart > 15 || !text.startsWith(ACK_SEQUENTIAL_KEY, i)) return undefined;
  i += ACK_SEQUENTIAL_KEY.length;
  let sequential: boolean;
  if (text.startsWith('true}', i) && i + 5 === text.length) sequential = true;
  else if (text.startsWith('false}', i) && i + 6 === text.length) sequential = false;
  else return undefined;
  return {
    AcknowledgedMessageType: type,
    AcknowledgedMessageId: id,
    AcknowledgedMessageSequenceNumber: seq,
    IsSequentialMessage: sequential,
  };
}

function isHexOrDash(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46) || c === 0x2d;
}

export function parseAcknowledge(payload: Buffer): AcknowledgeContent {
  const canonical = parseCanonicalAck(payload.toString('latin1'));
  if (canonical) return canonical;
  const parsed: unknown = JSON.parse(payload.toString('utf8'));
  if (typeof parsed !== 'object' || parsed === null) throw new Error('acknowledge payload is not an object');
  const p = parsed as Record<string, unknown>;
  const seq = p.AcknowledgedMessageSequenceNumber;
  if (typeof seq !== 'number' || !Number.isInteger(seq)) {
    throw new Error('acknowledge payload has no integer AcknowledgedMessageSequenceNumber');
  }
  return {
    AcknowledgedMessageType: String(p.AcknowledgedMessageType ?? ''),
    AcknowledgedMessageId: String(p.AcknowledgedMessageId ?? ''),
    AcknowledgedMessageSequenceNumber: seq,
    IsSequentialMessage: p.IsSequentialMessage !== false,
  };
}

export interface ChannelClosedContent {
  MessageId?: string;
  CreatedDate?: string;
  DestinationId?: string;
  SessionId?: string;
  MessageType?: string;
  SchemaVersion?: number;
  Output?: string;
}

export function encodeChannelClosed(sessionId: string, output: string): Buffer {
  const messageId = newMessageId();
  const content: ChannelClosedContent = {
    MessageId: messageId,
    CreatedDate: new Date().toISOString(),
    DestinationId: sessionId,
    SessionId: sessionId,
    MessageType: MessageType.ChannelClosed,
    SchemaVersion: 1,
    Output: output,
  };
  return encodeMessage({
    messageType: MessageType.ChannelClosed,
    payload: Buffer.from(JSON.stringify(content)),
    payloadType: PayloadType.Output,
    messageId,
  });
}

export function encodeFlag(flag: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(flag >>> 0, 0);
  return b;
}

import { encodeMessage, decodeMessage, encodeAcknowledge, parseAcknowledge } from '../main/core/ssm/codec.js';
const payload = Buffer.alloc(1024, 0x61);
const N = 100000;
function time(name: string, fn: () => void) {
  for (let i = 0; i < 2000; i++) fn();
  const t0 = performance.now();
  for (let i = 0; i < N; i++) fn();
  console.log(name, (((performance.now() - t0) * 1000) / N).toFixed(2), 'µs');
}
const frame = encodeMessage({
  messageType: 'output_stream_data',
  payload,
  payloadType: 1,
  sequenceNumber: 5n,
});
const msg = decodeMessage(frame);
const ack = encodeAcknowledge(msg);
time('encode 1KiB', () =>
  encodeMessage({ messageType: 'output_stream_data', payload, payloadType: 1, sequenceNumber: 5n }),
);
time('decode 1KiB', () => decodeMessage(frame));
time('encode ack', () => encodeAcknowledge(msg));
time('decode+parse ack', () => parseAcknowledge(decodeMessage(ack).payload));

/**
 * The protocol's own CPU cost per message, without sockets or a shell: an agent-side and a
 * client-side StreamEndpoint wired back to back in one process; the agent sends N 1 KiB output
 * messages, the client decodes, delivers and acknowledges each, the agent takes the
 * acknowledgements. Deterministic enough to compare codec and endpoint changes (A/B) on a busy
 * machine, where the socket benchmarks are not.
 *
 *   node --import tsx bench/lib/endpoint-loop.ts [--messages 200000] [--rounds 5]
 */
import { parseArgs } from 'node:util';
import { MessageType, PayloadType } from '../../main/core/ssm/codec.js';
import { StreamEndpoint, type FrameTransport } from '../../main/core/ssm/stream-endpoint.js';
import { summarize } from './stats.js';

const { values } = parseArgs({
  options: { messages: { type: 'string', default: '200000' }, rounds: { type: 'string', default: '5' } },
});
const N = Number(values.messages);

/** One round: µs of CPU per message, both ends together. */
function round(): number {
  const toClient: Buffer[] = [];
  const toAgent: Buffer[] = [];
  let delivered = 0;
  const agent = new StreamEndpoint(
    { sendType: MessageType.OutputStreamData, highWaterMessages: 1e9 },
    {
      onStreamMessage: () => {},
    },
  );
  const client = new StreamEndpoint(
    { sendType: MessageType.InputStreamData },
    {
      onStreamMessage: (m) => (delivered += m.payload.length),
    },
  );
  const queue = (q: Buffer[]): FrameTransport => ({ send: (f) => void q.push(f), bufferedAmount: 0 });
  agent.attach(queue(toClient));
  client.attach(queue(toAgent));
  const payload = Buffer.alloc(1024, 0x61);
  const cpu0 = process.cpuUsage();
  for (let sent = 0; sent < N;) {
    // Bursts of 64 as from one PTY read, then the client's reads, then the acknowledgements.
    for (let i = 0; i < 64 && sent < N; i++, sent++) agent.send(PayloadType.Output, payload);
    for (const f of toClient.splice(0)) client.handleFrame(f);
    for (const f of toAgent.splice(0)) agent.handleFrame(f);
  }
  const cpu = process.cpuUsage(cpu0);
  if (delivered !== N * 1024 || agent.unackedCount !== 0) throw new Error('messages were lost');
  agent.dispose();
  client.dispose();
  return (cpu.user + cpu.system) / N;
}

round(); // warm-up (JIT)
const samples = Array.from({ length: Number(values.rounds) }, round);
const s = summarize(samples);
process.stdout.write(
  `protocol CPU per 1 KiB message, both ends: median ${s.median.toFixed(2)} us (min ${s.min.toFixed(2)}, max ${s.max.toFixed(2)})\n`,
);

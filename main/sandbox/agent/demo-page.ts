/**
 * Port 80 of every sandbox instance answers with a small status page, so that someone trying
 * EC2 Connect without an AWS account can forward a port and see it work (`ec2-connect forward
 * -i web-1 --remote-port 80`, or the Ports view). It is a connection-shaped stream in this
 * process, not a listening server: nothing is opened on the machine. Every other port is dialled
 * on 127.0.0.1, where tests run their real servers.
 */
import { Duplex } from 'node:stream';

export const DEMO_PORT = 80;

export interface DemoInstance {
  instanceId: string;
  name: string;
  computerName: string;
}

const HEAD_END = Buffer.from('\r\n\r\n');
const MAX_HEAD = 16 * 1024;

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(instance: DemoInstance, method: string, path: string): string {
  const title = `${instance.name} (${instance.instanceId})`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}: EC2 Connect sandbox</title>
<style>body{font:15px/1.5 system-ui,sans-serif;margin:3em auto;max-width:40em;padding:0 1em;color:#222}
code{background:#f2f2f2;padding:.1em .3em;border-radius:3px}</style></head>
<body><h1>${escapeHtml(instance.name)}</h1>
<p>You reached port ${DEMO_PORT} of <code>${escapeHtml(instance.instanceId)}</code>
(<code>${escapeHtml(instance.computerName)}</code>) in the EC2 Connect sandbox, through a
Session Manager port forward.</p>
<p>Request: <code>${escapeHtml(method)} ${escapeHtml(path)}</code> at ${new Date().toISOString()}</p>
<p>Other ports of sandbox instances reach the same port on this computer (127.0.0.1).</p>
</body></html>
`;
}

/** One HTTP/1.x exchange per connection: the request head is read, the page sent, the connection closed. */
export function demoHttpConnection(instance: DemoInstance): Duplex {
  let head = Buffer.alloc(0);
  let answered = false;
  const conn = new Duplex({
    read() {
      // data is pushed once the request head is complete
    },
    write(chunk: Buffer, _encoding, callback) {
      if (answered) {
        callback();
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf(HEAD_END);
      if (end < 0 && head.length < MAX_HEAD) {
        callback();
        return;
      }
      answered = true;
      const [requestLine = ''] = head.subarray(0, Math.max(0, end)).toString('latin1').split('\r\n');
      const [method = 'GET', path = '/'] = requestLine.split(' ');
      const ok = /^HTTP\/1\.[01]$/.test(requestLine.split(' ')[2] ?? '');
      const body = ok ? page(instance, method, path) : 'This sandbox port speaks HTTP/1.1 only.\n';
      const status = ok ? '200 OK' : '400 Bad Request';
      conn.push(
        `HTTP/1.1 ${status}\r\ncontent-type: text/${ok ? 'html' : 'plain'}; charset=utf-8\r\n` +
          `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${method === 'HEAD' ? '' : body}`,
      );
      conn.push(null);
      callback();
    },
    final(callback) {
      callback();
    },
  });
  return conn;
}

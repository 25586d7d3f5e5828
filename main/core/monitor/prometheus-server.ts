/**
 * The opt-in Prometheus endpoint: GET http://127.0.0.1:<port>/metrics answers the current
 * metrics in the text exposition format. Loopback only, GET/HEAD only, and a Host header that
 * is not a loopback name is refused (a web page cannot read it through DNS rebinding).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { silentLogger, type Logger } from '../log/logger.js';
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus, type MetricFamily } from './prometheus.js';

export interface PrometheusServer {
  /** http://127.0.0.1:<port>/metrics */
  readonly url: string;
  readonly port: number;
  dispose(): Promise<void>;
}

const LOOPBACK_HOST = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/i;

export async function startPrometheusServer(options: {
  port: number;
  collect: () => MetricFamily[];
  logger?: Logger;
}): Promise<PrometheusServer> {
  const log = options.logger ?? silentLogger;
  const server = http.createServer((req, res) => {
    const host = req.headers.host ?? '';
    if (!LOOPBACK_HOST.test(host)) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end('forbidden: use http://127.0.0.1/metrics\n');
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: the metrics are at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    let body: string;
    try {
      body = renderPrometheus(options.collect());
    } catch (err) {
      log.warn({ err }, 'rendering the Prometheus metrics failed');
      res
        .writeHead(500, { 'content-type': 'text/plain' })
        .end('the metrics could not be rendered; see the log\n');
      return;
    }
    res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(
              `The Prometheus port ${options.port} is in use by another program; choose another prometheus port in Settings > Resources (or EC2_CONNECT_PROMETHEUS_PORT).`,
            )
          : err,
      );
    };
    server.once('error', onError);
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}/metrics`;
  log.info({ url }, 'Prometheus metrics endpoint on');
  return {
    url,
    port,
    dispose: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

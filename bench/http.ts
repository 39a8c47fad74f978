import { Agent, request } from 'node:http';

/**
 * A minimal keep-alive HTTP client: the vendors keep connections open, and on a 2-core machine the
 * driver shares the CPU with the gateway and Postgres, so it uses node:http directly rather than
 * fetch (whose streams cost several times the CPU per call).
 */

export interface Endpoint {
  host: string;
  port: number;
  agent: Agent;
}

export type Reply = { status: number; body: string } | { failed: 'timeout' | 'network'; detail: string };

export function endpoint(host: string, port: number, sockets: number): Endpoint {
  return { host, port, agent: new Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets }) };
}

export function post(to: Endpoint, path: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<Reply> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (reply: Reply) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(reply);
    };
    const req = request(
      { host: to.host, port: to.port, agent: to.agent, method: 'POST', path, headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (error) => done({ failed: 'network', detail: error.message }));
      },
    );
    // A vendor gives up on an answer after its own limit; the bench waits longer so that it measures
    // how late an answer is instead of hiding it behind the cut-off.
    const timer = setTimeout(() => {
      done({ failed: 'timeout', detail: `no answer in ${timeoutMs} ms` });
      req.destroy();
    }, timeoutMs);
    req.on('error', (error) => done({ failed: 'network', detail: error.message }));
    req.end(body);
  });
}

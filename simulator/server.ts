import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

/** What a simulated vendor's API server counts, for tests and logs. */
export interface Stats {
  /** Calls per route ("/v4/user/create", "/game-lobby", "GET /play"). */
  calls: Record<string, number>;
  /** Answers per code ("0", "1018", "401", "500"). */
  answers: Record<string, number>;
  /** API calls being answered right now. */
  inFlight: number;
  /** The most API calls seen in flight at once. */
  maxInFlight: number;
}

export const emptyStats = (): Stats => ({ calls: {}, answers: {}, inFlight: 0, maxInFlight: 0 });

/** Clears the counts; calls still in flight stay counted. */
export function resetStats(stats: Stats): void {
  stats.calls = {};
  stats.answers = {};
  stats.maxInFlight = stats.inFlight;
}

export const count = (tally: Record<string, number>, key: string) => {
  tally[key] = (tally[key] ?? 0) + 1;
};

export interface Listening {
  server: Server;
  /** The base URL, e.g. http://127.0.0.1:9101. */
  url: string;
  close(): Promise<void>;
}

export function listen(app: Express, host: string, port: number): Promise<Listening> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (error?: Error) => {
      if (error) {
        reject(error);
        return;
      }
      const address = server.address() as AddressInfo;
      resolve({
        server,
        url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
    server.once('error', reject);
  });
}

export const html = (title: string, text: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${escape(title)}</title></head><body><h1>${escape(title)}</h1><p>${escape(text)}</p></body></html>`;

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

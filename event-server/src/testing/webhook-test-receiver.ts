import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** Test-only: a game's webhook receiver on loopback whose answer each test chooses. */
export class TestReceiver {
  readonly received: ReceivedWebhook[] = [];
  /** Decides the answer to the n-th request (from 0); answering nothing lets the sender time out. */
  answer: (index: number, webhook: ReceivedWebhook, res: ServerResponse) => void = (_i, _w, res) => {
    res.writeHead(204).end();
  };
  private readonly server: Server;
  private readonly open = new Set<ServerResponse>();

  private constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const webhook = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
        const index = this.received.push(webhook) - 1;
        this.open.add(res);
        res.on('close', () => this.open.delete(res));
        this.answer(index, webhook, res);
      });
    });
  }

  static async start(): Promise<TestReceiver> {
    const receiver = TestReceiver.create();
    await receiver.listen();
    return receiver;
  }

  /** A receiver that is not listening yet (a suite declares it, its beforeAll calls `listen`). */
  static create(): TestReceiver {
    return new TestReceiver();
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  /** Requests carrying this webhook id. */
  withId(id: string): ReceivedWebhook[] {
    return this.received.filter((webhook) => webhook.headers['webhook-id'] === id);
  }

  async stop(): Promise<void> {
    for (const res of this.open) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

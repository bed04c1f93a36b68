import { spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ADMIN, type Stack, startStack } from './support/stack.js';

const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
/** Every shell block of the README (bash or sh), with where it starts. */
const shellBlocks = [...readme.matchAll(/```(?:bash|sh)\n([\s\S]*?)```/g)].map((match) => ({
  at: match.index,
  text: match[1] as string,
}));
/** The bash blocks that talk to the platform, in order: the session that sets API, and every one after it. */
const sessionStart = readme.indexOf('```bash\nAPI=');
const curlBlocks = shellBlocks
  .filter((block) => sessionStart >= 0 && block.at >= sessionStart && readme.startsWith('```bash', block.at))
  .map((block) => block.text);

describe("the README's shell blocks", () => {
  // An interactive zsh treats `#` as a comment only with `setopt interactivecomments`, which is off by
  // default: pasted there, `EMAIL=x   # a comment` runs the command `#` (and sets nothing). What a block
  // needs to say goes in the prose around it.
  it('hold no # comment, so each pastes into bash and zsh alike', () => {
    const commented = shellBlocks.flatMap((block) => block.text.split('\n').filter((line) => /(^|\s)#/.test(line)));
    expect(commented).toEqual([]);
  });

  it("define a j that prints a JSON answer's field, or the whole answer (an error's body) when it has none", () => {
    // The first session block defines it for its login, and the walkthrough again, for a reader who pastes only that.
    const definitions = curlBlocks.flatMap((block) => block.split('\n')).filter((line) => line.startsWith('j() '));
    expect(definitions.length).toBeGreaterThanOrEqual(2);
    expect(new Set(definitions).size).toBe(1);
    const definition = definitions[0];
    const j = (answer: string, field: string) =>
      spawnSync('bash', ['-c', `${definition}\nj "$1"`, 'bash', field], { input: answer, encoding: 'utf8' });

    const found = j('{"accessToken":"a.b.c","id":"1"}\n', 'accessToken');
    expect([found.status, found.stdout, found.stderr]).toEqual([0, 'a.b.c\n', '']);
    const error =
      '{"statusCode":401,"error":"Unauthorized","message":"Email or password is incorrect","code":"INVALID_CREDENTIALS"}';
    const refused = j(`${error}\n`, 'accessToken');
    expect([refused.status, refused.stdout, refused.stderr]).toEqual([1, '', `${error}\n`]);
    const nothing = j('', 'id');
    expect([nothing.status, nothing.stdout, nothing.stderr]).toEqual([1, '', '(no answer)\n']);
  });
});

describe("the README's webhook receiver", () => {
  const recipe = /A receiver in Node[\s\S]*?```js\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';

  it('verifies a webhook whose body arrives in pieces that split a character', async () => {
    const sdk = pathToFileURL(fileURLToPath(new URL('../sdk/src/webhooks.ts', import.meta.url))).href;
    expect(recipe).toContain("from '@reward/sdk'");
    expect(recipe).toContain('.listen(8080)');
    // The recipe as written (it runs as pasted: the game's two steps are stubs in it), on a free port.
    const code = recipe
      .replace("'@reward/sdk'", `'${sdk}'`)
      .replace('.listen(8080)', '.listen(0, function () { console.log(`port ${this.address().port}`); })');
    const dir = mkdtempSync(join(tmpdir(), 'readme-receiver-'));
    const file = join(dir, 'receiver.mjs');
    writeFileSync(file, code);
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const child = spawn(process.execPath, [file], { env: { ...process.env, REWARD_WEBHOOK_SECRET: secret } });
    try {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const port = await new Promise<number>((resolve, reject) => {
        child.stdout.on('data', () => {
          const found = /port (\d+)/.exec(out);
          if (found) resolve(Number(found[1]));
        });
        child.on('exit', (status) => reject(new Error(`the receiver exited (${status})`)));
      });
      const id = 'claim-1';
      const timestamp = Math.floor(Date.now() / 1000);
      const body = JSON.stringify({ id, type: 'claim.granted', data: { id, rewards: [{ name: '전설의 검' }] } });
      const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
      const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
      const bytes = Buffer.from(body);
      const head =
        `POST /hook HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\nconnection: close\r\n` +
        `content-length: ${bytes.length}\r\nwebhook-id: ${id}\r\nwebhook-timestamp: ${timestamp}\r\n` +
        `webhook-signature: v1,${signature}\r\n\r\n`;
      // As a network may cut it: the first piece ends inside the 3 bytes of a Korean character.
      const cut = bytes.indexOf(Buffer.from('검')) + 1;
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => {
          socket.write(Buffer.concat([Buffer.from(head), bytes.subarray(0, cut)]));
          setTimeout(() => socket.end(bytes.subarray(cut)), 50);
        });
        let text = '';
        socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 204 No Content');
      expect(out).toContain('credited claim-1');
    } finally {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the README's curl commands", () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack('readme');
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('are there: the first-screen session and the whole walkthrough', () => {
    expect(curlBlocks.length).toBeGreaterThanOrEqual(2);
    expect(curlBlocks.join('\n')).toContain('/claims/export');
  });

  /** The blocks pasted into a fresh bash, as a reader would. */
  async function paste(): Promise<{ status: number | null; stdout: string; stderr: string }> {
    const script = ['set -eo pipefail', ...curlBlocks.map((block) => `${block}\necho`)].join('\n');
    // Asynchronous on purpose: the servers answering these requests run in this very process.
    return new Promise((resolve) => {
      const child = spawn('bash', ['-c', script], {
        env: { ...process.env, API: stack.gatewayUrl, ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });
  }

  function expectTheWholeStory(run: { status: number | null; stdout: string; stderr: string }): void {
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const out = run.stdout;
    // First screen: registered, then /users/me with the login's token.
    expect(out).toMatch(/"email":"(player-\d+@example\.com)"[\s\S]*"email":"\1","nickname":"Player One"/);
    // Walkthrough: roles given, the import repeated, progress met, the claim PENDING, then approved, the history exported.
    expect(out).toContain('"roles":["OPERATOR"]');
    expect(out).toContain('"roles":["AUDITOR"]');
    expect(out).toContain('{"received":4,"inserted":4,"duplicates":0}');
    expect(out).toContain('{"received":4,"inserted":0,"duplicates":4}');
    expect(out).toMatch(/"eligible":true/);
    expect(out).toMatch(/"id":"([0-9a-f]{24})"[^\n]*"status":"PENDING"[\s\S]*"id":"\1"[^\n]*"status":"GRANTED"/);
    expect(out).toMatch(
      /id,eventId,userId,status,reason,note,rewards,createdAt,decidedAt,decidedBy,payoutStatus\r?\n[0-9a-f]{24},[0-9a-f]{24},[0-9a-f]{24},GRANTED,/,
    );
    expect(out).toContain('CLAIM_APPROVED');
    expect(out).not.toMatch(/"statusCode":[45]\d\d/);
  }

  it("the typed SDK's examples run as written, one after another in one module, against the gateway", async () => {
    const section = readme.slice(readme.indexOf('**The typed SDK**'), readme.indexOf('## Payout webhooks'));
    const blocks = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] as string);
    expect(blocks.length).toBe(4);
    // As a reader pastes them into one .mts file; only the address and the admin's password are this stack's.
    const adminLogin = "api.login('admin@example.com', 'change-me-admin-password')";
    const code = blocks
      .join('\n')
      .replaceAll("'http://localhost:3000'", JSON.stringify(stack.gatewayUrl))
      .replace(adminLogin, `api.login(${JSON.stringify(ADMIN.email)}, ${JSON.stringify(ADMIN.password)})`);
    expect(blocks.join('\n')).toContain(adminLogin);
    // Inside the repository (where '@reward/sdk' resolves), in the ignored .tmp/.
    const dir = fileURLToPath(new URL('../.tmp/', import.meta.url));
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `readme-sdk-${process.pid}-${Date.now()}.ts`);
    writeFileSync(file, `${code}\nexport {};\n`);
    const printed: unknown[][] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...line: unknown[]) => void printed.push(line));
    try {
      await import(pathToFileURL(file).href);
    } finally {
      log.mockRestore();
      rmSync(file, { force: true });
    }
    expect(printed).toEqual([
      // A new event: no claims yet, the CSV's header.
      [0, expect.stringMatching(/^id,eventId,userId,status,/)],
      // The player's claim, refused and recorded; then claimUntilAnswered's, decided (refused again: no wins yet).
      ['CONDITION_NOT_MET', expect.stringMatching(/^[0-9a-f]{24}$/), 'REJECTED'],
      ['refused:', 'CONDITION_NOT_MET'],
    ]);
  });

  it('work as written, pasted into bash against a running gateway, and again on the same database', async () => {
    const first = await paste();
    expectTheWholeStory(first);
    const second = await paste();
    expectTheWholeStory(second);
    const playerOf = (out: string): string | undefined => /"email":"(player-\d+@example\.com)"/.exec(out)?.[1];
    expect(playerOf(second.stdout)).not.toBe(playerOf(first.stdout));
  });
});

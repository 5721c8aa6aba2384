/**
 * `living-bridge incidents list --dead` and `incidents replay <id>` against the App's operator API
 * (`/api/autonomy/dead`, the real route of src/app/reliability.ts over a real embedded intake whose
 * job failed every try), and the errors a user meets (no App URL, no token, a refused token, an
 * unknown id, an App that does not answer).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { deadLetterRoute } from '../../src/app/reliability.js';
import { runCli } from '../../src/cli/main.js';
import { EmbeddedIntake } from '../../src/intake/index.js';
import { healJob } from '../support/heal-jobs.js';

const TOKEN = `lb-api-test-${process.pid}`;
let server: Server;
let url: string;
let intake: EmbeddedIntake;
let failing = true;
const ran: string[] = [];
const job = healJob({ repo: 'acme/web', run: 4242, attempt: 1 });

beforeAll(async () => {
  intake = new EmbeddedIntake({ attempts: 1 });
  intake.start(async (j) => {
    ran.push(j.id);
    if (failing) throw new Error('GitHub answered 502 on every try');
  });
  await intake.submit(job);
  await intake.drain();
  server = createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'unauthorized' }));
      return;
    }
    void deadLetterRoute(intake, req, res, new URL(req.url ?? '/', 'http://x').pathname).then((handled) => {
      if (!handled) res.writeHead(404).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await intake.close();
  await new Promise((r) => server.close(r));
});

async function cli(argv: string[], env: Record<string, string | undefined> = { LIVING_BRIDGE_APP_URL: url, AUTONOMY_API_TOKEN: TOKEN }) {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (s) => { out += s; }, err: (s) => { err += s; }, env: { LOG_LEVEL: 'silent', ...env } });
  return { code, out, err };
}

test('list --dead shows the job that failed every try, with its run, tries and error (table and --json)', async () => {
  const table = await cli(['incidents', 'list', '--dead']);
  expect(table.code).toBe(0);
  expect(table.out).toContain('1 dead-lettered job (replay one with: living-bridge incidents replay <id>)');
  expect(table.out).toContain(`${job.id}  acme/web  run 4242@1  1 tries`);
  expect(table.out).toContain('GitHub answered 502 on every try');
  const json = await cli(['incidents', 'list', '--dead', '--json']);
  expect(JSON.parse(json.out)).toEqual([
    { id: job.id, repository: 'acme/web', run_id: 4242, run_attempt: 1, attempts: 1, error: 'GitHub answered 502 on every try', failed_at: expect.any(String) },
  ]);
});

test('replay <id> queues it again: it runs, and the dead-letter list is empty', async () => {
  failing = false;
  const before = ran.length;
  const replay = await cli(['incidents', 'replay', job.id, '--app-url', url, '--json']);
  expect(replay.code).toBe(0);
  expect(JSON.parse(replay.out)).toEqual({ replayed: job.id, status_url: `/api/autonomy/jobs/${job.id}` });
  await intake.drain();
  expect(ran.slice(before)).toEqual([job.id]);
  const list = await cli(['incidents', 'list', '--dead']);
  expect(list.out.trim()).toBe('no dead-lettered jobs');
});

test('replay of an unknown id is a usage error naming the list command; nothing is queued', async () => {
  const before = ran.length;
  const r = await cli(['incidents', 'replay', 'wh-no-such-job']);
  expect(r.code).toBe(2);
  expect(r.err).toContain('no dead-lettered job wh-no-such-job (living-bridge incidents list --dead shows them)');
  expect(ran.length).toBe(before);
});

test('without an App URL or a token, or with a refused token: one clear line, exit 2, the token never echoed', async () => {
  const noUrl = await cli(['incidents', 'list', '--dead'], { AUTONOMY_API_TOKEN: TOKEN });
  expect(noUrl.code).toBe(2);
  expect(noUrl.err).toMatch(/set LIVING_BRIDGE_APP_URL .* or pass --app-url/);
  const noToken = await cli(['incidents', 'list', '--dead'], { LIVING_BRIDGE_APP_URL: url });
  expect(noToken.code).toBe(2);
  expect(noToken.err).toContain('AUTONOMY_API_TOKEN is not set');
  const wrong = await cli(['incidents', 'replay', job.id], { LIVING_BRIDGE_APP_URL: url, AUTONOMY_API_TOKEN: 'lb-api-wrong-secret' });
  expect(wrong.code).toBe(2);
  expect(wrong.err).toContain('refused AUTONOMY_API_TOKEN (401)');
  expect(wrong.err).not.toContain('lb-api-wrong-secret');
  for (const r of [noUrl, noToken, wrong]) expect(r.err).not.toMatch(/\n\s+at /);
});

test('an App that does not answer is an error that names it', async () => {
  const down = createServer();
  await new Promise<void>((r) => down.listen(0, '127.0.0.1', () => r()));
  const port = (down.address() as AddressInfo).port;
  await new Promise((r) => down.close(r));
  const r = await cli(['incidents', 'list', '--dead', '--app-url', `http://127.0.0.1:${port}`], { AUTONOMY_API_TOKEN: TOKEN });
  expect(r.code).not.toBe(0);
  expect(r.err).toContain(`the App at http://127.0.0.1:${port} did not answer`);
});

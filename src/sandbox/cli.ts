/**
 * Starts a sandbox in its own process and seeds scenario repositories.
 *
 *   node --import tsx src/sandbox/cli.ts --port 3900 --scenario all [--owner acme]
 *        [--webhook-url http://127.0.0.1:3000/api/github/webhooks --webhook-secret S] [--quiet]
 *
 * Point Probot at it with GHE_HOST=127.0.0.1:3900 GHE_PROTOCOL=http, or Octokit at
 * baseUrl http://127.0.0.1:3900/api/v3. Ctrl-C / SIGTERM close it cleanly.
 */
import { parseArgs } from 'node:util';
import { SCENARIOS, isScenario, seedScenario, type ScenarioName } from './scenarios.js';
import { startSandbox } from './server.js';
import { SANDBOX_ADMIN_TOKEN } from './state.js';

const USAGE = `usage: sandbox [--port 3900] [--host 127.0.0.1] [--scenario ${SCENARIOS.join('|')}|all|none] [--owner acme]
               [--webhook-url URL --webhook-secret SECRET] [--no-trigger] [--no-config] [--quiet]`;

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '3900' },
      host: { type: 'string', default: '127.0.0.1' },
      scenario: { type: 'string', multiple: true, default: ['all'] },
      owner: { type: 'string', default: 'acme' },
      'webhook-url': { type: 'string' },
      'webhook-secret': { type: 'string' },
      'no-trigger': { type: 'boolean', default: false },
      'no-config': { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const names = values.scenario.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  const chosen: ScenarioName[] = [];
  for (const n of names) {
    if (n === 'all') chosen.push(...SCENARIOS);
    else if (n === 'none') continue;
    else if (isScenario(n)) chosen.push(n);
    else throw new Error(`unknown scenario "${n}"\n${USAGE}`);
  }
  if (!!values['webhook-url'] !== !!values['webhook-secret']) throw new Error('--webhook-url and --webhook-secret go together');

  const sandbox = await startSandbox({
    port: Number(values.port),
    host: values.host,
    ...(values['webhook-url'] ? { webhook: { url: values['webhook-url'], secret: values['webhook-secret']! } } : {}),
    ...(values.quiet ? {} : { logger: (line: string) => console.log(`[sandbox] ${line}`) }),
  });
  // Seed before announcing, without sending webhooks for the seed runs.
  const auto = sandbox.state.autoWebhooks;
  sandbox.state.autoWebhooks = false;
  const seeded = [...new Set(chosen)].map((name) => seedScenario(sandbox.state, name, values.owner, { trigger: !values['no-trigger'], config: !values['no-config'] }));
  sandbox.state.autoWebhooks = auto;

  console.log(`GitHub sandbox listening on ${sandbox.url}`);
  console.log(`  REST API:        ${sandbox.apiUrl}   (Probot: GHE_HOST=${sandbox.url.replace(/^http:\/\//, '')} GHE_PROTOCOL=http)`);
  console.log(`  admin token:     ${SANDBOX_ADMIN_TOKEN}`);
  console.log(`  control:         ${sandbox.url}/_sandbox/   (see docs/sandbox.md)`);
  if (values['webhook-url']) console.log(`  webhooks to:     ${values['webhook-url']}`);
  for (const s of seeded) {
    console.log(`  seeded ${s.owner}/${s.repo}: ${s.description}${s.runId ? ` — run ${s.runId} ${s.conclusion}` : ''}`);
  }

  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    console.log(`\n${signal}: closing sandbox`);
    sandbox.close().then(() => process.exit(0), (err: unknown) => {
      console.error(err);
      process.exit(1);
    });
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

const invokedDirectly = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (invokedDirectly) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}

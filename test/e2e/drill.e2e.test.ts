/**
 * The short chaos drill CI runs, with both intakes: failures of every kind, 20 % GitHub faults, the App
 * killed (SIGKILL) and restarted mid-drill. Every must-be-0 figure must be 0.
 */
import { connect } from 'node:net';
import { runDrill } from '../../src/drill/run.js';
import { renderDrill } from '../../src/drill/render.js';
import { DRILL_KINDS, type DrillOptions } from '../../src/drill/types.js';

const REDIS_URL = process.env.LIVING_BRIDGE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const redisDown = await new Promise<string | null>((resolve) => {
  const u = new URL(REDIS_URL);
  const socket = connect({ host: u.hostname, port: Number(u.port || 6379) });
  socket.setTimeout(1000, () => { socket.destroy(); resolve('timeout'); });
  socket.once('connect', () => { socket.end(); resolve(null); });
  socket.once('error', (err) => resolve(err.message));
});
if (redisDown && !process.env.CI) console.warn(`drill e2e: skipping the Redis drill, Redis is not reachable (${redisDown}); on CI this fails.`);

const short = (intake: DrillOptions['intake'], seed: number): DrillOptions => ({
  failures: 2, repos: 1, kinds: [...DRILL_KINDS], faultRate: 0.2, seed, kills: 1, intake, redisUrl: REDIS_URL, sweepSeconds: 2, timeoutSeconds: 120,
});

async function drill(opts: DrillOptions) {
  const report = await runDrill(opts);
  process.stdout.write(`${renderDrill(report)}\n`);
  expect(report.findings).toEqual([]);
  expect(report.defects).toEqual({ lost_deliveries: 0, duplicate_acts: 0, silent_failures: 0, false_escalations: 0, unsafe_acts: 0 });
  expect(report.kills).toBe(1);
  expect(Object.values(report.faults_injected).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  for (const k of report.kinds) {
    expect(k.failures).toBe(2);
    if (k.expected === 'heal') expect(k.healed).toBe(2);
    else expect(k.correctly_escalated).toBe(1);
  }
  expect(report.ok).toBe(true);
}

describe('living-bridge drill (short, as CI runs it)', () => {
  test('embedded intake: 20 % faults and a kill, nothing lost, nothing done twice', () => drill(short('embedded', 11)), 200_000);

  (redisDown && !process.env.CI ? test.skip : test)('Redis intake: 20 % faults and a kill, nothing lost, nothing done twice', async () => {
    if (redisDown) throw new Error(`CI is set and Redis at ${REDIS_URL} is not reachable (${redisDown})`);
    await drill(short('redis', 12));
  }, 200_000);
});

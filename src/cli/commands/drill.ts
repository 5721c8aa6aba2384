import { InvalidArgumentError } from 'commander';
import { renderDrill } from '../../drill/render.js';
import { runDrill } from '../../drill/run.js';
import { DRILL_KINDS, type DrillKind } from '../../drill/types.js';
import { JSON_FLAG, positiveInt, print, type CommandModule } from '../runtime.js';

const rate = (v: string): number => {
  const n = Number(v.endsWith('%') ? Number(v.slice(0, -1)) / 100 : v);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('expected a share between 0 and 1 (or a percentage like 20%)');
  return n;
};
const count = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number');
  return n;
};
const kinds = (v: string): DrillKind[] => {
  const list = v.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = list.filter((k) => !(DRILL_KINDS as readonly string[]).includes(k));
  if (bad.length || !list.length) throw new InvalidArgumentError(`expected a comma-separated list of ${DRILL_KINDS.join(', ')}`);
  return list as DrillKind[];
};

/** `drill`: the chaos drill against the built-in sandbox (exit 1 when a must-be-0 figure is not 0). */
export const drillCommands: CommandModule = (rt) => {
  rt.program
    .command('drill')
    .description('chaos drill on the built-in sandbox: failures of each kind, GitHub faults at a rate, App kills; validates recovery')
    .option('--failures <n>', 'failures of each kind', positiveInt, 4)
    .option('--repos <m>', 'repositories per healing kind (their failures come one after another)', positiveInt, 2)
    .option('--kinds <list>', `failure kinds (${DRILL_KINDS.join(', ')})`, kinds, [...DRILL_KINDS])
    .option('--faults <rate>', 'share of GitHub requests that fail (0..1 or 20%)', rate, 0.2)
    .option('--seed <n>', 'seed of the faults and of the kill moments', count, 1)
    .option('--kill <n>', 'kill the App (SIGKILL) this many times at random moments, restarting it each time', count, 0)
    .option('--intake <kind>', 'embedded or redis (needs --redis-url or $REDIS_URL)', 'embedded')
    .option('--redis-url <url>', 'Redis for --intake redis (default $REDIS_URL or redis://127.0.0.1:6379)')
    .option('--sweep-seconds <n>', 'the App\'s redelivery sweep interval during the drill', positiveInt, 3)
    .option('--timeout <seconds>', 'give up waiting for a failure to settle after this long (it then counts as lost or silent)', positiveInt, 240)
    .option(...JSON_FLAG, false)
    .action(async (o: { failures: number; repos: number; kinds: DrillKind[]; faults: number; seed: number; kill: number; intake: string; redisUrl?: string; sweepSeconds: number; timeout: number; json: boolean }) => {
      if (o.intake !== 'embedded' && o.intake !== 'redis') throw new InvalidArgumentError('--intake must be embedded or redis');
      const report = await runDrill(
        {
          failures: o.failures, repos: o.repos, kinds: o.kinds, faultRate: o.faults, seed: o.seed, kills: o.kill, intake: o.intake,
          redisUrl: o.redisUrl ?? rt.io.env.REDIS_URL ?? 'redis://127.0.0.1:6379', sweepSeconds: o.sweepSeconds, timeoutSeconds: o.timeout,
        },
        (line) => { if (!o.json) rt.io.err(`${line}\n`); },
      );
      print(rt, o.json, report, renderDrill(report));
      if (!report.ok) rt.exit.code = 1;
    });
};

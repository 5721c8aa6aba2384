/**
 * Runs every benchmark, one child process each (so one's memory and timers never skew another's),
 * and prints their output in order. Results are recorded by hand in docs/BENCHMARKS.md.
 *
 *   npm run bench                 # everything (the classifier generates a ~200 MB log: minutes)
 *   npm run bench -- --quick      # classifier on 20 MB, decide for a shorter time, schedule on 100 repositories,
 *                                 # webhook door 2 rounds of 1 s, burst of 20 runs over 10 repositories
 *   npm run bench -- heal env     # only benches whose name contains one of the words
 *
 * Request-count benches (heal, env sync) are deterministic; throughput benches depend on the machine.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.filter((a) => !a.startsWith('--'));

interface Bench { name: string; file: string; args: string[]; node?: string[] }
const BENCHES: Bench[] = [
  { name: 'heal-requests', file: 'heal-requests.ts', args: [] },
  { name: 'env-sync-requests', file: 'env-sync-requests.ts', args: [] },
  { name: 'env-sync-schedule', file: 'env-sync-schedule.ts', args: quick ? ['--repos=100', '--quick'] : ['--repos=1000'] },
  { name: 'decide', file: 'decide.ts', args: quick ? ['--ms=300', '--rounds=3', '--warmup-ms=200'] : [] },
  { name: 'webhook-door', file: 'webhook-door.ts', args: quick ? ['--rounds=2', '--ms=1000'] : ['--rounds=8', '--ms=2000'] },
  { name: 'burst', file: 'burst.ts', args: quick ? ['--runs=20', '--repos=10'] : [] },
  { name: 'classifier', file: 'classifier.ts', args: quick ? ['20'] : [], node: ['--expose-gc'] },
];

console.log(`# Living Bridge benchmarks — ${new Date().toISOString()}, Node ${process.version}, ${cpus().length} CPU(s) (${cpus()[0]?.model ?? 'unknown'}), load ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
let failed = 0;
for (const b of BENCHES) {
  if (only.length > 0 && !only.some((w) => b.name.includes(w))) continue;
  const file = join(here, b.file);
  if (!existsSync(file)) {
    console.log(`## ${b.name}\n\n(skipped: ${b.file} not present)\n`);
    continue;
  }
  console.log(`## ${b.name}\n`);
  const started = Date.now();
  const r = spawnSync(process.execPath, [...(b.node ?? []), '--import', 'tsx', file, ...b.args], { stdio: ['ignore', 'inherit', 'inherit'] });
  console.log(`\n(${b.name}: exit ${r.status ?? r.signal}, ${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  if (r.status !== 0) failed++;
}
process.exitCode = failed > 0 ? 1 : 0;

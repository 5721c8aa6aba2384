import type { DrillReport } from './validate.js';

const pct = (x: number) => `${Math.round(x * 100)} %`;

/** The drill's table for people (Markdown, so it pastes into docs/BENCHMARKS.md as it is). */
export function renderDrill(r: DrillReport): string {
  const o = r.options;
  const lines = [
    `Drill: ${o.failures} failures of each of ${o.kinds.length} kinds (${r.kinds.reduce((n, k) => n + k.failures, 0)} in all), ${o.repos} repositories per healing kind, faults ${pct(o.faultRate)} (seed ${o.seed}), ${r.kills} App kills, ${o.intake} intake — ${r.wall_seconds} s`,
    '',
    '| kind | expected | failures | healed without a human | correctly escalated / held | dead-lettered | MTTR (s) |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
    ...r.kinds.map((k) => `| ${k.kind} | ${k.expected} | ${k.failures} | ${k.expected === 'heal' ? pct(k.healed_without_human) : '—'} | ${k.expected === 'heal' ? '—' : pct(k.correctly_escalated)} | ${k.dead} | ${k.mttr_seconds === null ? '—' : k.mttr_seconds.toFixed(1)} |`),
    '',
    `REST requests: ${r.rest_requests.total} (${r.rest_requests.not_modified} of them 304), ${r.rest_requests.per_failure} counted per failure; faults injected: ${Object.entries(r.faults_injected).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`,
    '',
    '| must be 0 | count |',
    '| --- | ---: |',
    `| lost deliveries | ${r.defects.lost_deliveries} |`,
    `| duplicate acts | ${r.defects.duplicate_acts} |`,
    `| silent failures | ${r.defects.silent_failures} |`,
    `| false escalations | ${r.defects.false_escalations} |`,
    `| unsafe acts | ${r.defects.unsafe_acts} |`,
    ...(r.findings.length ? ['', ...r.findings.map((f) => `- ${f}`)] : []),
    '',
    r.ok ? 'drill passed: every must-be-0 figure is 0' : 'drill FAILED: a must-be-0 figure is not 0',
  ];
  return lines.join('\n');
}

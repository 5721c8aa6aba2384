import { loadLabelledCorpus } from '../bench/failure-corpus.js';
import { classifyText } from '../src/core/classify/index.js';
const cases = loadLabelledCorpus();
const by: Record<string, number> = {};
for (const c of cases) by[c.split] = (by[c.split] ?? 0) + 1;
console.log(cases.length, by);
const split = process.argv[2] ?? 'train';
let ok = 0, n = 0, dang = 0;
for (const c of cases.filter(x => x.split === split || split === 'all')) {
  const inc = classifyText(c.log, { repo: { owner: 'o', repo: 'r' } });
  const top = inc[0]!;
  const pred = top.confidence >= 0.5 ? top.kind : 'unknown';
  n++; if (pred === c.kind) ok++;
  const d = (pred === 'secret.missing' || pred === 'variable.missing') && pred !== c.kind;
  if (d) dang++;
  if (pred !== c.kind && process.argv[3] !== 'q') console.log(`${d ? 'DANGER ' : ''}${c.id} ${c.url}\n   want ${c.kind} got ${pred} (${top.kind} ${top.confidence})`);
}
console.log(split, ok, '/', n, (ok / n).toFixed(3), 'dangerous', dang);

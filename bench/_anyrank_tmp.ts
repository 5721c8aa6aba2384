import { evaluateSplit } from './classifier-corpus.js';
for (const s of ['train','dev'] as const) for (const r of evaluateSplit(s).results.filter(x=>x.dangerousAnyRank)) console.log(s, r.case.id, r.case.url, r.case.kind, r.predicted);

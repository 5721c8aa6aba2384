/**
 * Scores the classifier on the labelled corpus and writes the tables into docs/classifier.md between
 * `<!-- corpus-<split>:start -->` / `<!-- corpus-<split>:end -->`. The test split is only scored when asked for
 * explicitly (`--with-test`): it is measured at the end of a change and reported untouched.
 *
 *   node --import tsx bench/classifier-corpus-report.ts              # train + dev
 *   node --import tsx bench/classifier-corpus-report.ts --with-test  # train + dev + test
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluateSplit, markdownScores } from './classifier-corpus.js';
import { loadLabelledCorpus, type Split } from './failure-corpus.js';

const DOC = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'classifier.md');

function put(doc: string, name: string, body: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const block = `${start}\n${body}\n${end}`;
  if (!doc.includes(start)) return `${doc}\n${block}\n`;
  return doc.replace(new RegExp(`${start}[\\s\\S]*?${end}`), () => block);
}

const cases = loadLabelledCorpus();
const splits: Split[] = process.argv.includes('--with-test') ? ['train', 'dev', 'test'] : ['train', 'dev'];
let doc = existsSync(DOC) ? readFileSync(DOC, 'utf8') : '# Failure classifier\n';
for (const split of splits) {
  const { results, scores } = evaluateSplit(split, cases);
  const repos = new Set(results.map((r) => r.case.repo)).size;
  const table = markdownScores(`${split} split (${repos} source repositories)`, scores);
  doc = put(doc, `corpus-${split}`, table);
  console.log(table, '\n');
  if (process.argv.includes('--misses')) {
    for (const r of results.filter((x) => !x.kindOk)) console.log(`- ${r.case.id} ${r.case.url}: labelled ${r.case.kind}, answered ${r.predicted} (${r.confidence})${r.dangerous ? ' DANGEROUS' : ''}`);
  }
}
writeFileSync(DOC, doc);

/**
 * Writes the per-kind precision/recall tables of the classifier into docs/classifier.md: the development corpus
 * (between `corpus:start`/`corpus:end`) and the held-out set (between `heldout:start`/`heldout:end`, whole set and
 * tranche 2 separately). Run: node --import tsx bench/classifier-corpus-report.ts
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluate, HELDOUT_DIR, loadCorpus, markdownTable } from './classifier-corpus.js';

const DOC = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'classifier.md');

function put(doc: string, name: string, body: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const block = `${start}\n${body}\n${end}`;
  if (!doc.includes(start)) return `${doc}\n${block}\n`;
  return doc.replace(new RegExp(`${start}[\\s\\S]*?${end}`), () => block);
}

const corpus = evaluate();
const corpusTable = markdownTable(corpus.rows, corpus.results);
const heldCases = loadCorpus(HELDOUT_DIR);
const held = evaluate(heldCases, HELDOUT_DIR);
const manifest = 'test/fixtures/failure-logs-heldout/manifest.json';
const t1 = heldCases.filter((c) => !c.note.startsWith('[tranche 2'));
const t2 = heldCases.filter((c) => c.note.startsWith('[tranche 2'));
const e1 = evaluate(t1, HELDOUT_DIR);
const e2 = evaluate(t2, HELDOUT_DIR);
const heldTable = [
  markdownTable(held.rows, held.results, 'Held-out, whole set', manifest),
  '',
  `Tranche 1 alone: kind correct ${e1.results.filter((r) => r.kindOk).length}/${e1.results.length}; ` +
    `tranche 2 alone: kind correct ${e2.results.filter((r) => r.kindOk).length}/${e2.results.length}.`,
].join('\n');

let doc = existsSync(DOC) ? readFileSync(DOC, 'utf8') : '# Failure classifier\n';
doc = put(doc, 'corpus', corpusTable);
doc = put(doc, 'heldout', heldTable);
writeFileSync(DOC, doc);
console.log(corpusTable);
console.log();
console.log(heldTable);

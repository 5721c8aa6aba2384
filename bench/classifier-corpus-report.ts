/**
 * Writes the per-kind precision/recall table of the classifier on the corpus into docs/classifier.md
 * (between the `corpus:start` / `corpus:end` markers). Run: node --import tsx bench/classifier-corpus-report.ts
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluate, markdownTable } from './classifier-corpus.js';

const DOC = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'classifier.md');
const START = '<!-- corpus:start -->';
const END = '<!-- corpus:end -->';

const { rows, results } = evaluate();
const table = markdownTable(rows, results);
const block = `${START}\n${table}\n${END}`;
let doc = existsSync(DOC) ? readFileSync(DOC, 'utf8') : `# Failure classifier\n\n## Corpus results\n\n${START}\n${END}\n`;
if (!doc.includes(START)) doc += `\n## Corpus results\n\n${START}\n${END}\n`;
doc = doc.replace(new RegExp(`${START}[\\s\\S]*?${END}`), block);
writeFileSync(DOC, doc);
console.log(table);

import { createReadStream, existsSync } from 'node:fs';
import { classify } from '../../core/classify/index.js';
import type { Incident } from '../../core/schemas/index.js';
import { JSON_FLAG, print, UsageError, type CommandModule } from '../runtime.js';

/** `classify <logfile|->`: what the classifier makes of a job log, as a reader would want it. */
export const classifyCommands: CommandModule = (rt) => {
  rt.program
    .command('classify')
    .description('classify a GitHub Actions job log and print the incidents ("-" reads standard input)')
    .argument('<logfile>', 'a job log (as downloaded from GitHub), or - for standard input')
    .option(...JSON_FLAG, false)
    .action(async (file: string, o: { json: boolean }) => {
      let input: NodeJS.ReadableStream;
      if (file === '-') input = rt.io.stdin ?? process.stdin;
      else if (!existsSync(file)) throw new UsageError(`classify: ${file} does not exist`);
      else input = createReadStream(file);
      const incidents = await classify(input as AsyncIterable<string | Uint8Array>, { repo: { owner: 'local', repo: 'file' } });
      const shown = incidents.map(({ repo: _r, ...i }) => i);
      print(rt, o.json, shown, renderVerdict(incidents));
    });
};

/** One block per incident: kind, target, confidence, summary and the log lines that support it. */
export function renderVerdict(incidents: Incident[]): string {
  if (incidents.length === 0) return 'no failure recognised in this log';
  return incidents
    .map((i) => {
      const target = i.target ? ` ${i.target.type} ${i.target.name}` : '';
      const lines = i.evidence.slice(0, 3).map((e) => `    line ${e.line}${e.step ? ` (${e.step})` : ''}: ${e.text.trim()}`);
      return [`${i.kind}${target}  (confidence ${Math.round(i.confidence * 100)}%)${i.signature ? `  signature ${i.signature}` : ''}`, `  ${i.summary}`, ...lines].join('\n');
    })
    .join('\n\n');
}

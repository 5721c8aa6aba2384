/**
 * Inline annotations for a bad config file: each problem in the workspace's `.github/autonomy.yml` /
 * `.github/environment.json` becomes `::error file=…,line=…,col=…` so GitHub shows it on the line
 * of the pull request's diff. Runs before validateLocalConfig, which then fails the step as before.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as core from '@actions/core';
import { checkConfigText, configKindOf, type ConfigDiagnostic } from '../pipeline/config-check.js';

export function annotateLocalConfig(paths: string[], workspace: string, sink: Pick<typeof core, 'error'> = core): ConfigDiagnostic[] {
  const all: ConfigDiagnostic[] = [];
  for (const rel of paths) {
    const file = path.resolve(workspace, rel);
    const kind = configKindOf(rel);
    if (!kind || !existsSync(file)) continue;
    // The annotation's file is relative to the repository root (the workspace), as GitHub expects.
    const shown = path.relative(workspace, file).split(path.sep).join('/');
    for (const d of checkConfigText(shown, readFileSync(file, 'utf8'), kind)) {
      all.push(d);
      sink.error(`${d.path}: ${d.message}`, {
        title: `Living Bridge: ${shown} is invalid`,
        file: d.file,
        startLine: d.line,
        endLine: d.endLine,
        ...(d.line === d.endLine ? { startColumn: d.column, endColumn: d.endColumn } : {}),
      });
    }
  }
  return all;
}

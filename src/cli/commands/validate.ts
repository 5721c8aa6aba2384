import { existsSync, readFileSync, statSync } from 'node:fs';
import { ENVIRONMENT_FILE_PATH, REPO_CONFIG_PATH } from '../../core/schemas/index.js';
import { checkConfigText, configKindOf, formatDiagnostic, type ConfigDiagnostic, type ConfigKind } from '../../pipeline/config-check.js';
import { JSON_FLAG, print, UsageError, type CommandModule } from '../runtime.js';

/** `::error file=…,line=…,col=…::message` (GitHub's workflow command; values escaped as the runner expects). */
export function githubAnnotation(d: ConfigDiagnostic): string {
  const prop = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A').replace(/:/g, '%3A').replace(/,/g, '%2C');
  const data = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
  return `::error file=${prop(d.file)},line=${d.line},col=${d.column},endLine=${d.endLine},endColumn=${d.endColumn},title=${prop(`Living Bridge: ${d.path}`)}::${data(d.message)}`;
}

/**
 * `validate [file…]`: `.github/autonomy.yml` and `.github/environment.json` (the default when no file
 * is named) against their schemas, offline. Exit 0 valid, 1 a problem found, 2 no such file.
 */
export const validateCommands: CommandModule = (rt) => {
  rt.program
    .command('validate')
    .description('check .github/autonomy.yml and .github/environment.json (or the files named) against their schemas: line, column, schema path, did-you-mean')
    .argument('[files...]', `files to check (default: ${REPO_CONFIG_PATH} and ${ENVIRONMENT_FILE_PATH} when present); *.yml/*.yaml are autonomy configs, *.json environment files`)
    .option('--kind <kind>', 'check every file as this kind: autonomy or environment (default: by extension)')
    .option('--github', 'print GitHub workflow annotations (::error file=…,line=…,col=…) so a workflow step shows them inline on the pull request', false)
    .option(...JSON_FLAG, false)
    .action((files: string[], o: { kind?: string; github: boolean; json: boolean }) => {
      if (o.kind !== undefined && o.kind !== 'autonomy' && o.kind !== 'environment') throw new UsageError(`validate: --kind must be autonomy or environment, not ${JSON.stringify(o.kind)}`);
      const named = files.length > 0;
      const targets = named ? files : [REPO_CONFIG_PATH, ENVIRONMENT_FILE_PATH].filter((f) => existsSync(f));
      if (targets.length === 0) throw new UsageError(`validate: neither ${REPO_CONFIG_PATH} nor ${ENVIRONMENT_FILE_PATH} is here; run it in a repository checkout or name the files`);
      const diagnostics: ConfigDiagnostic[] = [];
      const checked: { file: string; kind: ConfigKind; problems: number }[] = [];
      for (const file of targets) {
        if (!existsSync(file) || !statSync(file).isFile()) throw new UsageError(`validate: ${file} does not exist`);
        const kind = (o.kind as ConfigKind | undefined) ?? configKindOf(file);
        if (!kind) throw new UsageError(`validate: cannot tell what ${file} is (a .yml autonomy config or a .json environment file); pass --kind`);
        const found = checkConfigText(file, readFileSync(file, 'utf8'), kind);
        diagnostics.push(...found);
        checked.push({ file, kind, problems: found.length });
      }
      const text = o.github
        ? diagnostics.map(githubAnnotation).join('\n') || checked.map((c) => `${c.file}: valid`).join('\n')
        : [...diagnostics.map(formatDiagnostic), ...checked.filter((c) => c.problems === 0).map((c) => `${c.file}: valid (${c.kind === 'autonomy' ? 'autonomy config' : 'environment file'})`)].join('\n');
      print(rt, o.json, { valid: diagnostics.length === 0, files: checked, diagnostics }, text);
      if (diagnostics.length) rt.exit.code = 1;
    });
};

/**
 * A pino logger for the pipeline that writes through the Actions toolkit: readable lines in the
 * step log (not JSON), warnings and errors as annotations, debug only with ACTIONS_STEP_DEBUG.
 * The same redaction paths as the App's logger; the token and signing key are also masked by the
 * runner itself (core.setSecret) before the logger exists.
 */
import * as core from '@actions/core';
import { pino, type Logger } from 'pino';
import { REDACT_PATHS } from '../pipeline/build-context.js';

const REQUEST_LOG = /^(GET|POST|PUT|PATCH|DELETE|HEAD) \/\S* - \d{3}\b/;
const OMIT = new Set(['level', 'msg', 'time', 'pid', 'hostname', 'name', 'v']);

/** One pino JSON line -> "message {fields}" routed to the matching toolkit function. */
export function writeLine(line: string, sink: Pick<typeof core, 'debug' | 'info' | 'warning' | 'error'> = core): void {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    sink.info(line.trimEnd());
    return;
  }
  const level = typeof rec.level === 'number' ? rec.level : 30;
  const fields = Object.fromEntries(Object.entries(rec).filter(([k]) => !OMIT.has(k)));
  const text = `${typeof rec.msg === 'string' ? rec.msg : ''}${Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : ''}`.trim();
  // Octokit's request log ("GET /repos/... - 500 ...") is context, not a finding: the step fails
  // (core.setFailed) with the real reason once, instead of an annotation per retried request.
  if (REQUEST_LOG.test(text)) sink.info(text);
  else if (level >= 50) sink.error(text);
  else if (level >= 40) sink.warning(text);
  else if (level >= 30) sink.info(text);
  else sink.debug(text);
}

export function createActionLogger(): Logger {
  return pino(
    {
      name: 'living-bridge',
      level: core.isDebug() ? 'debug' : 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: undefined,
      timestamp: false,
    },
    { write: (line: string) => writeLine(line) },
  );
}

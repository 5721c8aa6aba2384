import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { ConfigurationError, loggerOptions } from '../pipeline/build-context.js';

/**
 * The App's logger: JSON lines (one object per line, ISO timestamps) for production;
 * LOG_FORMAT=pretty for a terminal during development. Redaction is the same either way.
 */
export function createAppLogger(env: Record<string, string | undefined>): Logger {
  const format = (env.LOG_FORMAT ?? 'json').trim().toLowerCase();
  if (format !== 'json' && format !== 'pretty') throw new ConfigurationError(`LOG_FORMAT must be "json" or "pretty", not "${env.LOG_FORMAT}"`);
  const options = loggerOptions('living-bridge', env.LOG_LEVEL ?? 'info');
  if (format === 'json') return pino(options);
  // In-process and synchronous (no worker thread): lines are never lost at exit.
  return pino(options, pretty({ sync: true, colorize: process.stdout.isTTY, translateTime: 'SYS:standard', ignore: 'pid,hostname' }));
}

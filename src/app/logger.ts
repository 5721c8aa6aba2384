import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { ConfigurationError, loggerOptions } from '../pipeline/build-context.js';

/**
 * The App's root logger: JSON lines (one object per line, ISO timestamps) for production;
 * LOG_FORMAT=pretty for a terminal during development. Redaction is the same either way.
 * It has no `name`: Probot, which gets this root, names its children itself ("probot"), and the
 * App's own child is "living-bridge" — a name bound twice would print the key twice.
 */
export function createAppLogger(env: Record<string, string | undefined>): Logger {
  const format = (env.LOG_FORMAT ?? 'json').trim().toLowerCase();
  if (format !== 'json' && format !== 'pretty') throw new ConfigurationError(`LOG_FORMAT must be "json" or "pretty", not "${env.LOG_FORMAT}"`);
  const { name: _unnamed, ...options } = loggerOptions('living-bridge', env.LOG_LEVEL ?? 'info');
  // Synchronous writes: an asynchronous write still under way at exit lands after the lines
  // flushed by the exit handler, and the shutdown line would not be the last one.
  if (format === 'json') return pino(options, pino.destination({ dest: 1, sync: true }));
  // In-process and synchronous (no worker thread): lines are never lost at exit.
  return pino(options, pretty({ sync: true, colorize: process.stdout.isTTY, translateTime: 'SYS:standard', ignore: 'pid,hostname' }));
}

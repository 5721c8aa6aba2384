/**
 * Headless Chromium for the browser-facing tests. In CI a missing browser is a failure (.ci/run
 * installs Debian's chromium); on a laptop the suite is skipped with a printed reason.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe } from '@jest/globals';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
/** Where screenshots are kept (.ci/run keeps .ci/out). */
export const OUT_DIR = process.env.TEST_OUTPUT_DIR ?? join(process.cwd(), '.ci/out');

/** `describe`, or `describe.skip` with a warning naming `what` when the browser is not installed outside CI. */
export function describeWithChromium(what: string): typeof describe | typeof describe.skip {
  if (existsSync(CHROMIUM)) return describe;
  if (process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium before the tests`);
  console.warn(`skipping the ${what} browser test: ${CHROMIUM} is not installed (apt-get install -y chromium)`);
  return describe.skip;
}

/** The brief's flags, plus any a test needs on top (e.g. no background network). */
export const launchChromium = (extraArgs: readonly string[] = []): Promise<Browser> =>
  chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', ...extraArgs] });

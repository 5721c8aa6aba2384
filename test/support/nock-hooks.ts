import { afterAll, afterEach, beforeAll, beforeEach, expect } from '@jest/globals';
import nock from 'nock';
import { resetGitHubCache } from '../../src/github/index.js';

/**
 * The jest hooks every nock-based adapter test needs: no real network (loopback allowed), a cold
 * adapter cache per test (fixtures reuse keys and shas with other content), and every mock used.
 */
export function useNock(): void {
  beforeAll(() => {
    nock.disableNetConnect();
    nock.enableNetConnect(/(localhost|127\.0\.0\.1)/);
  });
  beforeEach(() => resetGitHubCache());
  afterEach(() => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    expect(pending).toEqual([]);
  });
  afterAll(() => nock.enableNetConnect());
}

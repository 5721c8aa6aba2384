import { describe, expect, test } from '@jest/globals';
import { RepoConfig, SettingError, booleanSetting, branchNameProblem } from '../../src/core/schemas/index.js';

describe('booleanSetting: one spelling for every door', () => {
  test.each([
    ['true', true], ['TRUE', true], [' yes ', true], ['1', true], ['on', true], ['On', true],
    ['false', false], ['0', false], ['no', false], ['OFF', false], ['False', false],
  ])('%s → %s', (text, expected) => {
    expect(booleanSetting({ X: text }, 'X', !expected)).toBe(expected);
  });

  test('unset or empty is the fallback', () => {
    expect(booleanSetting({}, 'X', true)).toBe(true);
    expect(booleanSetting({ X: '  ' }, 'X', false)).toBe(false);
  });

  test.each(['maybe', 'enabled', 'y', '2', 'truee', 'nope'])('%s is refused, naming the variable', (text) => {
    expect(() => booleanSetting({ AUTONOMY_ENABLED: text }, 'AUTONOMY_ENABLED', true)).toThrow(SettingError);
    expect(() => booleanSetting({ AUTONOMY_ENABLED: text }, 'AUTONOMY_ENABLED', true)).toThrow(/AUTONOMY_ENABLED=.*is not a boolean/);
  });
});

describe('branchNameProblem: git check-ref-format --branch', () => {
  test.each(['bridge-ledger', 'ledger/v2', 'audit_trail', 'a.b', 'x-1'])('%s is valid', (name) => {
    expect(branchNameProblem(name)).toBeNull();
  });
  test.each(['', '..', 'a..b', '../main', '/x', 'x/', 'a//b', '.hidden', 'a/.b', 'x.lock', 'a/b.lock/c', 'x.', '@', 'a@{b', 'a b', 'a~1', 'a^', 'a:b', 'a?', 'a*', 'a[b', 'a\\b', '-x', 'HEAD', 'refs/heads/x', 'tab\tname'])('%j is refused', (name) => {
    expect(branchNameProblem(name)).toEqual(expect.any(String));
  });
  test('the config schema refuses an invalid ledger.branch with the reason', () => {
    const r = RepoConfig.safeParse({ ledger: { branch: 'a..b' } });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain('cannot contain \\"..\\"');
  });
});

import { describe, expect, test } from '@jest/globals';
import { createAppLogger } from '../../src/app/logger.js';
import { ConfigurationError } from '../../src/pipeline/build-context.js';

describe('the App logger', () => {
  test('json (default) and pretty are the formats; anything else is refused naming LOG_FORMAT', () => {
    expect(createAppLogger({ LOG_LEVEL: 'silent' }).level).toBe('silent');
    expect(createAppLogger({ LOG_FORMAT: 'pretty', LOG_LEVEL: 'warn' }).level).toBe('warn');
    expect(() => createAppLogger({ LOG_FORMAT: 'xml' })).toThrow(ConfigurationError);
    expect(() => createAppLogger({ LOG_FORMAT: 'xml' })).toThrow('LOG_FORMAT must be "json" or "pretty", not "xml"');
  });

  test('the root logger binds no name (Probot names its own children; a second name would print the key twice)', () => {
    const root = createAppLogger({ LOG_LEVEL: 'silent' });
    expect(root.bindings()).not.toHaveProperty('name');
    expect(root.child({ name: 'living-bridge' }).bindings()).toEqual({ name: 'living-bridge' });
  });
});

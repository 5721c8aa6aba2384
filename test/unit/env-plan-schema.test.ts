import { readFileSync } from 'node:fs';
import { renderSchemas } from '../../scripts/emit-json-schema.js';

describe('published JSON Schemas', () => {
  test.each(renderSchemas())('$file is generated from the zod schema and committed fresh', ({ file, text }) => {
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  test('environment.schema.json describes secret sources and names', () => {
    const schema = JSON.parse(renderSchemas()[0]!.text) as { $id: string; properties: Record<string, unknown> };
    expect(schema.$id).toContain('environment.schema.json');
    const text = JSON.stringify(schema);
    for (const s of ['generate', 'from_env', 'external', 'prune', 'wait_timer', '^[A-Za-z_][A-Za-z0-9_]*$']) expect(text).toContain(s);
  });
});

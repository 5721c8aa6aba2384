import { describe, expect, test } from '@jest/globals';
import type { IncomingMessage } from 'node:http';
import { STATUS_COOKIE, emaChart, renderStatusPage, statusAccess } from '../../src/app/status-page.js';

const TOKEN = 'status-token-0123456789abcdef';
const auth = (now = 1_800_000_000_000) => ({ authorized: (h: string | undefined) => h === `Bearer ${TOKEN}`, sessionKey: 'k'.repeat(64), now: () => now });
const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
const url = (q = '') => new URL(`http://localhost/status${q}`);

describe('status page access', () => {
  test('a bearer token, or ?token= once (a session cookie that holds no token), then the cookie; nothing else', () => {
    expect(statusAccess(req({ authorization: `Bearer ${TOKEN}` }), url(), auth())).toEqual({ ok: true });
    expect(statusAccess(req({}), url(), auth())).toEqual({ ok: false });
    expect(statusAccess(req({}), url('?token=wrong'), auth())).toEqual({ ok: false });
    const viaQuery = statusAccess(req({}), url(`?token=${TOKEN}`), auth());
    expect(viaQuery.ok).toBe(true);
    const setCookie = (viaQuery as { setCookie: string }).setCookie;
    expect(setCookie).toMatch(/; Path=\/status; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    expect(setCookie).not.toContain(TOKEN);
    const cookie = setCookie.split(';')[0]!;
    expect(statusAccess(req({ cookie: `other=1; ${cookie}` }), url(), auth())).toEqual({ ok: true });
    // Tampered, or expired after 12 hours.
    expect(statusAccess(req({ cookie: cookie.replace(/.$/, (c) => (c === '0' ? '1' : '0')) }), url(), auth())).toEqual({ ok: false });
    expect(statusAccess(req({ cookie }), url(), auth(1_800_000_000_000 + 12 * 3600_000 + 1))).toEqual({ ok: false });
    expect(statusAccess(req({ cookie: `${STATUS_COOKIE}=garbage` }), url(), auth())).toEqual({ ok: false });
  });

  test('the chart draws one line per action; text is escaped', () => {
    const svg = emaChart([
      { at: '2026-12-01T10:00:00Z', action: 'RERUN', ema: 0.55 },
      { at: '2026-12-01T11:00:00Z', action: 'RERUN', ema: 0.595 },
      { at: '2026-12-01T11:30:00Z', action: 'CREATE_SECRET', ema: 0.55 },
    ]);
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(svg.match(/<circle/g)).toHaveLength(3);
    expect(svg).toContain('RERUN 0.59');
    expect(emaChart([])).toContain('No outcome learned yet');
    const html = renderStatusPage({ generatedAt: '2026-12-01T12:00:00.000Z', repositories: [{ repository: 'acme/<x>', error: 'Not Found <script>' }], deadLetters: [] });
    expect(html).toContain('acme/&lt;x&gt;');
    expect(html).not.toContain('<script>');
  });
});

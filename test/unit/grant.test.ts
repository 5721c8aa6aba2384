import type { z } from 'zod';
import { createSigner, generateSigningKey, type Signer } from '../../src/core/certificate/index.js';
import { authorize, parseGrantFile, signGrant, verifyGrant, type AuthorizeInput } from '../../src/core/grants/index.js';
import type { Grant, GrantBody } from '../../src/core/schemas/grant.js';
import { SchemaError } from '../../src/core/schemas/errors.js';

const NOW = new Date('2026-11-23T12:00:00.000Z');

const body = (over: Partial<z.input<typeof GrantBody>> = {}): z.input<typeof GrantBody> => ({
  id: 'g1',
  repository: 'acme/api',
  actions: ['CREATE_SECRET'],
  environments: ['prod'],
  targets: ['DEPLOY_TOKEN'],
  not_before: '2026-11-23T00:00:00.000Z',
  expires_at: '2026-11-24T00:00:00.000Z',
  issued_by: 'alice',
  reason: 'deploy token rotation',
  ...over,
});

let signer: Signer;
let untrusted: Signer;
let trustedKeys: Record<string, string>;

beforeAll(async () => {
  signer = await createSigner((await generateSigningKey(new Uint8Array(32).fill(31))).secretKey);
  untrusted = await createSigner((await generateSigningKey(new Uint8Array(32).fill(32))).secretKey);
  trustedKeys = { [signer.keyid]: signer.publicKey };
});

const request = (grants: Grant[], over: Partial<AuthorizeInput> = {}): AuthorizeInput => ({
  grants,
  trustedKeys,
  revokedIds: [],
  uses: {},
  repository: 'acme/api',
  environment: 'prod',
  action: 'CREATE_SECRET',
  target: 'DEPLOY_TOKEN',
  now: NOW,
  halted: false,
  ...over,
});

const allowedWith = async (over: Partial<z.input<typeof GrantBody>>, req: Partial<AuthorizeInput> = {}): Promise<boolean> =>
  authorize(request([await signGrant(body(over), signer)], req)).allowed;

describe('signGrant / verifyGrant', () => {
  it('signs the canonical JSON of the parsed body and verifies', async () => {
    const g = await signGrant(body({ environments: undefined, targets: undefined }), signer);
    expect(g.keyid).toBe(signer.keyid);
    expect(g.grant).toMatchObject({ environments: ['*'], targets: ['*'], break_glass: false });
    expect(verifyGrant(g, trustedKeys)).toEqual({ ok: true, grant: g.grant, keyid: signer.keyid });
    // Defaults are part of what was signed: writing them out explicitly still verifies.
    expect(verifyGrant(JSON.parse(JSON.stringify(g)), trustedKeys).ok).toBe(true);
  });

  it('rejects a tampered grant', async () => {
    const g = await signGrant(body(), signer);
    const widened = { ...g, grant: { ...g.grant, environments: ['*'] } };
    expect(verifyGrant(widened, trustedKeys)).toEqual({ ok: false, reason: expect.stringMatching(/^grant g1 has an invalid signature/) });
    const longer = { ...g, grant: { ...g.grant, expires_at: '2027-11-24T00:00:00.000Z' } };
    expect(verifyGrant(longer, trustedKeys).ok).toBe(false);
  });

  it('rejects a grant signed by an untrusted key', async () => {
    const g = await signGrant(body(), untrusted);
    expect(verifyGrant(g, trustedKeys)).toEqual({ ok: false, reason: `grant g1 is signed by key ${untrusted.keyid}, which is not a trusted grant key` });
    // Claiming a trusted keyid does not help.
    expect(verifyGrant({ ...g, keyid: signer.keyid }, trustedKeys)).toMatchObject({ ok: false, reason: expect.stringMatching(/invalid signature/) });
  });

  it('rejects expires_at <= not_before at signing', async () => {
    await expect(signGrant(body({ expires_at: '2026-11-23T00:00:00.000Z' }), signer)).rejects.toThrow(
      /grant: expires_at: expected a time after not_before/,
    );
    await expect(signGrant(body({ expires_at: '2026-11-22T00:00:00.000Z' }), signer)).rejects.toThrow(SchemaError);
  });

  it('rejects break-glass grants longer than 4h at signing, accepts exactly 4h', async () => {
    await expect(
      signGrant(body({ break_glass: true, not_before: '2026-11-23T12:00:00.000Z', expires_at: '2026-11-23T16:00:00.001Z' }), signer),
    ).rejects.toThrow(/expected a break-glass grant to last at most 4h/);
    const ok = await signGrant(body({ break_glass: true, not_before: '2026-11-23T12:00:00.000Z', expires_at: '2026-11-23T16:00:00.000Z' }), signer);
    expect(ok.grant.break_glass).toBe(true);
  });

  it('rejects a long break-glass grant that was signed by hand (bypassing signGrant)', async () => {
    const long: GrantBody = { ...(await signGrant(body(), signer)).grant, break_glass: true };
    const { canonicalJson } = await import('../../src/core/canonical.js');
    const sig = await signer.sign(new TextEncoder().encode(canonicalJson(long)));
    const g: Grant = { grant: long, keyid: signer.keyid, signature: Buffer.from(sig).toString('base64') };
    expect(verifyGrant(g, trustedKeys)).toMatchObject({ ok: false, reason: expect.stringMatching(/break-glass grant to last at most 4h/) });
  });

  it('rejects target patterns with * anywhere but the end', async () => {
    await expect(signGrant(body({ targets: ['DEPLOY_*_TOKEN'] }), signer)).rejects.toThrow(/grant: targets\[0\]: expected '\*' only at the end/);
  });

  it('rejects schema errors with the field path', async () => {
    await expect(signGrant(body({ repository: 'acme' }), signer)).rejects.toThrow(/grant: repository: expected "owner\/name" or "owner\/\*"/);
    await expect(signGrant(body({ actions: ['NOOP'] as never }), signer)).rejects.toThrow(/grant: actions\[0\]: expected one of/);
  });
});

describe('authorize: scope', () => {
  it('allows an exactly matching grant and explains it', async () => {
    const g = await signGrant(body(), signer);
    const r = authorize(request([g]));
    expect(r).toEqual({
      allowed: true,
      grant: g.grant,
      breakGlass: false,
      reason: 'grant g1 issued by alice covers CREATE_SECRET on acme/api environment prod target DEPLOY_TOKEN until 2026-11-24T00:00:00.000Z',
    });
  });

  it('denies with "no grant covers ..." when nothing is in scope', () => {
    expect(authorize(request([]))).toEqual({
      allowed: false,
      grant: null,
      breakGlass: false,
      reason: 'no grant covers CREATE_SECRET on acme/api environment prod target DEPLOY_TOKEN',
    });
  });

  it('repository: exact or owner/*, never another owner', async () => {
    expect(await allowedWith({ repository: 'acme/web' })).toBe(false);
    expect(await allowedWith({ repository: 'acme/*' })).toBe(true);
    expect(await allowedWith({ repository: 'evil/*' })).toBe(false);
    expect(await allowedWith({ repository: 'acme/*' }, { repository: 'acmecorp/api' })).toBe(false);
    expect(await allowedWith({ repository: 'ACME/Api' })).toBe(true); // GitHub names are case-insensitive
  });

  it('action: only the listed actions', async () => {
    expect(await allowedWith({ actions: ['RERUN'] })).toBe(false);
    expect(await allowedWith({ actions: ['RERUN', 'CREATE_SECRET'] })).toBe(true);
    expect(await allowedWith({}, { action: 'NOOP' })).toBe(false);
  });

  it("environment: ['*'] any, [] only runs without environment, names exactly", async () => {
    expect(await allowedWith({ environments: ['staging'] })).toBe(false);
    expect(await allowedWith({ environments: ['staging', 'prod'] })).toBe(true);
    expect(await allowedWith({ environments: ['Prod'] })).toBe(false);
    expect(await allowedWith({ environments: ['*'] })).toBe(true);
    expect(await allowedWith({ environments: ['*'] }, { environment: undefined })).toBe(true);
    expect(await allowedWith({ environments: [] })).toBe(false);
    expect(await allowedWith({ environments: [] }, { environment: undefined })).toBe(true);
    expect(await allowedWith({ environments: ['prod'] }, { environment: undefined })).toBe(false);
  });

  it("target: exact, '*' suffix wildcard, '*' for anything", async () => {
    expect(await allowedWith({ targets: ['DEPLOY_TOKEN_2'] })).toBe(false);
    expect(await allowedWith({ targets: ['DEPLOY_*'] })).toBe(true);
    expect(await allowedWith({ targets: ['DEPLOY_TOKEN*'] })).toBe(true);
    expect(await allowedWith({ targets: ['NPM_*'] })).toBe(false);
    expect(await allowedWith({ targets: ['deploy_*'] })).toBe(false);
    expect(await allowedWith({ targets: ['*'] })).toBe(true);
    // An action without a target is only covered by '*'.
    expect(await allowedWith({ actions: ['RERUN'], targets: ['DEPLOY_*'] }, { action: 'RERUN', target: undefined })).toBe(false);
    expect(await allowedWith({ actions: ['RERUN'], targets: ['*'] }, { action: 'RERUN', target: undefined })).toBe(true);
  });

  it('names near misses precisely and stays silent about grants out of scope', async () => {
    const expired = await signGrant(body({ id: 'g1', expires_at: '2026-11-23T11:00:00.000Z' }), signer);
    const other = await signGrant(body({ id: 'g2', repository: 'acme/web' }), signer);
    const r = authorize(request([expired, other]));
    expect(r.reason).toBe(
      'no grant covers CREATE_SECRET on acme/api environment prod target DEPLOY_TOKEN: grant g1 expired at 2026-11-23T11:00:00.000Z',
    );
  });
});

describe('authorize: time, revocation, uses', () => {
  it('expires exactly at expires_at; allowed 1 ms before', async () => {
    const g = await signGrant(body(), signer);
    const end = new Date('2026-11-24T00:00:00.000Z');
    expect(authorize(request([g], { now: new Date(end.getTime() - 1) })).allowed).toBe(true);
    const at = authorize(request([g], { now: end }));
    expect(at.allowed).toBe(false);
    expect(at.reason).toMatch(/grant g1 expired at 2026-11-24T00:00:00.000Z$/);
  });

  it('is valid from not_before exactly; denied 1 ms before', async () => {
    const g = await signGrant(body(), signer);
    const start = new Date('2026-11-23T00:00:00.000Z');
    expect(authorize(request([g], { now: start })).allowed).toBe(true);
    const before = authorize(request([g], { now: new Date(start.getTime() - 1) }));
    expect(before.allowed).toBe(false);
    expect(before.reason).toMatch(/grant g1 is not valid before 2026-11-23T00:00:00.000Z$/);
  });

  it('compares instants, not strings, across time zone offsets', async () => {
    const g = await signGrant(body({ expires_at: '2026-11-23T13:00:00.000+02:00' }), signer); // 11:00Z
    expect(authorize(request([g])).reason).toMatch(/expired at 2026-11-23T13:00:00.000\+02:00/);
  });

  it('denies a revoked grant', async () => {
    const g = await signGrant(body(), signer);
    const r = authorize(request([g], { revokedIds: ['g1'] }));
    expect(r).toMatchObject({ allowed: false, reason: expect.stringMatching(/grant g1 was revoked$/) });
  });

  it('counts max_uses', async () => {
    const g = await signGrant(body({ max_uses: 2 }), signer);
    expect(authorize(request([g], { uses: { g1: 1 } }))).toMatchObject({ allowed: true, reason: expect.stringMatching(/use 2 of 2/) });
    expect(authorize(request([g], { uses: { g1: 2 } }))).toMatchObject({ allowed: false, reason: expect.stringMatching(/grant g1 is used up \(2 of 2 uses\)/) });
  });
});

describe('authorize: signatures', () => {
  it('denies a tampered grant even when it would cover the request', async () => {
    const g = await signGrant(body({ environments: ['staging'] }), signer);
    const tampered: Grant = { ...g, grant: { ...g.grant, environments: ['prod'] } };
    const r = authorize(request([tampered]));
    expect(r.allowed).toBe(false);
    expect(r.reason).toMatch(/grant g1 has an invalid signature/);
  });

  it('denies a grant from an untrusted key', async () => {
    const g = await signGrant(body(), untrusted);
    expect(authorize(request([g]))).toMatchObject({ allowed: false, reason: expect.stringMatching(/not a trusted grant key/) });
  });

  it('ignores malformed entries safely', () => {
    const r = authorize(request([{ nonsense: true } as unknown as Grant, null as unknown as Grant]));
    expect(r.allowed).toBe(false);
  });
});

describe('authorize: halt and break-glass', () => {
  it('a halted Governor refuses ordinary grants', async () => {
    const g = await signGrant(body(), signer);
    const r = authorize(request([g], { halted: true }));
    expect(r).toMatchObject({ allowed: false, breakGlass: false });
    expect(r.reason).toBe(
      'the Governor is halted and no usable break-glass grant covers CREATE_SECRET on acme/api environment prod target DEPLOY_TOKEN: ' +
        'grant g1 is not break-glass, and the Governor is halted (only a break-glass grant overrides a halt)',
    );
  });

  it('a break-glass grant overrides a halt', async () => {
    const ordinary = await signGrant(body(), signer);
    const glass = await signGrant(
      body({ id: 'bg', break_glass: true, not_before: '2026-11-23T11:00:00.000Z', expires_at: '2026-11-23T15:00:00.000Z' }),
      signer,
    );
    const r = authorize(request([ordinary, glass], { halted: true }));
    expect(r).toMatchObject({ allowed: true, breakGlass: true, grant: { id: 'bg' } });
    expect(r.reason).toMatch(/break-glass override of the halted Governor/);
  });

  it('outside a halt, an ordinary grant is preferred over a break-glass one', async () => {
    const ordinary = await signGrant(body({ id: 'z-ordinary' }), signer);
    const glass = await signGrant(
      body({ id: 'a-glass', break_glass: true, not_before: '2026-11-23T11:00:00.000Z', expires_at: '2026-11-23T15:00:00.000Z' }),
      signer,
    );
    expect(authorize(request([glass, ordinary]))).toMatchObject({ allowed: true, breakGlass: false, grant: { id: 'z-ordinary' } });
    expect(authorize(request([glass]))).toMatchObject({ allowed: true, breakGlass: true });
  });
});

describe('authorize: narrowest grant wins', () => {
  it('prefers exact repository, environment and target over wildcards', async () => {
    const broad = await signGrant(body({ id: 'broad', repository: 'acme/*', environments: ['*'], targets: ['*'] }), signer);
    const prefix = await signGrant(body({ id: 'prefix', targets: ['DEPLOY_*'] }), signer);
    const longerPrefix = await signGrant(body({ id: 'longer', targets: ['DEPLOY_T*'] }), signer);
    const exact = await signGrant(body({ id: 'exact' }), signer);
    expect(authorize(request([broad, prefix, longerPrefix, exact])).grant?.id).toBe('exact');
    expect(authorize(request([broad, prefix, longerPrefix])).grant?.id).toBe('longer');
    expect(authorize(request([broad, prefix])).grant?.id).toBe('prefix');
    const anyEnv = await signGrant(body({ id: 'any-env', environments: ['*'] }), signer);
    expect(authorize(request([anyEnv, exact])).grant?.id).toBe('exact');
    const repoWide = await signGrant(body({ id: 'repo-wide', repository: 'acme/*' }), signer);
    expect(authorize(request([repoWide, exact])).grant?.id).toBe('exact');
  });

  it('prefers fewer actions, then limited uses; ties break by id', async () => {
    const many = await signGrant(body({ id: 'many', actions: ['CREATE_SECRET', 'RERUN'] }), signer);
    const one = await signGrant(body({ id: 'one' }), signer);
    expect(authorize(request([many, one])).grant?.id).toBe('one');
    const limited = await signGrant(body({ id: 'limited', max_uses: 3 }), signer);
    expect(authorize(request([one, limited])).grant?.id).toBe('limited');
    const twin = await signGrant(body({ id: 'a-twin' }), signer);
    expect(authorize(request([one, twin])).grant?.id).toBe('a-twin');
  });

  it('falls through to a wider grant when the narrow one is unusable', async () => {
    const exact = await signGrant(body({ id: 'exact' }), signer);
    const broad = await signGrant(body({ id: 'broad', targets: ['*'] }), signer);
    expect(authorize(request([exact, broad], { revokedIds: ['exact'] })).grant?.id).toBe('broad');
  });
});

describe('parseGrantFile', () => {
  it('accepts an array or a single grant', async () => {
    const g1 = await signGrant(body(), signer);
    const g2 = await signGrant(body({ id: 'g2' }), signer);
    expect(parseGrantFile(JSON.stringify([g1, g2]), 'grants.json')).toEqual([g1, g2]);
    expect(parseGrantFile(JSON.stringify(g1), 'grant.json')).toEqual([g1]);
  });

  it('names the file, the path and the expectation', async () => {
    const g1 = await signGrant(body(), signer);
    const bad = [g1, { ...g1, grant: { ...g1.grant, actions: ['DANCE'], expires_at: 'tomorrow' } }];
    let error: unknown;
    try {
      parseGrantFile(JSON.stringify(bad), '.github/bridge-grants.json');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SchemaError);
    const message = (error as Error).message;
    expect(message).toMatch(/^\.github\/bridge-grants\.json: \[1\]\.grant\.actions\[0\]: expected one of CREATE_SECRET\|/m);
    expect(message).toMatch(/^\.github\/bridge-grants\.json: \[1\]\.grant\.expires_at: /m);
  });

  it('reports unknown keys, a missing signature, bad windows and invalid JSON', async () => {
    const g1 = await signGrant(body(), signer);
    expect(() => parseGrantFile(JSON.stringify({ grant: g1.grant, keyid: g1.keyid }), 'g.json')).toThrow(/^g\.json: signature: expected string/);
    expect(() => parseGrantFile(JSON.stringify({ ...g1, extra: 1 }), 'g.json')).toThrow('g.json: (root): unknown key(s) extra');
    const backwards = { ...g1, grant: { ...g1.grant, expires_at: '2026-11-22T00:00:00.000Z' } };
    expect(() => parseGrantFile(JSON.stringify(backwards), 'g.json')).toThrow(/g\.json: grant\.expires_at: expected a time after not_before/);
    expect(() => parseGrantFile('{ nope', 'g.json')).toThrow(/^g\.json: \(root\): expected JSON/);
  });
});

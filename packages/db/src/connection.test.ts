import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionSettingsFromUrl, DatabaseUrlError, parseDatabaseUrl } from './connection.ts';
import { startEmbeddedPostgres, type RunningPostgres } from './embedded-postgres.ts';
import { createOrm } from './orm.ts';

describe('parseDatabaseUrl', () => {
  it('accepts postgres:// and postgresql:// alike, with libpq defaults', () => {
    for (const scheme of ['postgres', 'postgresql']) {
      expect(parseDatabaseUrl(`${scheme}://db.internal/app`)).toMatchObject({
        host: 'db.internal',
        port: 5432,
        user: 'postgres',
        password: undefined,
        dbName: 'app',
        ssl: false,
      });
    }
  });

  it('decodes percent-encoded credentials and database names', () => {
    const parsed = parseDatabaseUrl('postgresql://app%40team:p%40ss%2Fw0rd@[::1]:6543/my%20db');
    expect(parsed).toMatchObject({ host: '::1', port: 6543, user: 'app@team', password: 'p@ss/w0rd', dbName: 'my db' });
  });

  it('gives sslmode its libpq meaning (require encrypts; verify-* also checks the certificate)', () => {
    expect(parseDatabaseUrl('postgres://h/db?sslmode=disable').ssl).toBe(false);
    expect(parseDatabaseUrl('postgres://h/db?sslmode=prefer').ssl).toBe(false);
    expect(parseDatabaseUrl('postgres://h/db?sslmode=require').ssl).toEqual({ rejectUnauthorized: false });
    expect(parseDatabaseUrl('postgres://h/db?sslmode=verify-full').ssl).toEqual({ rejectUnauthorized: true });
    const verifyCa = parseDatabaseUrl('postgres://h/db?sslmode=verify-ca', { sslCa: '-----BEGIN CERTIFICATE-----x' });
    expect(verifyCa.ssl).toMatchObject({ ca: '-----BEGIN CERTIFICATE-----x', rejectUnauthorized: true });
    // With a root certificate, libpq's `require` verifies the chain too.
    expect(
      parseDatabaseUrl('postgres://h/db?sslmode=require', { sslCa: '-----BEGIN CERTIFICATE-----x' }).ssl,
    ).toMatchObject({
      rejectUnauthorized: true,
    });
  });

  it('ignores libpq-only parameters such as channel_binding instead of failing', () => {
    expect(
      parseDatabaseUrl('postgresql://u:p@ep-x.neon.tech/neondb?sslmode=require&channel_binding=require'),
    ).toMatchObject({
      host: 'ep-x.neon.tech',
      dbName: 'neondb',
      ssl: { rejectUnauthorized: false },
    });
  });

  it('rejects other schemes and unknown sslmodes with a message naming the problem', () => {
    expect(() => parseDatabaseUrl('mysql://h/db')).toThrow(DatabaseUrlError);
    expect(() => parseDatabaseUrl('postgres://h/db?sslmode=sometimes')).toThrow(/unknown sslmode "sometimes"/);
  });

  it('uses the application name from the URL when given', () => {
    expect(parseDatabaseUrl('postgres://h/db?application_name=ops').applicationName).toBe('ops');
    expect(connectionSettingsFromUrl('postgres://h/db', 'threadstore-api').applicationName).toBe('threadstore-api');
  });
});

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/**
 * Managed PostgreSQL (Neon, Supabase, RDS) is reached over TLS with `?sslmode=require`. This
 * starts a real server with TLS on, under a self-signed certificate, and connects through the
 * same code path the apps use.
 */
describe.skipIf(!hasOpenssl)('TLS connections to a real server', () => {
  let dir: string;
  let server: RunningPostgres;
  let cert: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'threadstore-tls-'));
    chmodSync(dir, 0o755);
    cert = join(dir, 'server.crt');
    const key = join(dir, 'server.key');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    chmodSync(key, 0o600);
    if (process.getuid?.() === 0) {
      // PostgreSQL runs as `postgres` here and insists on owning its private key.
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
      chownSync(key, uid, -1);
    }
    server = await startEmbeddedPostgres({
      dataDir: join(dir, 'data'),
      port: 0,
      postgresFlags: ['-c', 'ssl=on', '-c', `ssl_cert_file=${cert}`, '-c', `ssl_key_file=${key}`],
    });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function sslInUse(url: string, sslCa?: string): Promise<boolean> {
    const settings = connectionSettingsFromUrl(url);
    if (sslCa) settings.ssl = parseDatabaseUrl(url, { sslCa }).ssl;
    const orm = await createOrm({ connection: settings });
    try {
      const [row] = await orm.em
        .getConnection()
        .execute<{ ssl: boolean }[]>('select ssl from pg_stat_ssl where pid = pg_backend_pid()');
      return row!.ssl;
    } finally {
      await orm.close();
    }
  }

  it('encrypts with sslmode=require without needing the CA', async () => {
    expect(await sslInUse(`${server.url}?sslmode=require`)).toBe(true);
  });

  it('verifies the certificate with sslmode=verify-full and the CA given', async () => {
    expect(await sslInUse(`${server.url}?sslmode=verify-full`, cert)).toBe(true);
  });

  it('refuses an unverifiable certificate under verify-full', async () => {
    await expect(sslInUse(`${server.url}?sslmode=verify-full`)).rejects.toThrow(/self[- ]signed|certificate/i);
  });

  it('stays in plain TCP with sslmode=disable', async () => {
    expect(await sslInUse(`${server.url}?sslmode=disable`)).toBe(false);
  });
});

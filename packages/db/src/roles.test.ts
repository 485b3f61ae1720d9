import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PgBoss } from 'pg-boss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionSettingsFromUrl } from './connection.ts';
import { createOrm, getMigrationStatus } from './orm.ts';
import { setUpRoles, urlForRole, type RoleNames, type RoleSetup } from './roles.ts';
import { useTestDatabase } from './testing/index.ts';

// Roles are cluster-wide and the CI server is shared: names of this run's own.
const suffix = randomBytes(4).toString('hex');
const roles: RoleNames = { owner: `ts_owner_${suffix}`, api: `ts_api_${suffix}`, worker: `ts_worker_${suffix}` };
const PASSWORD = 'role-test-password';
const QUEUE_SCHEMA = `pgboss_roles_${suffix}`;

async function as<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** The SQLSTATE a statement fails with, or 'ok'. */
async function outcome(url: string, sql: string): Promise<string> {
  return as(url, (client) => client.query(sql)).then(
    () => 'ok',
    (error: { code?: string }) => error.code ?? 'unknown',
  );
}

const INSUFFICIENT_PRIVILEGE = '42501';

describe('database roles', () => {
  const testDb = useTestDatabase();
  let setup: RoleSetup;
  const url = (role: keyof RoleNames) => urlForRole(testDb.db.url, roles[role], PASSWORD);

  beforeAll(async () => {
    // What the template was migrated with: a superuser. Another schema holds someone else's data.
    await as(testDb.db.url, async (admin) => {
      await admin.query(`create schema other_app`);
      await admin.query(`create table other_app.secrets (value text)`);
      await admin.query(`insert into other_app.secrets values ('not yours')`);
    });
    setup = await setUpRoles({
      adminUrl: testDb.db.url,
      roles,
      passwords: { owner: PASSWORD, api: PASSWORD, worker: PASSWORD },
      queueSchema: QUEUE_SCHEMA,
    });
    // Twice: a second run on a set-up database changes nothing and does not fail.
    await setUpRoles({ adminUrl: testDb.db.url, roles, queueSchema: QUEUE_SCHEMA });
  });

  afterAll(async () => {
    if (testDb.db === undefined) return;
    await as(testDb.db.url, async (admin) => {
      const list = Object.values(roles)
        .map((role) => admin.escapeIdentifier(role))
        .join(', ');
      await admin.query(`reassign owned by ${list} to current_user`);
      // One at a time: in one statement, a default ACL of one role that names another is dropped twice.
      for (const role of Object.values(roles)) await admin.query(`drop owned by ${admin.escapeIdentifier(role)}`);
    });
    // The database is dropped after this, with nothing of these roles left in it.
    await as(testDb.db.url, async (admin) => {
      for (const role of Object.values(roles)) await admin.query(`drop role ${admin.escapeIdentifier(role)}`);
    });
  });

  it('hands the data model to the owner', async () => {
    const owners = await as(testDb.db.url, (admin) =>
      admin.query<{ owner: string }>(
        `select distinct pg_get_userbyid(relowner) as owner from pg_class
          where relnamespace = 'public'::regnamespace and relkind in ('r', 'p')`,
      ),
    );
    expect(owners.rows).toEqual([{ owner: roles.owner }]);
  });

  it('lets the API role read and write rows, and check the migrations', async () => {
    expect(await outcome(url('api'), `select count(*) from chat_sessions`)).toBe('ok');
    expect(
      await outcome(url('api'), `insert into users (id, issuer, subject) values (gen_random_uuid(), 'roles', 'a')`),
    ).toBe('ok');
    const orm = await createOrm({ connection: connectionSettingsFromUrl(url('api')) });
    try {
      expect((await getMigrationStatus(orm)).pending).toEqual([]);
    } finally {
      await orm.close();
    }
  });

  it('refuses the API role any DDL and any other schema', async () => {
    for (const sql of [
      `create table api_made (id int)`,
      `create table public.api_made (id int)`,
      `alter table chat_sessions add column sneaky int`,
      `drop table chat_messages`,
      `truncate audit_log`,
      `create schema api_schema`,
      `create index on chat_messages (content)`,
      `select * from other_app.secrets`,
    ]) {
      expect({ sql, code: await outcome(url('api'), sql) }).toEqual({ sql, code: INSUFFICIENT_PRIVILEGE });
    }
  });

  it('covers tables the owner creates later (a migration after setup), without running setup again', async () => {
    expect(
      await outcome(url('owner'), `create table later_table (id int primary key generated always as identity, v text)`),
    ).toBe('ok');
    expect(await outcome(url('api'), `insert into later_table (v) values ('x')`)).toBe('ok');
    expect(await outcome(url('worker'), `delete from later_table`)).toBe('ok');
    expect(await outcome(url('api'), `drop table later_table`)).toBe(INSUFFICIENT_PRIVILEGE);
  });

  it('lets the worker VACUUM and read every statistics view', async () => {
    const warnings: string[] = [];
    await as(url('worker'), async (client) => {
      client.on('notice', (notice) => warnings.push(notice.message ?? ''));
      // A non-owner's VACUUM is not an error: PostgreSQL skips the table with a warning.
      await client.query(`vacuum (analyze) chat_messages`);
      const stats = await client.query<{ allowed: boolean }>(
        `select pg_has_role(current_user, 'pg_read_all_stats', 'usage') as allowed`,
      );
      expect(stats.rows[0]!.allowed).toBe(true);
    });
    expect(warnings).toEqual([]);
    expect(setup.vacuumVia).toBe(setup.serverMajor >= 17 ? 'pg_maintain' : 'owner membership');
    // Only where pg_maintain exists is the worker kept out of DDL.
    expect(await outcome(url('worker'), `create table worker_made (id int)`)).toBe(
      setup.serverMajor >= 17 ? INSUFFICIENT_PRIVILEGE : 'ok',
    );
    expect(await outcome(url('worker'), `select * from other_app.secrets`)).toBe(INSUFFICIENT_PRIVILEGE);
    // Retention sets it for its own transactions; the API may not.
    expect(await outcome(url('worker'), `set wal_compression = pglz`)).toBe('ok');
    expect(await outcome(url('api'), `set wal_compression = pglz`)).toBe(INSUFFICIENT_PRIVILEGE);
  });

  it('lets the worker run pg-boss in its schema and the API send jobs there, with no DDL', async () => {
    const worker = new PgBoss({
      connectionString: url('worker'),
      schema: QUEUE_SCHEMA,
      supervise: false,
      schedule: false,
    });
    await worker.start();
    await worker.createQueue('roles-test');
    await worker.schedule('roles-test', '0 3 * * *', {}, { tz: 'UTC' });
    await worker.stop({ graceful: false, close: true });

    const api = new PgBoss({
      connectionString: url('api'),
      schema: QUEUE_SCHEMA,
      supervise: false,
      schedule: false,
      migrate: false,
    });
    await api.start();
    try {
      expect(await api.send('roles-test', { n: 1 })).toMatch(/^[0-9a-f-]{36}$/);
      expect((await api.getSchedules()).map((schedule) => schedule.name)).toEqual(['roles-test']);
    } finally {
      await api.stop({ graceful: false, close: true });
    }
    expect(await outcome(url('api'), `create table ${QUEUE_SCHEMA}.api_made (id int)`)).toBe(INSUFFICIENT_PRIVILEGE);
  });
});

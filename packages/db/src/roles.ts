import pg from 'pg';

/**
 * Least-privilege roles for one Threadstore database. Every statement that grants or revokes
 * lives here, so what each role may do is read in one place.
 *
 *  - owner: owns the data model's schema (`public`) and everything in it; the migration step
 *    connects as it. The only role that runs DDL on the data model.
 *  - api: reads and writes rows of the data model, sends jobs (rows of the pg-boss schema). No
 *    CREATE anywhere, no ownership, no other schema.
 *  - worker: reads and writes rows of the data model; owns the pg-boss schema, because pg-boss
 *    migrates and maintains its own tables (index builds, REINDEX CONCURRENTLY of bloated job
 *    indexes), which PostgreSQL only lets an owner do; reads every statistics view
 *    (pg_read_all_stats: other sessions' queries in pg_stat_activity, pg_stat_statements); and may
 *    VACUUM and ANALYZE the data model:
 *      PostgreSQL 17+: through the predefined role pg_maintain (VACUUM, ANALYZE, REINDEX, CLUSTER,
 *        REFRESH MATERIALIZED VIEW, LOCK TABLE on every relation) and nothing else;
 *      PostgreSQL 15/16: VACUUM needs the table's owner (a non-owner's VACUUM is skipped with a
 *        warning), so the worker is made a member of the owner role, which also lets it run DDL.
 *        That is the price of VACUUM on those versions; upgrade to 17 to drop it.
 *
 * Safe to run again at any time (each step checks or is idempotent), and it must be run again
 * when a table was created by another role than the owner: the default privileges below only
 * cover tables the owner creates (every migration does).
 */
export interface RoleNames {
  owner: string;
  api: string;
  worker: string;
}

export const DEFAULT_ROLE_NAMES: RoleNames = {
  owner: 'threadstore_owner',
  api: 'threadstore_api',
  worker: 'threadstore_worker',
};

export interface SetUpRolesOptions {
  /** A superuser (or a role with CREATEROLE that owns the database) connected to the target database. */
  adminUrl: string;
  roles?: RoleNames;
  /** Passwords to set; a role whose password is not given keeps its current one. */
  passwords?: Partial<Record<keyof RoleNames, string>>;
  /** The pg-boss schema (PGBOSS_SCHEMA). */
  queueSchema?: string;
}

export interface RoleSetup {
  serverMajor: number;
  /** How the worker may VACUUM on this server. */
  vacuumVia: 'pg_maintain' | 'owner membership';
}

export async function setUpRoles({
  adminUrl,
  roles = DEFAULT_ROLE_NAMES,
  passwords = {},
  queueSchema = 'pgboss',
}: SetUpRolesOptions): Promise<RoleSetup> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const id = (name: string) => client.escapeIdentifier(name);
    const { owner, api, worker } = { owner: id(roles.owner), api: id(roles.api), worker: id(roles.worker) };
    const queue = id(queueSchema);
    const { rows } = await client.query<{ major: number; db: string }>(
      `select current_setting('server_version_num')::int / 10000 as major, current_database() as db`,
    );
    const { major, db } = rows[0]!;
    const database = id(db);
    const run = (sql: string) => client.query(sql);

    for (const key of ['owner', 'api', 'worker'] as const) {
      const name = roles[key];
      const exists = await client.query('select 1 from pg_roles where rolname = $1', [name]);
      // NOINHERIT would block the owner membership below; the other attributes are the defaults spelled out.
      if (exists.rowCount === 0) await run(`create role ${id(name)} login nosuperuser nocreatedb nocreaterole`);
      const password = passwords[key];
      // DDL takes no bind parameters; escapeLiteral quotes the password safely.
      if (password !== undefined) await run(`alter role ${id(name)} with password ${client.escapeLiteral(password)}`);
    }

    await run(`grant connect on database ${database} to ${owner}, ${api}, ${worker}`);
    // The owner creates the data model; the worker only pg-boss's schema (pg-boss's own
    // `create schema if not exists` needs this even though the schema is created below).
    await run(`grant create on database ${database} to ${owner}, ${worker}`);

    // The data model: owned by the owner, nobody else may create in it.
    await run(`alter schema public owner to ${owner}`);
    await run(`revoke create on schema public from public`);
    await reassignSchemaObjects(client, 'public', roles.owner);

    // pg-boss's schema: the worker's.
    await run(`create schema if not exists ${queue} authorization ${worker}`);
    await run(`alter schema ${queue} owner to ${worker}`);
    await reassignSchemaObjects(client, queueSchema, roles.worker);

    // Row access to the data model for both apps, now and for every table the owner creates later.
    for (const grantee of [api, worker]) {
      await run(`grant usage on schema public to ${grantee}`);
      await run(`grant select, insert, update, delete on all tables in schema public to ${grantee}`);
      await run(`grant usage, select on all sequences in schema public to ${grantee}`);
      await run(
        `alter default privileges for role ${owner} in schema public grant select, insert, update, delete on tables to ${grantee}`,
      );
      await run(
        `alter default privileges for role ${owner} in schema public grant usage, select on sequences to ${grantee}`,
      );
    }

    // The API sends jobs and reads schedules and queues: rows of pg-boss's tables, no DDL. DELETE
    // too, because every pg-boss instance, a send-only one included, registers itself in
    // `instance` and removes its row when it stops.
    await run(`grant usage on schema ${queue} to ${api}`);
    await run(`grant select, insert, update, delete on all tables in schema ${queue} to ${api}`);
    await run(`grant usage, select on all sequences in schema ${queue} to ${api}`);
    await run(
      `alter default privileges for role ${worker} in schema ${queue} grant select, insert, update, delete on tables to ${api}`,
    );
    await run(
      `alter default privileges for role ${worker} in schema ${queue} grant usage, select on sequences to ${api}`,
    );

    // The worker's statistics and VACUUM (see the comment at the top for 15/16 against 17+).
    await run(`grant pg_read_all_stats to ${worker}`);
    let vacuumVia: RoleSetup['vacuumVia'];
    if (major >= 17) {
      await run(`grant pg_maintain to ${worker}`);
      // A server upgraded from 16 keeps the broader membership unless it is taken away.
      await revokeMembership(client, roles.owner, roles.worker);
      vacuumVia = 'pg_maintain';
    } else {
      await run(`grant ${owner} to ${worker}`);
      vacuumVia = 'owner membership';
    }
    // Retention compresses the WAL of its own batches (lz4 or zstd, where the server has them);
    // wal_compression is a superuser setting unless granted (GRANT SET ON PARAMETER, 15+).
    await run(`grant set on parameter wal_compression to ${worker}`);
    return { serverMajor: major, vacuumVia };
  } finally {
    await client.end();
  }
}

/**
 * Hands every table, view, sequence and routine of a schema to `owner`: a database first migrated
 * as the superuser (every install before roles existed) becomes the owner's. Sequences that
 * belong to a table move with it (changing them directly is refused).
 */
async function reassignSchemaObjects(client: pg.Client, schema: string, owner: string): Promise<void> {
  const relations = await client.query<{ name: string; kind: string }>(
    `select c.relname as name, c.relkind as kind
       from pg_class c
      where c.relnamespace = to_regnamespace($1)
        and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
        and c.relowner <> to_regrole($2)
        and not (c.relkind = 'S' and exists (select 1 from pg_depend d
                                              where d.classid = 'pg_class'::regclass and d.objid = c.oid
                                                and d.deptype in ('a', 'i')))
        and not c.relispartition`,
    [schema, owner],
  );
  for (const { name, kind } of relations.rows) {
    const what = kind === 'S' ? 'sequence' : kind === 'v' ? 'view' : kind === 'm' ? 'materialized view' : 'table';
    const target = `${client.escapeIdentifier(schema)}.${client.escapeIdentifier(name)}`;
    await client.query(`alter ${what} ${target} owner to ${client.escapeIdentifier(owner)}`);
  }
  const routines = await client.query<{ signature: string }>(
    `select p.oid::regprocedure::text as signature
       from pg_proc p
      where p.pronamespace = to_regnamespace($1) and p.proowner <> to_regrole($2)`,
    [schema, owner],
  );
  for (const { signature } of routines.rows) {
    // regprocedure's text is already a quoted, schema-qualified signature.
    await client.query(`alter routine ${signature} owner to ${client.escapeIdentifier(owner)}`);
  }
}

async function revokeMembership(client: pg.Client, role: string, member: string): Promise<void> {
  const { rowCount } = await client.query(
    `select 1 from pg_auth_members where roleid = to_regrole($1) and member = to_regrole($2)`,
    [role, member],
  );
  if (rowCount) await client.query(`revoke ${client.escapeIdentifier(role)} from ${client.escapeIdentifier(member)}`);
}

/** A URL for `role` on the same server and database as `url`. */
export function urlForRole(url: string, role: string, password: string): string {
  const parsed = new URL(url);
  parsed.username = encodeURIComponent(role);
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}

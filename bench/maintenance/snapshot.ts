import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';

/**
 * The seeded data set is kept as a template database, and every measured run gets a fresh file
 * copy of it (CREATE DATABASE … STRATEGY FILE_COPY): each retention run starts from the very same
 * pages, and a copy takes seconds where re-inserting a million messages (their tsvectors and
 * index entries) takes minutes. The template is kept on the embedded server between invocations
 * and reused while its fingerprint matches (same shape and seeding code).
 */
/**
 * The data's ages are relative to when it was seeded: in a week, sessions seeded as active 20
 * days ago are past the 30-day anonymous policy. Older templates are seeded again.
 */
const MAX_TEMPLATE_AGE_MS = 7 * 24 * 3_600_000;

interface Stored<Report> {
  fingerprint: string;
  seededAt: string;
  report: Report;
}

export class Snapshots {
  readonly #adminUrl: string;
  readonly #work: string;
  readonly #template: string;

  /** `kind` names the data set (full, quick), so each keeps its own template. */
  constructor(workUrl: string, kind: string) {
    const url = new URL(workUrl);
    this.#work = url.pathname.slice(1);
    this.#template = `${this.#work}_seeded_${kind}`;
    url.pathname = '/postgres';
    this.#adminUrl = url.toString();
  }

  /**
   * The seed report of a template matching `fingerprint`, reusing it if there is one; otherwise
   * runs `seed` on the working database (which must have no other connection when it returns)
   * and makes the template from it.
   */
  async prepare<Report>(
    fingerprint: string,
    seed: () => Promise<Report>,
  ): Promise<{ report: Report; seededAt: Date; reused: boolean }> {
    const stored = await this.#admin(async (client) => {
      const { rows } = await client.query<{ comment: string | null }>(
        `select shobj_description(oid, 'pg_database') as comment from pg_database where datname = $1`,
        [this.#template],
      );
      return rows[0]?.comment ? (JSON.parse(rows[0].comment) as Stored<Report>) : undefined;
    });
    if (stored?.fingerprint === fingerprint && Date.now() - Date.parse(stored.seededAt) < MAX_TEMPLATE_AGE_MS) {
      return { report: stored.report, seededAt: new Date(stored.seededAt), reused: true };
    }
    const report = await seed();
    const seededAt = new Date();
    await this.#admin(async (client) => {
      await client.query(`drop database if exists ${this.#template}`);
      await client.query(`create database ${this.#template} template ${this.#work} strategy file_copy`);
      const comment: Stored<Report> = { fingerprint, seededAt: seededAt.toISOString(), report };
      await client.query(`comment on database ${this.#template} is ${client.escapeLiteral(JSON.stringify(comment))}`);
    });
    return { report, seededAt, reused: false };
  }

  /** Replaces the working database by a fresh copy of the template; returns the seconds it took. */
  async restore(): Promise<number> {
    const started = performance.now();
    await this.#admin(async (client) => {
      await client.query(`drop database if exists ${this.#work} with (force)`);
      await client.query(`create database ${this.#work} template ${this.#template} strategy file_copy`);
    });
    return (performance.now() - started) / 1000;
  }

  async dropTemplate(): Promise<void> {
    await this.#admin((client) => client.query(`drop database if exists ${this.#template}`));
  }

  /** Every run starts by replacing it anyway. */
  async dropWorkingCopy(): Promise<void> {
    await this.#admin((client) => client.query(`drop database if exists ${this.#work} with (force)`));
  }

  async #admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: this.#adminUrl });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }
}

/**
 * Changes whenever what the template holds would: the shape or the seeding code. Migrations added
 * since the template was seeded are applied to each copy instead (see main.ts), so a schema
 * change such as dropping a foreign key does not cost a new seeding.
 */
export async function seedFingerprint(shape: unknown): Promise<string> {
  const hash = createHash('sha256').update(JSON.stringify(shape));
  for (const file of ['seed.ts', 'dataset.ts', join('..', 'api', 'dataset.ts')]) {
    hash.update(await readFile(join(import.meta.dirname, file)));
  }
  return hash.digest('hex');
}

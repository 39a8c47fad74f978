import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sql, type Kysely } from 'kysely';
import { FileMigrationProvider, Migrator, type MigrationResultSet } from 'kysely/migration';
import pg from 'pg';

const migrationFolder = fileURLToPath(new URL('../../migrations', import.meta.url));

/** Creates the database named in `url` if it does not exist. Returns true when it was created. */
export async function ensureDatabase(url: string, template?: string): Promise<boolean> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`refusing to create a database named ${JSON.stringify(name)}`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (found.rowCount) return false;
    try {
      await client.query(`create database "${name}"${template ? ` template "${template}"` : ''}`);
    } catch (error) {
      if ((error as { code?: string }).code === '42P04') return false; // created meanwhile by another process
      throw error;
    }
    return true;
  } finally {
    await client.end();
  }
}

export async function dropDatabase(url: string): Promise<void> {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`drop database if exists "${name}" with (force)`);
  } finally {
    await client.end();
  }
}

function migrator(db: Kysely<any>): Migrator {
  return new Migrator({
    db,
    provider: new FileMigrationProvider({
      fs,
      path,
      migrationFolder,
      import: (file: string) => import(pathToFileURL(file).href),
    }),
  });
}

/** Applies every migration not applied yet; returns their names. */
export function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  return applied(migrator(db).migrateToLatest());
}

/** Brings the schema to migration `name` (up or down): a database as an earlier release left it, for testing a migration on it. */
export function migrateTo(db: Kysely<any>, name: string): Promise<string[]> {
  return applied(migrator(db).migrateTo(name));
}

async function applied(run: Promise<MigrationResultSet>): Promise<string[]> {
  const { error, results } = await run;
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

export async function isEmpty(db: Kysely<any>): Promise<boolean> {
  const { rows } = await sql<{ n: bigint }>`select count(*) as n from players`.execute(db);
  return rows[0]?.n === 0n;
}

import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describeDatabase, withoutPassword } from '../../bootstrap/banner.ts';
import { notWritableMessage, openDatabase } from '../../bootstrap/open-database.ts';
import { configWarnings } from '../../config/warnings.ts';
import { loadConfig, type Command } from '../command.ts';

/** Settings whose values are secrets: shown as set or not, never printed. */
const SECRET_SETTING = /secret|password|privateKey|apiKey|token$|encryptionKeys?$/i;

export const configCheck: Command = {
  name: 'config check',
  summary: 'Validate the settings and the database, and print the configuration in force',
  usage: '',
  help: [
    'Reads PORTCULLIS_CONFIG (a JSON file, optional) and the environment, exactly as `start` does, then checks that',
    'the database answers and takes writes (a write is tried and rolled back; an existing database is migrated',
    'as `start` would). Exits 1 on a bad setting or a database the server could not use. Secret values are never printed.',
  ].join('\n'),
  async run(_args, io) {
    const { scopeNames: _, ...config } = loadConfig(io);
    const shown = JSON.stringify(
      config,
      // Database URLs carry a password; secret settings are only said to be set.
      (key, value: unknown) => (SECRET_SETTING.test(key) && value ? '(set)' : typeof value === 'string' ? withoutPassword(value) : value),
      2,
    );
    const database = await checkDatabase(config);
    io.out(`The configuration is valid${io.env.PORTCULLIS_CONFIG ? ` (file: ${io.env.PORTCULLIS_CONFIG})` : ''}.\n`);
    if (database.ok) io.out(`Database: ${database.message}\n`);
    io.out(`${shown}\n`);
    for (const warning of configWarnings(config)) io.err(`Warning: ${warning}\n`);
    if (!database.ok) {
      io.err(`${database.message}\n`);
      return 1;
    }
    return 0;
  },
};

/** What start would find: the database answering and taking writes, or the folder a new SQLite file goes in being writable. */
async function checkDatabase(config: Parameters<typeof openDatabase>[0]): Promise<{ ok: boolean; message: string }> {
  if (config.database === ':memory:') return { ok: true, message: describeDatabase(config.database) };
  const isFile = !/^postgres(ql)?:\/\//i.test(config.database);
  if (isFile && !existsSync(config.database)) {
    // Nothing is created by a check: the nearest existing folder must let start create the rest.
    let folder = dirname(resolve(config.database));
    while (!existsSync(folder)) folder = dirname(folder);
    try {
      accessSync(folder, constants.W_OK);
      return { ok: true, message: `${describeDatabase(config.database)} does not exist yet; start creates it.` };
    } catch {
      return { ok: false, message: `Cannot create the database ${describeDatabase(config.database)} (PORTCULLIS_DATABASE): ${folder} is not writable by this user.` };
    }
  }
  let storage;
  try {
    storage = await openDatabase(config);
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
  try {
    const problem = await storage.writeProblem();
    return problem === null ? { ok: true, message: `${describeDatabase(config.database)} answers and takes writes.` } : { ok: false, message: notWritableMessage(config.database, problem) };
  } finally {
    await storage.close();
  }
}

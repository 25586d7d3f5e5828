/**
 * Where the history database lives: `EC2_CONNECT_DB` when set, else `sessions.db` in the app-data
 * folder (`~/.config/ec2-connect` on Linux; the Electron app's userData folder is the same place).
 */
import path from 'node:path';
import { appDataDir } from '../util/app-paths.js';

export const DATABASE_FILE = 'sessions.db';

export function defaultDatabaseFile(
  env: NodeJS.ProcessEnv = process.env,
  platform = process.platform,
): string {
  if (env.EC2_CONNECT_DB) return path.resolve(env.EC2_CONNECT_DB);
  return path.join(appDataDir(env, platform), DATABASE_FILE);
}

/** The files SQLite keeps beside the database in WAL mode (and in rollback mode). */
export const SIDE_FILE_SUFFIXES = ['-wal', '-shm', '-journal'] as const;

/**
 * Where EC2 Connect keeps its local data (settings, and the session store of issue 6) when it
 * runs under plain Node (CLI, web mode). The desktop app uses Electron's userData folder,
 * which is the same place on Linux (`~/.config/ec2-connect`).
 */
import os from 'node:os';
import path from 'node:path';

export function appDataDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env.EC2_CONNECT_HOME) return path.resolve(env.EC2_CONNECT_HOME);
  const home = os.homedir();
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'ec2-connect');
  if (platform === 'win32')
    return path.join(env.APPDATA || path.join(home, 'AppData', 'Roaming'), 'ec2-connect');
  return path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), 'ec2-connect');
}

export const SETTINGS_FILE = 'settings.json';

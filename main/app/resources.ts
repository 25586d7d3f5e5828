/**
 * Where the shell's own files (window and tray icons) are: `build/` of the checkout in
 * development (app.getAppPath() is the project root), the app's resources directory
 * (process.resourcesPath, filled by electron-builder's extraResources) when packaged.
 */
import path from 'node:path';

export interface ResourceContext {
  isPackaged: boolean;
  /** app.getAppPath(). */
  appPath: string;
  /** process.resourcesPath (only meaningful when packaged). */
  resourcesPath: string;
}

export function resourcesDir(context: ResourceContext): string {
  return context.isPackaged ? context.resourcesPath : path.join(context.appPath, 'build');
}

/** The app icon for windows and notifications (Linux and Windows; macOS uses the bundle's). */
export function appIconPath(dir: string): string {
  return path.join(dir, 'icon.png');
}

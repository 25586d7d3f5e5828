/**
 * The packaging inputs of the desktop app: icons of the right sizes, tray icons made from the
 * app icon, and an electron-builder config that ships them and rebuilds the native modules.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..', '..');
const at = (...parts: string[]): string => path.join(root, ...parts);

interface Image {
  width: number;
  height: number;
  pixels: Buffer;
}
interface IconTools {
  decodePng(file: Buffer): Image;
  encodePng(image: Image): Buffer;
  downscale(image: Image, size: number): Image;
}

/** Width, height, bit depth and colour type from a PNG's IHDR. */
function pngHeader(file: string) {
  const data = readFileSync(file);
  expect(data.subarray(1, 4).toString('latin1'), file).toBe('PNG');
  expect(data.subarray(12, 16).toString('latin1'), file).toBe('IHDR');
  return {
    width: data.readUInt32BE(16),
    height: data.readUInt32BE(20),
    bitDepth: data[24],
    colorType: data[25],
  };
}

async function iconTools(): Promise<IconTools> {
  const url: string = pathToFileURL(at('build', 'make-tray-icons.mjs')).href;
  return (await import(url)) as IconTools;
}

describe('icons', () => {
  it('has an app icon of at least 512 x 512 (electron-builder derives .icns and .ico from it)', () => {
    const { width, height } = pngHeader(at('build', 'icon.png'));
    expect(width).toBe(height);
    expect(width).toBeGreaterThanOrEqual(512);
  });

  it.each([
    ['tray.png', 16],
    ['tray@2x.png', 32],
    ['tray-32.png', 32],
  ])('has the tray icon %s at %i px, RGBA', (name, size) => {
    expect(pngHeader(at('build', 'tray', name))).toEqual({
      width: size,
      height: size,
      bitDepth: 8,
      colorType: 6,
    });
  });

  it('made the tray icons from build/icon.png (rerun build/make-tray-icons.mjs after changing it)', async () => {
    const { decodePng, encodePng, downscale } = await iconTools();
    const source = decodePng(readFileSync(at('build', 'icon.png')));
    for (const [name, size] of [
      ['tray.png', 16],
      ['tray@2x.png', 32],
      ['tray-32.png', 32],
    ] as const) {
      const expected = downscale(source, size);
      const actual = decodePng(readFileSync(at('build', 'tray', name)));
      expect(actual.pixels.equals(expected.pixels), name).toBe(true);
      expect(decodePng(encodePng(expected)).pixels.equals(expected.pixels)).toBe(true);
    }
  });
});

describe('build/electron-builder.yml', () => {
  const config = readFileSync(at('build', 'electron-builder.yml'), 'utf8');

  it('builds AppImage + deb, dmg and NSIS', () => {
    expect(config).toMatch(/linux:\s*\n\s+target:\s*\n\s+- AppImage\s*\n\s+- deb/);
    expect(config).toMatch(/mac:\s*\n\s+target: dmg/);
    expect(config).toMatch(/win:\s*\n\s+target: nsis/);
  });

  it('rebuilds native modules for Electron and keeps them out of the asar', () => {
    expect(config).toMatch(/^npmRebuild: true$/m);
    expect(config).toContain("- '**/node_modules/node-pty/**'");
    expect(config).toContain("- '**/node_modules/better-sqlite3/**'");
  });

  it('ships the built app, the icon and the tray icons where main/app/resources.ts looks', () => {
    expect(config).toContain('- out/**');
    expect(config).toMatch(/^icon: build\/icon\.png$/m);
    expect(config).toMatch(/- from: build\/tray\s*\n\s+to: tray/);
    expect(config).toMatch(/- from: build\/icon\.png\s*\n\s+to: icon\.png/);
  });
});

/**
 * Terminal colours from the page's CSS variables (--terminal-bg, --terminal-fg,
 * --terminal-cursor, --terminal-selection, --ansi-0 .. --ansi-15, defined per
 * `data-theme="light|dark"` on <html>), with built-in fallbacks for any that are missing.
 */
import type { ITheme } from '@xterm/xterm';

export type ThemeMode = 'light' | 'dark';

const ANSI_KEYS = [
  'black',
  'red',
  'green',
  'yellow',
  'blue',
  'magenta',
  'cyan',
  'white',
  'brightBlack',
  'brightRed',
  'brightGreen',
  'brightYellow',
  'brightBlue',
  'brightMagenta',
  'brightCyan',
  'brightWhite',
] as const;

const FALLBACK: Record<
  ThemeMode,
  Required<Pick<ITheme, 'background' | 'foreground' | 'cursor' | 'selectionBackground'>> & { ansi: string[] }
> = {
  dark: {
    background: '#1a1b1e',
    foreground: '#e6e7ea',
    cursor: '#ff9900',
    selectionBackground: '#3e4a5c',
    ansi: [
      '#1a1b1e',
      '#f0524f',
      '#5ab56e',
      '#d9a62e',
      '#4f8fe6',
      '#b877db',
      '#2fb3c4',
      '#c7c9cf',
      '#5c6370',
      '#ff6e6b',
      '#7ad48b',
      '#f2c14e',
      '#74a9f2',
      '#d09bf0',
      '#4fd0e0',
      '#ffffff',
    ],
  },
  light: {
    background: '#ffffff',
    foreground: '#1d2026',
    cursor: '#c25e00',
    selectionBackground: '#b9d3f5',
    ansi: [
      '#1d2026',
      '#c4262e',
      '#1a7f37',
      '#8a6100',
      '#1f5fbf',
      '#8f3fb3',
      '#0a7d8c',
      '#d0d3d9',
      '#5c6370',
      '#e0363e',
      '#24963f',
      '#a67400',
      '#3476d9',
      '#a64fcc',
      '#0f95a6',
      '#f5f6f8',
    ],
  },
};

/** Search highlight colours (#RRGGBB, as the search addon requires). */
export interface SearchColors {
  match: string;
  activeMatch: string;
  border: string;
}

const SEARCH: Record<ThemeMode, SearchColors> = {
  dark: { match: '#5a4a1e', activeMatch: '#b86e00', border: '#ff9900' },
  light: { match: '#ffe08a', activeMatch: '#ff9e3d', border: '#c25e00' },
};

function readVar(style: CSSStyleDeclaration | undefined, name: string): string | undefined {
  const value = style?.getPropertyValue(name).trim();
  return value ? value : undefined;
}

/** The theme mode of the page: data-theme on <html>, else the OS preference. */
export function currentMode(doc: Document = document): ThemeMode {
  const attr = doc.documentElement.getAttribute('data-theme');
  if (attr === 'light' || attr === 'dark') return attr;
  const mq = doc.defaultView?.matchMedia?.('(prefers-color-scheme: dark)');
  return mq?.matches ? 'dark' : 'light';
}

export function readTerminalTheme(doc: Document = document): {
  theme: ITheme;
  search: SearchColors;
  mode: ThemeMode;
} {
  const mode = currentMode(doc);
  const fb = FALLBACK[mode];
  let style: CSSStyleDeclaration | undefined;
  try {
    style = doc.defaultView?.getComputedStyle(doc.documentElement);
  } catch {
    style = undefined;
  }
  const theme: ITheme = {
    background: readVar(style, '--terminal-bg') ?? fb.background,
    foreground: readVar(style, '--terminal-fg') ?? fb.foreground,
    cursor: readVar(style, '--terminal-cursor') ?? fb.cursor,
    selectionBackground: readVar(style, '--terminal-selection') ?? fb.selectionBackground,
  };
  theme.cursorAccent = theme.background;
  ANSI_KEYS.forEach((key, i) => {
    theme[key] = readVar(style, `--ansi-${i}`) ?? fb.ansi[i];
  });
  return { theme, search: SEARCH[mode], mode };
}

/**
 * Call `onChange` when the page's theme may have changed: data-theme (or class/style) on <html>,
 * or the OS colour scheme. Returns the function that stops watching.
 */
export function watchTheme(onChange: () => void, doc: Document = document): () => void {
  const stops: Array<() => void> = [];
  if (typeof MutationObserver !== 'undefined') {
    const observer = new MutationObserver(() => onChange());
    observer.observe(doc.documentElement, {
      attributes: true,
      attributeFilter: ['data-theme', 'class', 'style'],
    });
    stops.push(() => observer.disconnect());
  }
  const mq = doc.defaultView?.matchMedia?.('(prefers-color-scheme: dark)');
  if (mq && typeof mq.addEventListener === 'function') {
    const listener = (): void => onChange();
    mq.addEventListener('change', listener);
    stops.push(() => mq.removeEventListener('change', listener));
  }
  return () => {
    for (const stop of stops.splice(0)) stop();
  };
}

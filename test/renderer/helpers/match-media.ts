/** A controllable window.matchMedia('(prefers-color-scheme: dark)'). */
export interface FakeMediaQuery {
  set(matches: boolean): void;
  listenerCount(): number;
  uninstall(): void;
}

export function installMatchMedia(initialDark: boolean): FakeMediaQuery {
  const original = window.matchMedia;
  let dark = initialDark;
  const listeners = new Set<(e: { matches: boolean }) => void>();
  const mql = {
    get matches() {
      return dark;
    },
    media: '(prefers-color-scheme: dark)',
    onchange: null,
    addEventListener: (_type: string, l: (e: { matches: boolean }) => void) => listeners.add(l),
    removeEventListener: (_type: string, l: (e: { matches: boolean }) => void) => listeners.delete(l),
    addListener: (l: (e: { matches: boolean }) => void) => listeners.add(l),
    removeListener: (l: (e: { matches: boolean }) => void) => listeners.delete(l),
    dispatchEvent: () => true,
  };
  window.matchMedia = ((query: string) =>
    query.includes('prefers-color-scheme: dark')
      ? mql
      : original.call(window, query)) as unknown as typeof window.matchMedia;
  return {
    set(matches) {
      dark = matches;
      for (const l of [...listeners]) l({ matches });
    },
    listenerCount: () => listeners.size,
    uninstall() {
      window.matchMedia = original;
    },
  };
}

// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { InlineStyleMirror, isWebLink } from '../../../renderer/terminal/xterm-kit.js';

const flush = () => new Promise((r) => setTimeout(r, 0));

describe('InlineStyleMirror (the DOM renderer under a strict CSP)', () => {
  it.skipIf(!InlineStyleMirror.supported(document))(
    'takes <style> elements out of the page, mirrors them into adopted stylesheets and follows their text',
    async () => {
      const root = document.body.appendChild(document.createElement('div'));
      const style = document.createElement('style');
      style.textContent = '.xterm-rows { color: red; }';
      root.appendChild(style);
      const before = document.adoptedStyleSheets.length;
      const mirror = new InlineStyleMirror(root);
      expect(style.isConnected).toBe(false); // out of the page: the policy never checks it
      expect(root.querySelector('style')).toBeNull();
      expect(document.adoptedStyleSheets.length).toBe(before + 1);
      expect(document.adoptedStyleSheets.at(-1)!.cssRules[0]!.cssText).toContain('red');

      // xterm keeps writing to its (detached) element: the sheet follows.
      style.textContent = '.xterm-rows { color: blue; }';
      await flush();
      expect(document.adoptedStyleSheets.at(-1)!.cssRules[0]!.cssText).toContain('blue');

      // A <style> that reaches the page anyway is taken out as soon as it is seen.
      const late = root.appendChild(document.createElement('style'));
      late.textContent = 'b { color: green; }';
      await flush();
      expect(late.isConnected).toBe(false);
      expect(mirror.size).toBe(2);
      expect(document.adoptedStyleSheets.length).toBe(before + 2);

      // sync() takes them at once (before a detached terminal goes back on the page).
      const detached = document.createElement('div');
      const third = detached.appendChild(document.createElement('style'));
      third.textContent = 'i { color: pink; }';
      const other = new InlineStyleMirror(detached);
      expect(third.parentNode).toBeNull();
      expect(document.adoptedStyleSheets.length).toBe(before + 3);

      mirror.dispose();
      other.dispose();
      expect(document.adoptedStyleSheets.length).toBe(before);
      style.textContent = 'u { color: red; }';
      await flush();
      expect(document.adoptedStyleSheets.length).toBe(before);
    },
  );
});

describe('isWebLink', () => {
  it('accepts only http and https', () => {
    expect(isWebLink('https://example.com/a?b')).toBe(true);
    expect(isWebLink('http://10.0.0.1:8080/')).toBe(true);
    expect(isWebLink('file:///etc/passwd')).toBe(false);
    expect(isWebLink('javascript:alert(1)')).toBe(false);
    expect(isWebLink('not a url')).toBe(false);
  });
});

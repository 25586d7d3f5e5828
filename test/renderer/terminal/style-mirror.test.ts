// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { InlineStyleMirror, isWebLink } from '../../../renderer/terminal/xterm-kit.js';

const flush = () => new Promise((r) => setTimeout(r, 0));

describe('InlineStyleMirror (the DOM renderer under a strict CSP)', () => {
  it.skipIf(!InlineStyleMirror.supported(document))(
    'mirrors <style> elements into adopted stylesheets and follows their changes',
    async () => {
      const root = document.body.appendChild(document.createElement('div'));
      const style = document.createElement('style');
      style.textContent = '.xterm-rows { color: red; }';
      root.appendChild(style);
      const before = document.adoptedStyleSheets.length;
      const mirror = new InlineStyleMirror(root);
      expect(document.adoptedStyleSheets.length).toBe(before + 1);
      const sheet = document.adoptedStyleSheets.at(-1)!;
      expect(sheet.cssRules[0]!.cssText).toContain('red');

      style.textContent = '.xterm-rows { color: blue; }';
      await flush();
      expect(document.adoptedStyleSheets.at(-1)!.cssRules[0]!.cssText).toContain('blue');

      style.remove();
      await flush();
      expect(document.adoptedStyleSheets.length).toBe(before);

      root.appendChild(document.createElement('style')).textContent = 'b { color: green; }';
      await flush();
      expect(document.adoptedStyleSheets.length).toBe(before + 1);
      mirror.dispose();
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

/**
 * `code` with every non-ASCII character written as a \uXXXX escape (a character outside the
 * Basic Multilingual Plane as its two surrogate escapes).
 *
 * Why: esbuild escapes non-ASCII characters in strings but keeps the comments it preserves as
 * they are, and one non-ASCII character anywhere in a file makes V8 hold the whole source as a
 * two-byte string: for the 6 MB CLI bundle, 6 MB more resident memory in every CLI process.
 * An escape means the same character in strings, templates, regular expressions and
 * identifiers, and in comments it is only text.
 *
 * @param {string} code
 * @returns {string}
 */
export function asciiOnly(code) {
  return code.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

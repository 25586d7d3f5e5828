/**
 * Imported first by main.ts: the CSP forbids eval, and zod probes for it when the first schema
 * is built (a CSP violation report) unless told not to before any schema exists.
 */
import { z } from 'zod';

z.config({ jitless: true });

/**
 * Copy to the clipboard and remember for a moment how it went (a check mark, or "the clipboard is
 * not available"): the Ports view's addresses, the Diagnostics report, the SSO user code.
 */
import { getCurrentInstance, onBeforeUnmount, ref, type Ref } from 'vue';

export interface Copied {
  /** What was copied (a forward's id), '' when a view copies one thing only. */
  key: string;
  ok: boolean;
}

export function useCopied(showMs: number): {
  copied: Ref<Copied | null>;
  copy: (text: string, key?: string) => Promise<boolean>;
  reset: () => void;
} {
  const copied = ref<Copied | null>(null);
  let timer: ReturnType<typeof setTimeout> | undefined;

  function reset(): void {
    clearTimeout(timer);
    copied.value = null;
  }

  async function copy(text: string, key = ''): Promise<boolean> {
    let ok = true;
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      ok = false;
    }
    copied.value = { key, ok };
    clearTimeout(timer);
    timer = setTimeout(() => (copied.value = null), showMs);
    return ok;
  }

  if (getCurrentInstance()) onBeforeUnmount(() => clearTimeout(timer));
  return { copied, copy, reset };
}

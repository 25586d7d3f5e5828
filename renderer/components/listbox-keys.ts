/**
 * The keys of a side view's list and of the filter box above it (Instances, History): Up/Down,
 * PageUp/PageDown and Enter in both, Home/End on the list, typing on the list goes to the filter
 * box, Escape in the box clears it or, when it is empty, gives the list the focus.
 */
import type { Ref } from 'vue';

export interface ListboxKeysOptions {
  /** The cursor's row (-1 for none) and the number of rows. */
  cursor: () => number;
  count: () => number;
  /** Put the cursor on a row (an index outside the list is the view's to clamp). */
  moveTo: (index: number) => void;
  /** Rows a PageUp or PageDown moves. */
  pageSize: () => number;
  /** Enter on the cursor's row. */
  activate: (index: number) => void;
  /** Clear the filter box; false when it was empty. */
  clearFilter: () => boolean;
  /** The filter box (an input, or components/SearchBox.vue). */
  filterInput: Ref<{ focus(): void } | undefined>;
  list: Ref<HTMLElement | undefined>;
}

function withModifier(e: KeyboardEvent): boolean {
  return e.ctrlKey || e.metaKey || e.altKey;
}

export function useListboxKeys(o: ListboxKeysOptions): {
  onListKey: (e: KeyboardEvent) => void;
  onFilterKey: (e: KeyboardEvent) => void;
} {
  /** Keys shared by the filter box and the list; true when handled. */
  function navigate(e: KeyboardEvent, fromInput: boolean): boolean {
    const i = o.cursor();
    switch (e.key) {
      case 'ArrowDown':
        o.moveTo(i + 1);
        return true;
      case 'ArrowUp':
        o.moveTo(i - 1);
        return true;
      case 'PageDown':
        o.moveTo(i + o.pageSize());
        return true;
      case 'PageUp':
        o.moveTo(i - o.pageSize());
        return true;
      case 'Home':
        if (fromInput) return false;
        o.moveTo(0);
        return true;
      case 'End':
        if (fromInput) return false;
        o.moveTo(o.count() - 1);
        return true;
      case 'Enter':
        o.activate(i);
        return true;
      default:
        return false;
    }
  }

  function onListKey(e: KeyboardEvent): void {
    if (withModifier(e)) return;
    if (navigate(e, false)) {
      e.preventDefault();
      return;
    }
    // Typing on the list goes to the filter box.
    if (e.key.length === 1 && e.key !== ' ' && e.key !== '/') o.filterInput.value?.focus();
  }

  function onFilterKey(e: KeyboardEvent): void {
    if (e.key === 'Escape') {
      if (!o.clearFilter()) o.list.value?.focus();
      e.preventDefault();
      return;
    }
    if (withModifier(e)) return;
    if (navigate(e, true)) e.preventDefault();
  }

  return { onListKey, onFilterKey };
}

/**
 * Split layouts of a tab (pure): a binary tree whose leaves are panes. Splitting a pane puts it
 * and a new pane side by side ('right') or one above the other ('down'); closing a pane gives
 * its space to its sibling. A tab holds at most MAX_PANES panes.
 */

export type SplitDirection = 'right' | 'down';

export interface PaneLeaf {
  kind: 'pane';
  paneId: string;
}

export interface SplitNode {
  kind: 'split';
  id: string;
  direction: SplitDirection;
  /** Share of the first child, 0..1. */
  ratio: number;
  first: LayoutNode;
  second: LayoutNode;
}

export type LayoutNode = PaneLeaf | SplitNode;

export const MAX_PANES = 4;
export const MIN_RATIO = 0.1;

export function leaf(paneId: string): PaneLeaf {
  return { kind: 'pane', paneId };
}

/** Pane ids in reading order (left to right, top to bottom). */
export function paneIds(node: LayoutNode): string[] {
  if (node.kind === 'pane') return [node.paneId];
  return [...paneIds(node.first), ...paneIds(node.second)];
}

export function countPanes(node: LayoutNode): number {
  return node.kind === 'pane' ? 1 : countPanes(node.first) + countPanes(node.second);
}

export function canSplit(node: LayoutNode): boolean {
  return countPanes(node) < MAX_PANES;
}

/**
 * The tree with `paneId` split in two, the new pane after (right of / below) it; undefined when
 * the tab is full or the pane is not in it.
 */
export function splitPane(
  root: LayoutNode,
  paneId: string,
  direction: SplitDirection,
  newPaneId: string,
  splitId: string,
): LayoutNode | undefined {
  if (!canSplit(root)) return undefined;
  let found = false;
  const walk = (node: LayoutNode): LayoutNode => {
    if (node.kind === 'pane') {
      if (node.paneId !== paneId) return node;
      found = true;
      return { kind: 'split', id: splitId, direction, ratio: 0.5, first: node, second: leaf(newPaneId) };
    }
    const first = walk(node.first);
    const second = first === node.first ? walk(node.second) : node.second;
    return first === node.first && second === node.second ? node : { ...node, first, second };
  };
  const next = walk(root);
  return found ? next : undefined;
}

/** The tree without `paneId` (its sibling takes its place); undefined when it was the last pane. */
export function removePane(root: LayoutNode, paneId: string): LayoutNode | undefined {
  if (root.kind === 'pane') return root.paneId === paneId ? undefined : root;
  const first = removePane(root.first, paneId);
  const second = removePane(root.second, paneId);
  if (first === undefined) return second;
  if (second === undefined) return first;
  return first === root.first && second === root.second ? root : { ...root, first, second };
}

export function findSplit(root: LayoutNode, splitId: string): SplitNode | undefined {
  if (root.kind === 'pane') return undefined;
  if (root.id === splitId) return root;
  return findSplit(root.first, splitId) ?? findSplit(root.second, splitId);
}

export function clampRatio(ratio: number): number {
  if (!Number.isFinite(ratio)) return 0.5;
  return Math.min(1 - MIN_RATIO, Math.max(MIN_RATIO, ratio));
}

/** The pane to focus after `paneId` closes: the one before it in reading order, else the next. */
export function neighbourAfterClose(root: LayoutNode, paneId: string): string | undefined {
  const ids = paneIds(root);
  const i = ids.indexOf(paneId);
  if (i === -1) return ids[0];
  return ids[i - 1] ?? ids[i + 1];
}

/** A copy of `items` with the element at `from` moved to index `to` (clamped). */
export function moveItem<T>(items: readonly T[], from: number, to: number): T[] {
  const out = [...items];
  if (from < 0 || from >= out.length) return out;
  const target = Math.max(0, Math.min(out.length - 1, to));
  const [item] = out.splice(from, 1);
  out.splice(target, 0, item as T);
  return out;
}

/** Index `step` away from `index` in a ring of `length` (Ctrl+Tab wraps around). */
export function cycleIndex(index: number, step: number, length: number): number {
  if (length <= 0) return -1;
  return (((index + step) % length) + length) % length;
}

/** The same tree with every pane id replaced (`rename` returns undefined to drop a pane). */
export function mapPanes(
  root: LayoutNode,
  rename: (paneId: string) => string | undefined,
): LayoutNode | undefined {
  if (root.kind === 'pane') {
    const id = rename(root.paneId);
    return id === undefined ? undefined : leaf(id);
  }
  const first = mapPanes(root.first, rename);
  const second = mapPanes(root.second, rename);
  if (!first) return second;
  if (!second) return first;
  return { ...root, first, second };
}

/** A tab as kept across a page reload: its layout with session ids in place of pane ids. */
export interface SavedTab {
  title: string | null;
  layout: LayoutNode;
  focused: string | null;
}

export interface SavedWorkbench {
  tabs: SavedTab[];
  active: string | null;
}

function isNode(value: unknown, depth = 0): value is LayoutNode {
  if (depth > 8 || !value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  if (v.kind === 'pane') return typeof v.paneId === 'string';
  return (
    v.kind === 'split' &&
    typeof v.id === 'string' &&
    (v.direction === 'right' || v.direction === 'down') &&
    typeof v.ratio === 'number' &&
    isNode(v.first, depth + 1) &&
    isNode(v.second, depth + 1)
  );
}

/** Parse what `JSON.stringify(SavedWorkbench)` produced; null for anything else. */
export function parseSavedWorkbench(text: string | null | undefined): SavedWorkbench | null {
  if (!text) return null;
  try {
    const raw = JSON.parse(text) as { tabs?: unknown; active?: unknown };
    if (!Array.isArray(raw.tabs)) return null;
    const tabs: SavedTab[] = [];
    for (const t of raw.tabs as Array<Record<string, unknown>>) {
      if (!t || !isNode(t.layout) || countPanes(t.layout) > MAX_PANES) continue;
      tabs.push({
        title: typeof t.title === 'string' ? t.title : null,
        layout: t.layout,
        focused: typeof t.focused === 'string' ? t.focused : null,
      });
    }
    return { tabs, active: typeof raw.active === 'string' ? raw.active : null };
  } catch {
    return null;
  }
}

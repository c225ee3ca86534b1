import { observeWindowOffset, observeWindowRect, type VirtualItem, Virtualizer, windowScroll } from '@tanstack/virtual-core';
import { type RefObject } from 'preact';
import { useLayoutEffect, useReducer, useRef, useState } from 'preact/hooks';

/** What a list rendered through `useWindowRows` draws: the rows in and near the viewport, and the space the others take. */
export interface WindowRows {
  /** The rows to render, in order: `index` into the list, `key` the row's own. */
  readonly items: readonly VirtualItem[];
  /** Space above the first rendered row and below the last, in pixels: the rows not rendered. */
  readonly paddingTop: number;
  readonly paddingBottom: number;
  /** A ref for each rendered row's element (which carries `data-index`): its real height is measured, and followed. */
  readonly measure: (element: Element | null) => void;
}

/** Rows rendered beyond each edge of the viewport: a keyboard user tabbing down, or a quick scroll, meets rows already there. */
const OVERSCAN = 12;

/**
 * Windowing for a long list that scrolls with the page (the slice list: 1,000 slices and more).
 * Only the rows in and near the viewport are rendered, so the page's work at load, at a filter
 * typed or cleared, and when the stats arrive is that of a screenful of rows, whatever the
 * number of slices (npm run bench:console, docs/console.md). @tanstack/virtual-core does the
 * arithmetic: rows of any height (measured as they render, kept by key when a filter reorders
 * them), the page's own scrolling, and its resizing.
 *
 * `keyOf` names the row at an index (keep it the same function while the rows are the same: the
 * row positions are computed again when it changes). `start` is the element the rows are rendered
 * in (a tbody): where it sits on the page is where the rows begin. `estimate` is a row's expected height before it is measured.
 */
export function useWindowRows(count: number, keyOf: (index: number) => string, start: RefObject<HTMLElement | null>, estimate: number): WindowRows {
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  // How far down the page the rows begin: read after each render (what sits above the list
  // changes: an error line, a rollback's progress), and a render again only when it moved.
  const margin = useRef(0);
  const options = {
    count,
    getScrollElement: () => window,
    observeElementRect: observeWindowRect,
    observeElementOffset: observeWindowOffset,
    scrollToFn: windowScroll,
    initialOffset: () => window.scrollY,
    // The window's size is known before the first render: the first render has its rows already.
    initialRect: { width: window.innerWidth, height: window.innerHeight },
    estimateSize: () => estimate,
    overscan: OVERSCAN,
    scrollMargin: margin.current,
    getItemKey: keyOf,
    onChange: () => rerender(0),
  };
  const [virtualizer] = useState(() => new Virtualizer<Window, Element>(options));
  virtualizer.setOptions(options);
  useLayoutEffect(() => virtualizer._didMount(), []);
  useLayoutEffect(() => {
    const element = start.current;
    if (element !== null) {
      const top = Math.round(element.getBoundingClientRect().top + window.scrollY);
      if (top !== margin.current) {
        margin.current = top;
        rerender(0);
      }
    }
    return virtualizer._willUpdate();
  });

  const items = virtualizer.getVirtualItems();
  const total = virtualizer.getTotalSize();
  const first = items[0];
  const last = items[items.length - 1];
  return {
    items,
    paddingTop: first === undefined ? 0 : Math.max(0, first.start - margin.current),
    paddingBottom: last === undefined ? 0 : Math.max(0, total - (last.end - margin.current)),
    measure: virtualizer.measureElement,
  };
}

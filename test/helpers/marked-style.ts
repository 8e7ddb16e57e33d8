import type { Style } from '../../src/printers/style.js';

/** A style that marks what it wraps, so tests can see exactly what a printer styled. */
export const MARKED: Style = {
  frame: (s) => `<F>${s}</F>`,
  headerName: (s) => `<H>${s}</H>`,
  subject: (s) => `<S>${s}</S>`,
};

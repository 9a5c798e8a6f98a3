import type { HopReport } from '../core/model/report.js';

/** RenderOptions: what the CLI decided about the terminal; renderers never look at process or env. */
export interface RenderOptions {
  /** Emit ANSI colour codes (the CLI sets this only on a TTY, never with NO_COLOR, per --color). */
  color: boolean;
  /** Terminal columns to fit text output into; 120 when not given. */
  width?: number;
}

/** Renderer turns a report into the text printed on stdout for one `-o` format. */
export type Renderer = (report: HopReport, opts: RenderOptions) => string;

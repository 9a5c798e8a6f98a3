/** IOStreams: where a command writes data (out) and where it talks to people (err). */
export interface IOStreams {
  out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  err: NodeJS.WritableStream & { isTTY?: boolean };
  /** The standard input (`analyze -`); a getter in main, so it is opened only when read. */
  in?: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

/** useColor: `--color always|never|auto`; auto means a TTY and no NO_COLOR. */
export function useColor(mode: string | undefined, io: IOStreams): boolean {
  if (mode === 'always') return true;
  if (mode === 'never') return false;
  if (io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '') return false;
  return io.out.isTTY === true;
}

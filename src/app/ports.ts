/**
 * Ports: what the use cases need from the outside world. Adapters implement them (files, the
 * Kubernetes API, exec); tests implement them in memory.
 */

/** InputSource: one input to analyze, readable as bytes (pcap) or lines (text). */
export interface InputSource {
  /** The name the user gave (path), used in the report. */
  name: string;
  /** Up to `max` bytes from the start. */
  head(max: number): Promise<Uint8Array>;
  /** The whole input as chunks, in order. */
  chunks(): AsyncIterable<Uint8Array>;
}

/** InputProblem: an input that could not be opened at all (missing, unreadable, a directory of nothing). */
export interface InputProblem {
  name: string;
  message: string;
}

export interface InputCatalog {
  /** Expands files and directories into sources (directories: their files, sorted by name). */
  open(paths: string[]): Promise<{ sources: InputSource[]; problems: InputProblem[] }>;
}

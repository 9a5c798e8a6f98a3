/** A line a block parser (tables, status text, ethtool/ip link) did not understand, and why. */
export interface UnparsedLine {
  /** 1-based index into the lines the parser was given. */
  line: number;
  text: string;
  reason: string;
}

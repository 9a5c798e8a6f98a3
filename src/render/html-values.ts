/** Tools with a shape and colour of their own in the diagram; any other tool is drawn as `other`. */
export const DRAWN_TOOLS = ['tcpdump', 'monitor', 'pwru', 'iptables', 'hubble'] as const;

/** toolClass names the shape and colour of a tool's marks (a pcap file is a capture, like tcpdump). */
export function toolClass(tool: string): string {
  if (tool === 'pcap') return 'tcpdump';
  return (DRAWN_TOOLS as readonly string[]).includes(tool) ? tool : 'other';
}

/**
 * describeValue says a report value in one line of words, whatever its shape: `k=v, k=v` for an
 * object, `a; b` for a list. Report fields added after this renderer (a cluster header, a flow's
 * outcome, source and destination) are shown this way until they get a place of their own.
 */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (Array.isArray(value)) return value.map(describeValue).join('; ');
  if (typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== null && v !== undefined && !(Array.isArray(v) && v.length === 0))
      .map(([k, v]) => `${k}=${typeof v === 'object' ? `(${describeValue(v)})` : describeValue(v)}`)
      .join(', ');
  }
  return String(value);
}

/** extraFields lists the fields of `record` a renderer does not know, for a generic display. */
export function extraFields(record: object, known: readonly string[]): [string, unknown][] {
  return Object.entries(record).filter(([k, v]) => !known.includes(k) && v !== undefined);
}

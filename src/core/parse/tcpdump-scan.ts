/**
 * Scanning helpers for tcpdump text: read numbers in place instead of slicing and converting.
 * The end of the last number lives in a scratch slot, so no tuple is allocated per call.
 */

let uintEnd = 0;

/** readUint reads decimal digits at `at`: the value, or -1 when there are none. */
export function readUint(text: string, at: number): number {
  let i = at;
  let v = 0;
  for (let c = text.charCodeAt(i); c >= 48 && c <= 57; c = text.charCodeAt(++i)) v = v * 10 + (c - 48);
  uintEnd = i;
  return i === at ? -1 : v;
}

/** afterUint: the index just after the digits the last readUint call read. */
export function afterUint(): number {
  return uintEnd;
}

/** readHex4 reads exactly four hex digits at `at` (an ethertype code), or -1. */
export function readHex4(text: string, at: number): number {
  let v = 0;
  for (let i = at; i < at + 4; i++) {
    const c = text.charCodeAt(i);
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

/**
 * Reads a SelfSubjectAccessReview sent as Kubernetes protobuf (`k8s\0` + runtime.Unknown), which is
 * how kubectl's typed clients (`kubectl auth can-i`) send it. Only the fields an access review needs
 * are decoded (k8s.io/api/authorization/v1/generated.proto field numbers).
 */

/** Protobuf fields of one message: field number -> values (varints as numbers, the rest as bytes). */
type Fields = Map<number, (number | Buffer)[]>;

function varint(buf: Buffer, at: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    if (at >= buf.length) throw new Error('truncated varint');
    const b = buf[at++];
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [value, at];
    shift += 7;
  }
}

function decode(buf: Buffer): Fields {
  const fields: Fields = new Map();
  let at = 0;
  while (at < buf.length) {
    const [tag, next] = varint(buf, at);
    at = next;
    const field = Math.floor(tag / 8);
    let value: number | Buffer;
    switch (tag & 7) {
      case 0:
        [value, at] = varint(buf, at);
        break;
      case 1:
        value = buf.subarray(at, at + 8);
        at += 8;
        break;
      case 2: {
        const [length, start] = varint(buf, at);
        value = buf.subarray(start, start + length);
        at = start + length;
        break;
      }
      case 5:
        value = buf.subarray(at, at + 4);
        at += 4;
        break;
      default:
        throw new Error(`unsupported protobuf wire type ${tag & 7}`);
    }
    fields.set(field, [...(fields.get(field) ?? []), value]);
  }
  return fields;
}

function bytes(fields: Fields, n: number): Buffer | undefined {
  const v = fields.get(n)?.[0];
  return Buffer.isBuffer(v) ? v : undefined;
}

function text(fields: Fields, n: number): string | undefined {
  return bytes(fields, n)?.toString('utf8');
}

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]); // "k8s\0"

/** The review as the JSON shape the handler works with; throws on anything else. */
export function decodeAccessReview(body: Buffer): { kind: string; spec: Record<string, unknown> } {
  if (!body.subarray(0, 4).equals(MAGIC)) throw new Error('missing the k8s protobuf envelope');
  const unknown = decode(body.subarray(4));
  const typeMeta = decode(bytes(unknown, 1) ?? Buffer.alloc(0));
  const kind = text(typeMeta, 2) ?? '';
  const review = decode(bytes(unknown, 2) ?? Buffer.alloc(0));
  const spec = decode(bytes(review, 2) ?? Buffer.alloc(0));
  const out: Record<string, unknown> = {};
  const resource = bytes(spec, 1);
  if (resource) {
    const r = decode(resource);
    const names = ['', 'namespace', 'verb', 'group', 'version', 'resource', 'subresource', 'name'];
    const attrs: Record<string, string> = {};
    for (let i = 1; i < names.length; i++) {
      const v = text(r, i);
      if (v !== undefined) attrs[names[i]] = v;
    }
    out.resourceAttributes = attrs;
  }
  const nonResource = bytes(spec, 2);
  if (nonResource) {
    const r = decode(nonResource);
    out.nonResourceAttributes = { path: text(r, 1) ?? '', verb: text(r, 2) ?? '' };
  }
  return { kind, spec: out };
}

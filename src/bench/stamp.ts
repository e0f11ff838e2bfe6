/**
 * The benchmark's event payload: a 20-byte header, then filler up to the message size.
 *   bytes 0..3   magic "SLB1"
 *   bytes 4..11  sequence number (float64: exact up to 2^53)
 *   bytes 12..19 intended send time, ms since the epoch with µs precision (float64)
 * Latency is measured from the *intended* send time (open loop), so a producer that falls behind
 * its schedule cannot hide the delay it causes (the coordinated-omission trap).
 */
export const STAMP_BYTES = 20;
const MAGIC = 0x534c4231; // "SLB1"

export function stamp(filler: Buffer, seq: number, intendedMs: number): Buffer {
  const payload = Buffer.allocUnsafe(Math.max(STAMP_BYTES, filler.length));
  filler.copy(payload, STAMP_BYTES, STAMP_BYTES);
  payload.writeUInt32BE(MAGIC, 0);
  payload.writeDoubleBE(seq, 4);
  payload.writeDoubleBE(intendedMs, 12);
  return payload;
}

export function readStamp(payload: Buffer): { seq: number; intendedMs: number } | undefined {
  if (payload.length < STAMP_BYTES || payload.readUInt32BE(0) !== MAGIC) return undefined;
  return { seq: payload.readDoubleBE(4), intendedMs: payload.readDoubleBE(12) };
}

/** Wall-clock ms with sub-ms precision, comparable between processes of one machine. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

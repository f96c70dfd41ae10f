// Bit-level I/O for weight bitstreams: MSB-first inside each byte, no byte alignment between
// fields (src/qmodel/model.ts). The reader is bounded the same way the C decoder is: bits past
// the end of the array read as zero and consuming them marks the stream corrupt.

/** Appends fields of up to 32 bits, most significant bit first. */
export class BitWriter {
  private buf = new Uint8Array(64);
  private bitPos = 0;

  /** Number of bits written so far. */
  get bitLength(): number {
    return this.bitPos;
  }

  /** Writes the low `n` bits of `value` (n in 0..32), most significant first. */
  write(value: number, n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > 32) throw new RangeError(`BitWriter.write: bad width ${n}`);
    this.ensure(this.bitPos + n);
    for (let i = n - 1; i >= 0; i--) {
      // >>> keeps bit 31 of a 32-bit field positive.
      const bit = (value >>> i) & 1;
      if (bit) this.buf[this.bitPos >>> 3] |= 0x80 >>> (this.bitPos & 7);
      this.bitPos++;
    }
  }

  /** The bytes written: ceil(bitLength / 8), unused low bits of the last byte zero. */
  finish(): { bitstream: Uint8Array; bitLength: number } {
    return { bitstream: this.buf.slice(0, (this.bitPos + 7) >>> 3), bitLength: this.bitPos };
  }

  private ensure(bits: number): void {
    const bytes = (bits + 7) >>> 3;
    if (bytes <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < bytes) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf);
    this.buf = next;
  }
}

/**
 * Bounded MSB-first reader. `peek` never changes state and never marks corruption (a decoder may
 * peek further than the code it then consumes, e.g. at the very end of a stream); consuming a bit
 * beyond the last byte of the array sets `corrupt`.
 */
export class BitReader {
  /** Position of the next bit to read, in bits from the start of the array. */
  pos = 0;
  corrupt = false;
  private readonly limit: number;

  constructor(private readonly bytes: Uint8Array) {
    this.limit = bytes.length * 8;
  }

  /** Size of the underlying array in bits: the bound the reader enforces. */
  get limitBits(): number {
    return this.limit;
  }

  /** The next `n` bits (0..24) as an unsigned number, zeros past the end; does not consume. */
  peek(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = (v << 1) | this.bitAt(this.pos + i);
    return v;
  }

  /** Consumes `n` bits. */
  skip(n: number): void {
    this.pos += n;
    if (this.pos > this.limit) this.corrupt = true;
  }

  /** Reads `n` bits (0..24) as an unsigned number. */
  read(n: number): number {
    const v = this.peek(n);
    this.skip(n);
    return v;
  }

  readBit(): number {
    const b = this.bitAt(this.pos);
    this.skip(1);
    return b;
  }

  private bitAt(p: number): number {
    if (p >= this.limit) return 0;
    return (this.bytes[p >>> 3] >>> (7 - (p & 7))) & 1;
  }
}

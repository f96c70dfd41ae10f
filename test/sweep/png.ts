// Reads what a test needs from a PNG: the signature and the IHDR size.
const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function pngInfo(buf: Uint8Array): { width: number; height: number } {
  if (buf.length < 24 || SIGNATURE.some((b, i) => buf[i] !== b)) throw new Error('not a PNG file');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (String.fromCharCode(...buf.subarray(12, 16)) !== 'IHDR') throw new Error('PNG without IHDR first');
  return { width: dv.getUint32(16), height: dv.getUint32(20) };
}

// Weight coding: bit I/O, packed fields, canonical Huffman, zero-run tokens, target decode tables.
export * from './bitio.js';
export * from './packed.js';
export * from './rle.js';
export * from './huffman.js';
export * from './decodeTables.js';
export * from './weights.js';
export * from './stats.js';

// The .tfm compressed-model file (docs/format.md).
export * from './container.js';
export * from './crc32.js';
export * from './schema.js';
export * from './tfm.js';

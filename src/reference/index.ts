// Host reference interpreter: the bit-exact model of what the firmware computes.
export * from '../qmodel/check.js';
export * from './input.js';
export * from './interpreter.js';

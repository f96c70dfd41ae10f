// The recordings cache is keyed by content: a touched file keeps its key, a changed byte does not,
// whatever the sizes and times say.
import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { contentKey } from '../../src/data/cache.js';
import { tempDir } from '../helpers/temp.js';

describe('contentKey', () => {
  it('follows the bytes of the files, not their times', () => {
    const dir = tempDir();
    const a = join(dir, 'a.csv');
    const b = join(dir, 'b.csv');
    // Larger than one 1 MiB read, so the chunked hashing is exercised.
    const big = Buffer.alloc((1 << 20) + 123, 7);
    writeFileSync(a, big);
    writeFileSync(b, 'time,x\n0,1\n');
    const key = contentKey('recordings', [a, b], 'extra');
    utimesSync(a, new Date(0), new Date(0));
    expect(contentKey('recordings', [a, b], 'extra')).toBe(key);
    big[(1 << 20) + 100] = 8; // same size, one byte past the first read
    writeFileSync(a, big);
    expect(contentKey('recordings', [a, b], 'extra')).not.toBe(key);
    big[(1 << 20) + 100] = 7;
    writeFileSync(a, big);
    expect(contentKey('recordings', [a, b], 'extra')).toBe(key);
    expect(contentKey('recordings', [b, a], 'extra')).not.toBe(key);
    expect(contentKey('recordings', [a, b], 'other')).not.toBe(key);
  });
});

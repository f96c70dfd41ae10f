// Writes windows in the original UCI HAR layout and number format (for fixtures and error tests).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HAR_CHANNELS, type WindowSet } from '../../src/data/dataset.js';

/** UCI's C-style exponent: 1.1653150e-002, with a leading space and a sign column. */
export function uciNumber(v: number): string {
  const [m, e] = v.toExponential(7).split('e');
  const exp = Number(e);
  const s = `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(3, '0')}`;
  return v < 0 ? ` ${s}` : `  ${s}`;
}

export function writeUciLayout(
  root: string,
  sets: Record<'train' | 'test', WindowSet>,
  classNames: string[],
): void {
  const crlf = (lines: string[]) => lines.map((l) => l + '\r\n').join('');
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'activity_labels.txt'), classNames.map((n, i) => `${i + 1} ${n}\n`).join(''));
  for (const split of ['train', 'test'] as const) {
    const s = sets[split];
    mkdirSync(join(root, split, 'Inertial Signals'), { recursive: true });
    writeFileSync(join(root, split, `y_${split}.txt`), Array.from(s.y, (y) => `${y + 1}\n`).join(''));
    writeFileSync(
      join(root, split, `subject_${split}.txt`),
      Array.from(s.subjects!, (v) => `${v}\n`).join(''),
    );
    HAR_CHANNELS.forEach((ch, c) => {
      const lines: string[] = [];
      for (let i = 0; i < s.n; i++) {
        let line = '';
        for (let t = 0; t < s.steps; t++) line += uciNumber(s.x[(i * s.steps + t) * s.channels + c]);
        lines.push(line);
      }
      writeFileSync(join(root, split, 'Inertial Signals', `${ch}_${split}.txt`), crlf(lines));
    });
  }
}

// The model's input channels from a sample's source channels: derived channels (the magnitude of
// several channels, e.g. |acc| from x, y, z, which does not depend on how the sensor is worn) and
// the selection and order given by `inputs` (default: every channel, then every derived channel).
import { descriptionError, type Description } from './description.js';

export interface BaseChannel {
  name: string;
  unit: string;
}

export class ChannelMap {
  readonly names: string[];
  readonly units: string[];
  /** Per output channel: the source index, or -1 for a derived one (see `parts`). */
  private readonly source: Int32Array;
  private readonly parts: number[][];

  constructor(d: Description, base: BaseChannel[]) {
    const index = new Map(base.map((c, i) => [c.name, i]));
    const derived = new Map(d.derived.map((c) => [c.name, c]));
    const names = d.inputs ?? [...base.map((c) => c.name), ...d.derived.map((c) => c.name)];
    this.names = names;
    this.units = [];
    this.source = new Int32Array(names.length);
    this.parts = [];
    names.forEach((n, k) => {
      const dc = derived.get(n);
      const i = index.get(n);
      if (i !== undefined) {
        this.source[k] = i;
        this.units.push(base[i].unit);
        this.parts.push([]);
      } else if (dc) {
        this.source[k] = -1;
        this.units.push(dc.unit || base[index.get(dc.magnitude[0]) ?? 0]?.unit || '');
        this.parts.push(dc.magnitude.map((m) => index.get(m) ?? -1));
        if (this.parts[k].includes(-1))
          throw descriptionError(d.path, ['derived'], `'${n}' uses a channel the data does not have`);
      } else {
        const at = d.inputs ? ['inputs', k] : [];
        throw descriptionError(
          d.path,
          at,
          `'${n}' is not a channel of the data (${[...index.keys()].join(', ')})`,
        );
      }
    });
  }

  get size(): number {
    return this.names.length;
  }

  /** Writes the output channels of the sample `src[off..]` to `dst[dstOff..]`. */
  apply(src: ArrayLike<number>, off: number, dst: Float64Array | Float32Array, dstOff: number): void {
    for (let k = 0; k < this.source.length; k++) {
      const i = this.source[k];
      if (i >= 0) {
        dst[dstOff + k] = src[off + i];
        continue;
      }
      let s = 0;
      for (const j of this.parts[k]) s += src[off + j] * src[off + j];
      dst[dstOff + k] = Math.sqrt(s);
    }
  }
}

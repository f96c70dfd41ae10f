// Raw labels (strings in the files) to class indices: renaming and merging (`rename`), dropping
// (`dropClasses`), and either a fixed class list (`classes`: anything else is an unknown label) or
// the classes found, numbered in sorted order once every file has been read.
import type { Description } from './description.js';

/** Label id of a sample whose class is dropped by the description. */
export const DROPPED = -1;
/** Label id of a sample whose label is not a class (only with `classes` given). */
export const UNKNOWN = -2;

const collator = new Intl.Collator('en', { numeric: true });
/** Natural order ('S2' before 'S10'), the same on every machine. */
export const naturalCompare = (a: string, b: string): number =>
  collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);

export class LabelMap {
  private readonly ids = new Map<string, number>();
  private readonly found: string[] = [];

  constructor(private readonly d: Description) {}

  /** The class the raw label stands for after renaming. */
  className(raw: string): string {
    return this.d.rename.get(raw) ?? raw;
  }

  /** Class id of a raw label (provisional while classes are being found), DROPPED or UNKNOWN. */
  id(raw: string): number {
    const known = this.ids.get(raw);
    if (known !== undefined) return known;
    const name = this.className(raw);
    let id: number;
    if (this.d.dropClasses.has(name) || this.d.dropClasses.has(raw)) id = DROPPED;
    else if (this.d.classes) id = this.d.classes.indexOf(name) >= 0 ? this.d.classes.indexOf(name) : UNKNOWN;
    else {
      id = this.found.indexOf(name);
      if (id < 0) id = this.found.push(name) - 1;
    }
    this.ids.set(raw, id);
    return id;
  }

  /** The class list and, for found classes, the map from provisional to final ids. */
  finish(): { classNames: string[]; remap?: Int32Array } {
    if (this.d.classes) return { classNames: [...this.d.classes] };
    const classNames = [...this.found].sort(naturalCompare);
    return { classNames, remap: Int32Array.from(this.found, (n) => classNames.indexOf(n)) };
  }

  /** What the labels can be, for error messages. */
  describe(): string {
    return this.d.classes ? `classes: ${this.d.classes.join(', ')}` : 'no class list given';
  }
}

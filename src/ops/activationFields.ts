// What the activation operators share: the Keras mapping of an activation that exists as a Keras
// `Activation` name (and, for some, layer classes), and the architecture entry without attributes.
import type { Layer } from '../graph/types.js';
import { plainArch } from './formatKeeping.js';
import type { KerasLayer, OpModule } from './types.js';

/** Keras `Activation(name)` (and the given layer classes, without attributes) to the kind. */
export function activationKeras(
  kind: string,
  activationName: string,
  classNames: readonly string[] = [],
): NonNullable<OpModule['keras']> {
  return {
    classNames,
    activationName,
    fromKeras: (l: KerasLayer) => ({ layers: [{ kind, name: l.name } as Layer] }),
  };
}

export const plainActivationArch = plainArch;

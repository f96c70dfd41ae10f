// The TinyforgeError a promise rejects with, failing the test if it resolves or throws another kind.
import { expect } from 'vitest';
import { TinyforgeError } from '../../src/util/errors.js';

export async function rejection(p: Promise<unknown>): Promise<TinyforgeError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TinyforgeError);
  return err as TinyforgeError;
}

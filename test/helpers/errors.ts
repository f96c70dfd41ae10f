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

/** The TinyforgeError a call throws; another exception propagates, a call that returns fails the test. */
export function refusal(f: () => unknown): TinyforgeError {
  try {
    f();
  } catch (e) {
    if (e instanceof TinyforgeError) return e;
    throw e;
  }
  throw new Error('expected a TinyforgeError');
}

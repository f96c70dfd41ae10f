// Long synchronous work (training, the host reference over thousands of windows) must let the
// event loop turn now and then: signals (Ctrl-C), IPC (sweep workers, test runners), child-process
// pipes and timers otherwise wait for all of it.

/** Resolves after one turn of the event loop (a macrotask, not a microtask). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

// Which PointRunner a sweep uses: the default stages, or a module's `createRunner()` (tests, or a
// setup that wires its own target stage), loaded the same way in the sweep and in its workers.
import { pathToFileURL } from 'node:url';
import { TinyforgeError } from '../util/errors.js';
import { createRunner, type PointRunner } from './runner.js';

export async function loadRunner(runnerModule?: string): Promise<PointRunner> {
  if (!runnerModule) return createRunner();
  const mod = (await import(pathToFileURL(runnerModule).href)) as { createRunner?: () => PointRunner };
  if (typeof mod.createRunner !== 'function')
    throw new TinyforgeError(`${runnerModule} does not export createRunner()`, 'usage');
  return mod.createRunner();
}

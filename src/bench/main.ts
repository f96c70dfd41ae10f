// `npm run bench`: every benchmark in src/bench/*.bench.ts, each printing its own table;
// `npm run bench -- <name>`: those whose file name starts with <name> (data, kernels, mlperf, target, train).
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv[2];
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.js'))
  .filter((f) => !only || f.startsWith(only))
  .sort();
for (const f of files) {
  const mod = (await import(pathToFileURL(`${here}/${f}`).href)) as { run: () => Promise<void> };
  process.stdout.write(`\n== ${f.replace('.bench.js', '')} ==\n`);
  await mod.run();
}

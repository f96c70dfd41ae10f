// A sweep worker process: one tfjs backend (wasm is single-threaded), one job at a time, for as
// many jobs as the sweep sends. Started by pool.ts with child_process.fork.
import { loadRunner } from './loadRunner.js';
import type { FromWorker, ToWorker } from './messages.js';
import type { StageName } from './result.js';
import { describeError, type PointRunner } from './runner.js';

function send(m: FromWorker): void {
  process.send?.(m);
}

// Ctrl-C reaches the whole process group: the parent decides when workers stop.
process.on('SIGINT', () => {});
// The parent went away: nothing left to report to.
process.on('disconnect', () => process.exit(0));

let runner: PointRunner | undefined;

process.on('message', (raw) => {
  const m = raw as ToWorker;
  void (async () => {
    if (m.type === 'init') {
      try {
        runner = await loadRunner(m.runnerModule);
      } catch (e) {
        // Said on stderr, which the sweep quotes when workers fail to start.
        process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
        process.exit(1);
      }
      send({ type: 'ready' });
      return;
    }
    const { id, job } = m;
    const ctx = {
      log: (line: string) => send({ type: 'log', id, line }),
      stage: (stage: StageName) => send({ type: 'stage', id, stage }),
    };
    try {
      if (!runner) throw new Error('worker got a job before init');
      const value =
        job.kind === 'train' ? await runner.trainModel(job.task, ctx) : await runner.runPoint(job.task, ctx);
      send({ type: 'done', id, value });
    } catch (e) {
      if (e instanceof Error && e.stack) ctx.log(e.stack);
      send({ type: 'error', id, error: describeError(e, job.kind === 'train' ? 'train' : 'worker') });
    }
  })();
});

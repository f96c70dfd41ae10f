// Where sweep jobs run: a pool of worker processes (tfjs wasm is single-threaded, so one process per
// core is how a sweep uses the machine), or the current process for --jobs 1.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FromWorker, ToWorker, WorkerJob } from './messages.js';
import type { ModelInfo, PointError, PointResult, StageName } from './result.js';
import type { PointRunner } from './runner.js';

export interface JobEvents {
  log(line: string): void;
  stage(name: StageName): void;
  /** The job left the queue and started running. */
  started?(): void;
}

export type JobValue = ModelInfo | PointResult;

export interface Executor {
  /** Jobs that run at the same time. */
  readonly slots: number;
  run(job: WorkerJob, events: JobEvents): Promise<JobValue>;
  /** Waits for nothing: stops idle workers. */
  close(): void;
  /** Stops every worker now (Ctrl-C); running jobs reject. */
  kill(): void;
}

/** A job failed as a whole (the worker threw or died): the error as a point records it. */
export class JobError extends Error {
  constructor(readonly detail: PointError) {
    super(detail.message);
  }
}

/** Runs jobs one after the other in this process. */
export function inProcessExecutor(runner: PointRunner): Executor {
  let chain: Promise<unknown> = Promise.resolve();
  let killed = false;
  return {
    slots: 1,
    run(job, events) {
      const next = chain.then(async () => {
        if (killed) throw new JobError({ stage: 'worker', message: 'interrupted' });
        events.started?.();
        return job.kind === 'train' ? runner.trainModel(job.task, events) : runner.runPoint(job.task, events);
      });
      chain = next.catch(() => undefined);
      return next;
    },
    close() {},
    kill() {
      killed = true;
    },
  };
}

export interface WorkerSpec {
  /** The worker module (compiled worker.js, or worker.ts with a loader in execArgv). */
  entry: string;
  /** Node flags of the worker processes (e.g. ['--import', loader]). */
  execArgv?: string[];
}

/** The compiled worker next to this module; undefined when running from TypeScript sources. */
export function defaultWorkerSpec(): WorkerSpec | undefined {
  const here = fileURLToPath(import.meta.url);
  const entry = join(dirname(here), 'worker.js');
  return here.endsWith('.js') && existsSync(entry) ? { entry, execArgv: [] } : undefined;
}

interface Pending {
  id: number;
  job: WorkerJob;
  events: JobEvents;
  resolve(v: JobValue): void;
  reject(e: Error): void;
}

interface Worker {
  child: ChildProcess;
  ready: boolean;
  current?: Pending;
  /** Lines printed outside any job (start-up errors). */
  idleOutput: string[];
}

/** `size` worker processes, each running one job at a time; a crashed worker is replaced. */
export function processPool(size: number, spec: WorkerSpec, runnerModule?: string): Executor {
  const workers = new Set<Worker>();
  const queue: Pending[] = [];
  let nextId = 1;
  let closing = false;
  // Workers that died before saying ready: a broken setup, not a bad point; stop respawning.
  let startFailures = 0;

  const dispatch = () => {
    for (const w of workers) {
      if (!w.ready || w.current || queue.length === 0 || !w.child.connected) continue;
      const p = queue.shift()!;
      w.current = p;
      p.events.started?.();
      w.child.send({ type: 'job', id: p.id, job: p.job } satisfies ToWorker);
    }
    const wanted = Math.min(size, workers.size + queue.length - idleCount());
    for (let i = workers.size; i < wanted && !closing; i++) spawn();
  };
  const idleCount = () => [...workers].filter((w) => !w.current).length;

  const spawn = () => {
    const child = fork(spec.entry, [], {
      execArgv: spec.execArgv ?? [],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    const w: Worker = { child, ready: false, idleOutput: [] };
    workers.add(w);
    // Whatever the worker prints (tfjs warnings, a crash) belongs to the job it was running.
    let tail = '';
    const onOutput = (chunk: Buffer) => {
      const lines = (tail + chunk.toString('utf8')).split('\n');
      tail = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.trim()) continue;
        if (w.current) w.current.events.log(line);
        else if (w.idleOutput.length < 50) w.idleOutput.push(line);
      }
    };
    child.stdout?.on('data', onOutput);
    child.stderr?.on('data', onOutput);
    child.on('message', (raw) => {
      const m = raw as FromWorker;
      if (m.type === 'ready') {
        w.ready = true;
        startFailures = 0;
        dispatch();
        return;
      }
      const p = w.current;
      if (!p || p.id !== m.id) return;
      if (m.type === 'log') p.events.log(m.line);
      else if (m.type === 'stage') p.events.stage(m.stage);
      else {
        w.current = undefined;
        if (m.type === 'done') p.resolve(m.value);
        else p.reject(new JobError(m.error));
        dispatch();
      }
    });
    // A failed send to a dying worker: its 'exit' below settles the job.
    child.on('error', () => {});
    child.on('exit', (code, signal) => {
      workers.delete(w);
      if (tail.trim()) w.current?.events.log(tail);
      const why = signal ? `signal ${signal}` : `exit code ${code}`;
      if (w.current) {
        w.current.reject(
          new JobError({ stage: 'worker', message: `worker process stopped (${why}) during this job` }),
        );
        w.current = undefined;
      }
      if (!w.ready && !closing && ++startFailures >= 2) {
        const said = [...w.idleOutput, tail]
          .map((l) => l.trim())
          .filter(Boolean)
          .join(' | ');
        const message = `worker processes fail to start (${why})${said ? `: ${said}` : ''}`;
        for (const p of queue.splice(0)) p.reject(new JobError({ stage: 'worker', message }));
        return;
      }
      if (!closing) dispatch();
    });
    child.send({ type: 'init', runnerModule } satisfies ToWorker);
  };

  return {
    slots: size,
    run(job, events) {
      return new Promise<JobValue>((resolve, reject) => {
        queue.push({ id: nextId++, job, events, resolve, reject });
        dispatch();
      });
    },
    close() {
      closing = true;
      for (const w of workers) if (!w.current && w.child.connected) w.child.disconnect();
    },
    kill() {
      closing = true;
      for (const p of queue.splice(0)) p.reject(new JobError({ stage: 'worker', message: 'interrupted' }));
      for (const w of workers) w.child.kill('SIGKILL');
    },
  };
}

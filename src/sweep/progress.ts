// Sweep progress on stderr: a cli-progress bar when stderr is a terminal, one plain line per finished
// job otherwise (logs, CI). Both show jobs done/total, the mean time per job and the time to finish.
import cliProgress from 'cli-progress';

export type SweepProgressMode = 'auto' | 'bar' | 'log' | 'none';

export interface PhaseProgress {
  /**
   * One job finished (`note` is e.g. 'ok' or 'FAILED: ...'). `cost` is its expected work relative
   * to the phase's other jobs (default 1), as counted in the phase's `cost` total.
   */
  done(label: string, seconds: number, note: string, cost?: number): void;
  stop(): void;
}

/** "1h 02m", "3m 05s", "42s". */
export function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const t = Math.round(s);
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = t % 60;
  if (h) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m) return `${m}m ${String(sec).padStart(2, '0')}s`;
  return `${sec}s`;
}

/** The progress of a sweep: one line (bar) per phase; phases may run at the same time. */
export interface SweepProgress {
  /**
   * `total` counts every job of the phase, `already` those answered from the cache. `cost` is the
   * expected work of the jobs to compute (default: one per job): jobs of a sweep differ tenfold
   * (a width-96 point against a width-16 one), so the estimate is seconds per unit of cost done
   * times the cost left, not the mean job time times the jobs left.
   */
  phase(name: string, total: number, already: number, slots?: number, cost?: number): PhaseProgress;
  stop(): void;
}

/**
 * Phases (training models, points) share one display: on a terminal a cli-progress MultiBar, so
 * that points can run while wider models still train; otherwise one plain line per finished job.
 * The estimate is the mean time of a computed job times the jobs left, shared among the slots.
 */
export function sweepProgress(
  mode: SweepProgressMode,
  write: (line: string) => void = (l) => process.stderr.write(l + '\n'),
): SweepProgress {
  const m = mode === 'auto' ? (process.stderr.isTTY ? 'bar' : 'log') : mode;
  let multi: cliProgress.MultiBar | undefined;
  return {
    phase(name, total, already, slots = 1, cost = total - already) {
      let computed = 0;
      let jobSeconds = 0;
      let costDone = 0;
      const stats = () => {
        const left = total - already - computed;
        const costLeft = Math.max(0, cost - costDone);
        return {
          perJob: computed ? `${(jobSeconds / computed).toFixed(1)} s` : '-',
          // not 'eta': cli-progress fills that token itself, from its own (serial) estimate
          left:
            computed && costDone > 0
              ? formatDuration(((jobSeconds / costDone) * costLeft) / Math.max(1, Math.min(slots, left)))
              : '?',
        };
      };
      const count = (seconds: number, jobCost = 1) => {
        computed++;
        jobSeconds += seconds;
        costDone += jobCost;
      };
      if (m === 'none') return { done: () => {}, stop: () => {} };
      if (m === 'log') {
        let n = already;
        return {
          done(label, seconds, note, jobCost) {
            count(seconds, jobCost);
            n++;
            const s = stats();
            write(
              `sweep: ${name} ${n}/${total} ${label}: ${note} in ${seconds.toFixed(1)} s ` +
                `(mean ${s.perJob}/${name.replace(/s$/, '')}, ${n < total ? `about ${s.left} left` : 'done'})`,
            );
          },
          stop: () => {},
        };
      }
      multi ??= new cliProgress.MultiBar(
        {
          stream: process.stderr,
          format: '{phase} [{bar}] {value}/{total} | {perJob} each | ETA {left} | {last}',
          hideCursor: true,
          clearOnComplete: false,
        },
        cliProgress.Presets.shades_classic,
      );
      const bar = multi.create(total, already, {
        phase: name.padEnd(6),
        perJob: '-',
        left: '?',
        last: already ? `${already} cached` : '',
      });
      return {
        done(label, seconds, note, jobCost) {
          count(seconds, jobCost);
          bar.increment(1, { ...stats(), last: `${label}: ${note}` });
        },
        stop: () => bar.stop(),
      };
    },
    stop: () => multi?.stop(),
  };
}

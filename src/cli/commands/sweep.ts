// `tinyforge sweep`: a grid of compression settings, each point cached, run on all cores; results
// tables, the Pareto front of error against memory, plots, and the best point under a budget.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { KB, parseBudget, selectForBudget, type Budget } from '../../sweep/budget.js';
import { loadSweepConfig, parseSweepConfig, type LoadedSweepConfig } from '../../sweep/config.js';
import { UCI_HAR_SWEEP } from '../../sweep/defaults.js';
import {
  METRIC_TEXT,
  sortByMemory,
  type MemoryMetric,
  readResultsFile,
  type SweepRow,
} from '../../sweep/results.js';
import { runSweep, SweepInterrupted, type SweepSummary } from '../../sweep/sweep.js';
import { EXIT_CODES, TinyforgeError, type ErrorCategory } from '../../util/errors.js';
import { printJson } from '../output.js';
import { formatTable, pct } from '../../util/table.js';

interface Args {
  data?: string;
  config?: string;
  out: string;
  jobs?: number;
  budget?: string;
  'retry-failed': boolean;
  json: boolean;
}

const kB = (b: number | undefined) => (b === undefined ? '-' : `${(b / KB).toFixed(2)}`);

function rowCells(r: SweepRow): string[] {
  return [
    r.label,
    r.accuracy === undefined ? '-' : pct(r.accuracy),
    r.errorRate === undefined ? '-' : pct(r.errorRate),
    kB(r.memory),
    kB(r.ram),
    r.instructions === undefined ? '-' : String(r.instructions),
  ];
}

function frontTable(rows: SweepRow[], metric: MemoryMetric): string {
  const front = sortByMemory(rows.filter((r) => r.pareto));
  return formatTable(
    [
      'Pareto front',
      'accuracy',
      'error',
      `${metric === 'modelFlash' ? 'model flash' : 'param'} kB`,
      'RAM kB',
      'instr',
    ],
    front.map(rowCells),
  );
}

interface BudgetAnswer {
  flashKB: number;
  ramKB?: number;
  /** What the flash budget is compared with. */
  memory: string;
  fitting: number;
  best: SweepRow | null;
}

function answerBudget(rows: SweepRow[], metric: MemoryMetric, budget: Budget): BudgetAnswer {
  const choice = selectForBudget(
    rows.map((r) => ({ ...r, ok: r.status === 'ok', error: r.errorRate })),
    budget,
  );
  const best = choice.best ? rows.find((r) => r.hash === choice.best!.hash)! : null;
  return {
    flashKB: budget.flashBytes / KB,
    ramKB: budget.ramBytes === undefined ? undefined : budget.ramBytes / KB,
    memory: METRIC_TEXT[metric].short,
    fitting: choice.fitting,
    best,
  };
}

function describeBest(a: BudgetAnswer, smallest: number | undefined): string {
  const under = `${a.flashKB} kB of ${a.memory}${a.ramKB !== undefined ? ` and ${a.ramKB} kB of RAM` : ''}`;
  if (!a.best)
    return `no point fits under ${under}${smallest !== undefined ? ` (the smallest needs ${kB(smallest)} kB)` : ''}\n`;
  const r = a.best;
  const lines = [
    `best under ${under} (${a.fitting} point${a.fitting === 1 ? '' : 's'} fit): ${r.label}`,
    `  accuracy     ${pct(r.accuracy!)} (${r.accuracySource}, ${r.evalWindows} windows), error ${pct(r.errorRate!)}`,
    `  memory       ${kB(r.memory)} kB ${a.memory}`,
  ];
  if (r.modelFlash !== undefined)
    lines.push(`  flash        ${kB(r.modelFlash)} kB model, ${kB(r.totalFlash)} kB total`);
  if (r.ram !== undefined) lines.push(`  RAM          ${kB(r.ram)} kB (static + peak stack)`);
  if (r.instructions !== undefined) lines.push(`  instructions ${r.instructions} per inference`);
  if (r.agreement !== undefined) lines.push(`  agreement    ${pct(r.agreement)} with the host reference`);
  if (r.paramBytes !== undefined && r.modelFlash === undefined)
    lines.push(
      `  parameters   ${r.codedWeightBytes} B coded weights + ${r.tableBytes} B tables + ${r.biasBytes} B biases (NOT linked flash)`,
    );
  lines.push(
    `  settings     width ${r.filters} filters, ${r.bits === 'float' ? 'float' : `${r.bits} bits, prune ${r.prune}${r.structured ? ' (filters)' : ''}, ` + `${r.perChannel ? 'per-channel' : 'per-layer'}, coding ${r.codings ?? r.coding}, ${r.finetuneEpochs} fine-tuning epochs`}`,
  );
  return lines.join('\n') + '\n';
}

function configFor(a: Args): LoadedSweepConfig {
  if (a.config) return loadSweepConfig(a.config);
  return { config: parseSweepConfig(UCI_HAR_SWEEP, 'the built-in uci-har sweep') };
}

export const sweepCommand: CommandModule<object, Args> = {
  command: 'sweep',
  describe: 'Grid of compression settings on real binaries: accuracy vs true memory',
  builder: (y) =>
    y
      .option('data', {
        type: 'string',
        describe: 'UCI HAR directory or synthetic[:opts] (default: the configuration\'s "data")',
      })
      .option('config', {
        type: 'string',
        describe: 'sweep JSON (docs/sweep.md; default: the built-in uci-har sweep, as sweeps/uci-har.json)',
      })
      .option('out', { type: 'string', demandOption: true, describe: 'results folder (also the cache)' })
      .option('jobs', { type: 'number', describe: 'points run side by side (default: number of cores)' })
      .option('budget', {
        type: 'string',
        describe: 'FLASH_KB[,RAM_KB]: print the most accurate point that fits (1 kB = 1024 B)',
      })
      .option('retry-failed', { type: 'boolean', default: false, describe: 'run failed points again' })
      .option('json', { type: 'boolean', default: false, describe: 'print the summary as JSON' })
      .example('$0 sweep --data ../shared/data/uci-har --out out/sweep', 'the built-in UCI HAR sweep')
      .example('$0 sweep --config sweeps/ci.json --out out/ci --jobs 2', 'a few points on synthetic data')
      .example(
        '$0 sweep --out out/sweep --budget 20',
        'best point under 20 kB, from the existing results',
      ) as never,
  handler: async (a) => {
    if (a.jobs !== undefined && !(Number.isInteger(a.jobs) && a.jobs >= 1))
      throw new TinyforgeError(`--jobs must be a whole number >= 1, got ${a.jobs}`, 'usage');
    const budget = a.budget !== undefined ? parseBudget(a.budget) : undefined;

    // --budget on a finished sweep: answer from results.json, nothing recomputed.
    if (budget && a.data === undefined && a.config === undefined) {
      if (!existsSync(join(a.out, 'results.json')))
        throw new TinyforgeError(
          `${a.out} has no results.json to answer --budget from`,
          'input',
          'run the sweep into that folder first (give --data and/or --config)',
        );
      const file = readResultsFile(a.out);
      const answer = answerBudget(file.points, file.metric, budget);
      const smallest = Math.min(...file.points.filter((r) => r.memory !== undefined).map((r) => r.memory!));
      if (a.json) printJson({ out: a.out, metric: file.metric, budget: answer });
      else process.stdout.write(describeBest(answer, Number.isFinite(smallest) ? smallest : undefined));
      if (!answer.best)
        throw new TinyforgeError(
          `no point of ${a.out} fits the budget ${a.budget}`,
          'usage',
          'raise the budget',
        );
      return;
    }

    const loaded = configFor(a);
    const data = a.data ?? loaded.data;
    if (!data)
      throw new TinyforgeError(
        'no data: the configuration has no "data" and --data is missing',
        'usage',
        'give --data <UCI HAR directory> or --data synthetic',
      );
    const controller = new AbortController();
    const onSigint = () => {
      process.stderr.write('\nsweep: interrupted, stopping workers (finished points stay cached)\n');
      controller.abort();
    };
    process.once('SIGINT', onSigint);
    let summary: SweepSummary;
    try {
      summary = await runSweep({
        config: loaded.config,
        data,
        archPath: loaded.archPath,
        modelPath: loaded.modelPath,
        out: a.out,
        jobs: a.jobs,
        retryFailed: a['retry-failed'],
        signal: controller.signal,
      });
    } catch (e) {
      if (e instanceof SweepInterrupted) {
        process.stderr.write(
          `sweep: ${e.finished} points finished in this run; run the same command to go on\n`,
        );
        process.exitCode = 130;
        return;
      }
      throw e;
    } finally {
      process.off('SIGINT', onSigint);
    }

    const answer = budget ? answerBudget(summary.rows, summary.metric, budget) : undefined;
    if (a.json) {
      const { rows, ...rest } = summary;
      printJson({ ...rest, front: sortByMemory(rows.filter((r) => r.pareto)), budget: answer });
    } else {
      const s = summary;
      process.stdout.write(
        [
          `sweep${s.name ? ` ${s.name}` : ''}: ${s.points} points (${s.ok} ok, ${s.failed} failed), ` +
            `${s.cached} from the cache, ${s.computed.points} computed, ${s.computed.models} float models trained, ` +
            `${s.seconds.toFixed(1)} s`,
          `memory: ${METRIC_TEXT[s.metric].long}`,
          '',
          frontTable(s.rows, s.metric),
          '',
          `results: ${s.files.map((f) => f.slice(s.out.length + 1)).join(', ')} in ${s.out}`,
          '',
        ].join('\n'),
      );
      if (answer) process.stdout.write('\n' + describeBest(answer, undefined));
    }
    if (summary.ok === 0 && summary.points > 0) {
      const first = summary.rows.find((r) => r.status === 'failed')!;
      const category =
        first.failedCategory && first.failedCategory in EXIT_CODES ? first.failedCategory : 'run';
      throw new TinyforgeError(
        `all ${summary.points} points failed; the first, ${first.label}, in ${first.failedStage}: ${first.failure}`,
        category as ErrorCategory,
        `see ${join(summary.out, 'points', first.hash, 'log.txt')}`,
      );
    }
    if (answer && !answer.best)
      throw new TinyforgeError(
        `no point fits the budget ${a.budget}`,
        'usage',
        'raise the budget or extend the sweep',
      );
  },
};

// `tinyforge compile model.tfm --out dir/`: fixed-point C sources (model.c, model.h,
// tf_fixedpoint.h) and the static memory plan, as a table or --json.
import { basename } from 'node:path';
import type { CommandModule } from 'yargs';
import {
  checkPrefix,
  fastKeptWarning,
  DEFAULT_PREFIX,
  generateC,
  writeSources,
  type CodegenReport,
} from '../../codegen/index.js';
import { readTfm } from '../../qmodel/index.js';
import { printJson } from '../output.js';
import { formatTable } from '../../util/table.js';
import { RAM_OPTION, ramFrom } from '../ramOption.js';

interface CompileArgs {
  model: string;
  out: string;
  ram: string;
  prefix: string;
  json: boolean;
}

const n = (v: number): string => v.toLocaleString('en-US');

export function formatCompileReport(r: CodegenReport): string {
  const rows = r.layers.map((l) => [
    l.name,
    l.kind,
    `[${l.outShape.join(', ')}]`,
    l.coding ?? '-',
    l.weightBytes ? n(l.weightBytes) : '-',
    l.tableBytes ? n(l.tableBytes) : '-',
    l.scratchBytes ? n(l.scratchBytes) : '-',
    l.output,
  ]);
  const table = formatTable(
    ['layer', 'kind', 'output', 'coding', 'weights B', 'tables B', 'scratch B', 'buffer'],
    rows,
  );
  return [
    table,
    `RAM   arena ${n(r.arenaBytes)} B (.bss.tf_arena; liveness optimum ${n(r.livenessBytes)} B): live tensors ${n(r.peakTensorBytes)} B at most, scratch ${n(r.scratchBytes)} B at most`,
    ...ramLines(r),
    `flash weights ${n(r.weightBytes)} B (.rodata.tf_weights.*), tables ${n(r.tableBytes)} B (.rodata.tf_tables.*)`,
  ].join('\n');
}

/** The --ram choice (nothing for the default fast kernels). */
export function ramLines(r: CodegenReport): string[] {
  const ram = r.ram;
  if (ram.option === 'fast') return [];
  const budget = ram.budget !== null ? `, arena budget ${n(ram.budget)} B` : '';
  const lines = [
    `      --ram ${ram.option}${budget}: small-RAM kernels in ${ram.small.length ? ram.small.join(', ') : 'no layer'}; model RAM = arena + the inference stack (tinyforge run)`,
  ];
  if (ram.fastKept.length) lines.push(`      warning: ${fastKeptWarning(ram.fastKept)}`);
  return lines;
}

export const compileCommand: CommandModule<object, CompileArgs> = {
  command: 'compile <model>',
  describe: 'Generate fixed-point C from a .tfm file',
  builder: (y) =>
    y
      .positional('model', { type: 'string', demandOption: true, describe: 'compressed model (.tfm)' })
      .option('out', {
        type: 'string',
        demandOption: true,
        describe:
          'directory for model.c, model.h, tf_fixedpoint.h (with --prefix: <PREFIX>model.c ...; created if needed)',
      })
      .option('prefix', {
        type: 'string',
        default: DEFAULT_PREFIX,
        describe:
          'namespace of every C symbol (tf_ -> PREFIX) and macro (TF_ -> upper case); files <PREFIX>model.c, .h',
      })
      .options(RAM_OPTION)
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'print the memory plan as JSON',
      })
      .example(
        '$0 compile out/kws.tfm --out lib/ --prefix kws_',
        'kws_model.c, kws_model.h, kws_fixedpoint.h: kws_model_run, KWS_INPUT_SIZE, ...',
      ) as never,
  handler: async (a) => {
    checkPrefix(a.prefix);
    const model = await readTfm(a.model);
    const g = generateC(model, { sourceName: basename(a.model), ram: ramFrom(a.ram), prefix: a.prefix });
    const paths = await writeSources(a.out, g.files);
    const files = g.files.map((f, i) => ({
      name: f.name,
      path: paths[i],
      bytes: Buffer.byteLength(f.content),
    }));
    if (a.json) {
      printJson({ model: a.model, out: a.out, files, ...g.report });
    } else {
      process.stdout.write(
        `${a.model} -> ${a.out}: ${files.map((f) => `${f.name} (${n(f.bytes)} B)`).join(', ')}\n\n` +
          formatCompileReport(g.report) +
          '\n',
      );
    }
  },
};

// A check result for people: what was checked, one table (board, check, measured, limit, change
// against the baseline, verdict), the first target/host disagreement if any, and the verdict line.
import { formatTable } from '../util/table.js';
import type { CheckRow, Verdict } from './evaluate.js';
import type { CheckResult } from './result.js';

export const VERDICT_TEXT: Record<Verdict, string> = { pass: 'pass', fail: 'FAIL', info: '-' };

/** "out/m.tfm (compressed by an earlier run, from out/har)": where the firmware's model came from. */
export function describeModel(r: CheckResult): string {
  const m = r.model;
  if (m.compression === 'given') return m.tfm;
  const how = m.compression === 'cached' ? 'compressed by an earlier run, cached' : 'compressed in this run';
  return `${m.input} (${how}: ${m.tfm})`;
}

export function describeWindows(r: CheckResult): string {
  const d = r.data;
  return `${d.spec} (${d.split} split, ${d.windows} windows${d.recorded ? ', recorded by the model' : ''})`;
}

/** How each board's firmware was had: built now or reused. */
export function describeBuilds(r: CheckResult): string {
  return r.boards.map((b) => `${b.board} ${b.build.cached ? 'reused from the cache' : 'built'}`).join(', ');
}

/** "PASS: 12 checks hold on 2 boards" or "FAIL: 2 of 12 checks failed". */
export function verdictLine(r: CheckResult): string {
  const limited = r.checks.filter((c) => c.verdict !== 'info').length;
  const boards = `${r.boards.length} board${r.boards.length === 1 ? '' : 's'}`;
  return r.passed
    ? `PASS: ${limited} check${limited === 1 ? '' : 's'} hold on ${boards}`
    : `FAIL: ${r.failed.length} of ${limited} checks failed on ${boards}`;
}

function tableRows(checks: CheckRow[], withDelta: boolean, width: number): string[][] {
  return checks.map((c) => [
    `${c.board.padEnd(width)}  ${c.name}`,
    c.measured,
    c.limit,
    ...(withDelta ? [c.delta ?? ''] : []),
    VERDICT_TEXT[c.verdict],
  ]);
}

export function formatCheckResult(r: CheckResult): string {
  const withDelta = r.baseline !== undefined;
  const width = Math.max(...r.checks.map((c) => c.board.length), 'board'.length);
  const header = [
    `${'board'.padEnd(width)}  check`,
    'measured',
    'limit',
    ...(withDelta ? ['vs baseline'] : []),
    'verdict',
  ];
  const lines = [
    `model    ${describeModel(r)}`,
    `data     ${describeWindows(r)}`,
    r.measuredIn === 'this run'
      ? `builds   ${describeBuilds(r)}`
      : `measured ${r.measuredIn} (not run again)`,
  ];
  if (r.baseline)
    lines.push(
      `baseline ${r.baseline.file}${r.baseline.missingBoards.length ? ` (no figures for ${r.baseline.missingBoards.join(', ')})` : ''}`,
    );
  lines.push('', formatTable(header, tableRows(r.checks, withDelta, width)));
  for (const b of r.boards)
    if (b.figures.agreement.firstMismatch) lines.push(`${b.board}: ${b.figures.agreement.firstMismatch}`);
  lines.push('', verdictLine(r));
  return lines.join('\n') + '\n';
}

// --markdown FILE: a summary a CI system shows on the pull request (GitHub's job summary, a PR
// comment, GitLab's merge-request note): the verdict first, the failures named, then every row.
import type { CheckRow, Verdict } from './evaluate.js';
import type { CheckResult } from './result.js';
import { describeBuilds, describeModel, describeWindows, verdictLine } from './report.js';

const MARK: Record<Verdict, string> = { pass: '✅ pass', fail: '❌ FAIL', info: '' };

/** A table cell: pipes and line breaks would end it. */
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const code = (s: string) => `\`${s.replace(/`/g, "'")}\``;

function row(r: CheckRow, withDelta: boolean): string {
  const cells = [
    r.board,
    r.name,
    r.measured,
    r.limit,
    ...(withDelta ? [r.delta ?? ''] : []),
    MARK[r.verdict],
  ];
  return `| ${cells.map(cell).join(' | ')} |`;
}

export function formatMarkdown(r: CheckResult): string {
  const withDelta = r.baseline !== undefined;
  const header = ['board', 'check', 'measured', 'limit', ...(withDelta ? ['vs baseline'] : []), 'verdict'];
  const lines = [
    `### tinyforge check: ${r.passed ? '✅' : '❌'} ${verdictLine(r)}`,
    '',
    `- model: ${code(describeModel(r))}`,
    `- data: ${code(describeWindows(r))}`,
    r.measuredIn === 'this run' ? `- builds: ${describeBuilds(r)}` : `- measured: ${code(r.measuredIn)}`,
  ];
  if (r.baseline) lines.push(`- baseline: ${code(r.baseline.file)}`);
  const failing = r.checks.filter((c) => c.verdict === 'fail');
  if (failing.length) {
    lines.push('', '**Failed:**', '');
    for (const f of failing) lines.push(`- ${code(f.id)} on ${f.board}: ${f.measured}, limit ${f.limit}`);
  }
  lines.push(
    '',
    `| ${header.join(' | ')} |`,
    `|${header.map((_h, i) => (i < 2 ? '---' : '---:')).join('|')}|`,
    ...r.checks.map((c) => row(c, withDelta)),
  );
  for (const b of r.boards)
    if (b.figures.agreement.firstMismatch) lines.push('', `${b.board}: ${b.figures.agreement.firstMismatch}`);
  return lines.join('\n') + '\n';
}

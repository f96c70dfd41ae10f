// --junit FILE: the JUnit XML CI systems read (GitHub Actions reporters, GitLab's `reports: junit`):
// one test suite per board, one test case per threshold (figures without a limit are no test), a
// failure element with the measured value and the limit.
import type { CheckRow } from './evaluate.js';
import type { CheckResult } from './result.js';
import { describeModel, describeWindows } from './report.js';

/** Text and attribute values: the five XML specials, and no control characters XML 1.0 forbids. */
export function xmlEscape(s: string): string {
  return s
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const attrs = (a: Record<string, string | number>) =>
  Object.entries(a)
    .map(([k, v]) => ` ${k}="${xmlEscape(String(v))}"`)
    .join('');

function testCase(r: CheckRow, mismatch: string | undefined): string {
  const head = `    <testcase${attrs({ classname: `tinyforge.check.${r.board}`, name: r.id, time: 0 })}`;
  if (r.verdict === 'pass') return `${head}/>`;
  const message = `${r.name}: measured ${r.measured}, limit ${r.limit}`;
  const body = [message, ...(r.delta ? [`vs baseline: ${r.delta}`] : []), ...(mismatch ? [mismatch] : [])];
  return [
    `${head}>`,
    `      <failure${attrs({ message, type: 'threshold' })}>${xmlEscape(body.join('\n'))}</failure>`,
    '    </testcase>',
  ].join('\n');
}

export function formatJunit(res: CheckResult): string {
  const limited = res.checks.filter((c) => c.verdict !== 'info');
  const failures = (rows: CheckRow[]) => rows.filter((c) => c.verdict === 'fail').length;
  const suites = res.boards.map((b) => {
    const rows = limited.filter((c) => c.board === b.board);
    const mismatch = b.figures.agreement.firstMismatch;
    return [
      `  <testsuite${attrs({ name: b.board, tests: rows.length, failures: failures(rows), errors: 0, skipped: 0 })}>`,
      '    <properties>',
      `      <property${attrs({ name: 'model', value: describeModel(res) })}/>`,
      `      <property${attrs({ name: 'data', value: describeWindows(res) })}/>`,
      `      <property${attrs({ name: 'build', value: b.build.cached ? 'reused from the cache' : 'built' })}/>`,
      '    </properties>',
      ...rows.map((r) => testCase(r, r.id === 'agreement' ? mismatch : undefined)),
      '  </testsuite>',
    ].join('\n');
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs({ name: 'tinyforge check', tests: limited.length, failures: failures(limited), errors: 0 })}>`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}

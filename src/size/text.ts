// The size report as a table for people: flash, RAM (with the measured stack), layers, top N.
import { CATEGORIES } from './categorize.js';
import type { MemoryTotals, SizeReport } from './report.js';

const n = (v: number) => v.toLocaleString('en-US');
const pct = (v: number, capacity: number) => (capacity > 0 ? `${((v / capacity) * 100).toFixed(2)}%` : '-');

function pad(cells: string[], widths: number[], right: boolean[]): string {
  return cells
    .map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])))
    .join('  ')
    .trimEnd();
}

function table(rows: string[][], right: boolean[], indent = '  '): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => indent + pad(r, widths, right));
}

function memoryBlock(title: string, m: MemoryTotals, regions: string): string[] {
  const head = `${title}: ${n(m.total)} B of ${n(m.capacity)} B (${pct(m.total, m.capacity)})  [${regions}]`;
  const rows = [['category', 'bytes', `% of ${title === 'RAM' ? 'RAM' : 'flash'}`]];
  for (const c of CATEGORIES) {
    if (m.categories[c] === 0) continue;
    rows.push([c, n(m.categories[c]), pct(m.categories[c], m.capacity)]);
  }
  rows.push(['total', n(m.total), pct(m.total, m.capacity)]);
  return [head, ...table(rows, [false, true, true])];
}

export function formatSizeTable(report: SizeReport): string {
  const regionList = (kind: string) =>
    report.regions
      .filter((r) => r.kind === kind)
      .map((r) => `${r.name} ${n(r.length)} B`)
      .join(', ') || 'no region';
  const out: string[] = [`map: ${report.map}${report.elf ? `  (checked against ${report.elf})` : ''}`, ''];
  out.push(...memoryBlock('Flash', report.flash, regionList('flash')), '');
  out.push(...memoryBlock('RAM', report.ram, regionList('ram')));

  const ram = report.ram;
  if (ram.peakStack !== undefined && ram.totalWithStack !== undefined) {
    out.push(
      `  measured peak stack: ${n(ram.peakStack)} B (from ${ram.peakStackSource}); ` +
        `reserved by the linker: ${n(ram.reservedStack)} B`,
      `  RAM the program needs = static RAM without the stack reserve (${n(ram.total - ram.reservedStack)} B)` +
        ` + measured stack = ${n(ram.totalWithStack)} B (${pct(ram.totalWithStack, ram.capacity)})`,
    );
  } else {
    out.push(
      '  no measured stack: pass --stack BYTES, or run the firmware so that run.json sits beside the map',
    );
  }
  if (ram.model) {
    const m = ram.model;
    const optimum = m.livenessBytes !== null ? `; liveness optimum ${n(m.livenessBytes)} B` : '';
    out.push(
      `  model RAM = arena ${n(m.arena)} B + inference stack ${n(m.inferenceStack)} B = ${n(m.total)} B${optimum}`,
    );
  }

  const layerNames = Object.keys(report.layers).sort();
  if (layerNames.length > 0) {
    out.push('', 'Layers (flash bytes)');
    const rows = [['layer', 'weights', 'tables', 'total']];
    for (const l of layerNames) {
      const { weights, tables } = report.layers[l];
      rows.push([l, n(weights), n(tables), n(weights + tables)]);
    }
    out.push(...table(rows, [false, true, true, true]));
  }

  if (report.top.length > 0) {
    out.push('', `Top ${report.top.length} input sections`);
    const rows = [['bytes', 'memory', 'category', 'symbol / section', 'object']];
    for (const t of report.top) rows.push([n(t.bytes), t.memory, t.category, t.name, t.object]);
    out.push(...table(rows, [true, false, false, false, false]));
  }

  if (report.warnings.length > 0) {
    out.push('', ...report.warnings.map((w) => `warning: ${w}`));
  }
  return out.join('\n') + '\n';
}

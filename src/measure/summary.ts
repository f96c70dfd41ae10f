// A target measurement as text for people: summary lines, per-class and per-layer tables.
import { formatTable, pct } from '../util/table.js';
import type { TargetResult } from './onTarget.js';

export const num = (v: number, digits = 0): string =>
  v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

export const bytes = (v: number): string => `${num(v)} B`;

export function formatTargetResult(r: TargetResult): string {
  const a = r.agreement;
  const correct = Math.round(r.accuracy * r.windows);
  const lines = [
    `board            ${r.board} (QEMU), ${r.windows} windows, ${r.mode === 'embed' ? 'embedded in flash' : 'read from the host'}`,
    `accuracy         ${pct(r.accuracy)} on target (${correct} / ${r.windows}); host reference ${pct(r.hostAccuracy)}`,
    `agreement        ${a.equal ? 'bit-exact: ' : 'MISMATCH: '}${a.matching} / ${r.windows} windows with equal ${a.layers ? 'outputs at every layer' : 'logits'}` +
      (a.mismatching ? `, ${a.mismatching} differ (${a.predictionsDiffer} with another class)` : ''),
  ];
  if (a.firstMismatch) {
    const m = a.firstMismatch;
    lines.push(
      `  first mismatch window ${m.window}: target [${m.target.join(', ')}] class ${m.targetClass}, host [${m.host.join(', ')}] class ${m.hostClass}`,
    );
    if (m.layer) {
      const l = m.layer;
      lines.push(
        `  first differing layer ${l.index} '${l.name}' (${l.kind}): ${l.differing} of ${l.size} outputs differ, first at t=${l.first.t} c=${l.first.c}: target ${l.first.target}, host ${l.first.host}`,
      );
    } else if (m.note) lines.push(`  ${m.note}`);
  }
  const i = r.instructions;
  lines.push(
    `instructions     ${num(i.mean, 1)} per inference (min ${num(i.min)}, max ${num(i.max)}); ${num(i.perMac, 2)} per MAC (${num(r.macs)} MACs)` +
      (i.resolution > 1 ? `; counted by SysTick, to ${i.resolution} instructions` : ''),
    `stack            ${bytes(r.stack.inference)} for the inference; firmware peak ${bytes(r.stack.peak)} of ${bytes(r.stack.reserved)} reserved`,
    `flash            ${bytes(r.flash.total)} of ${bytes(r.flash.capacity)}; model ${bytes(r.flash.model)} (weights ${bytes(r.flash.weights)}, tables ${bytes(r.flash.tables)}, kernels ${bytes(r.flash.kernels)})`,
    `RAM              static ${bytes(r.ram.static)} + peak stack ${bytes(r.stack.peak)} = ${bytes(r.ram.staticWithStack)} of ${bytes(r.ram.capacity)}; model ${bytes(r.ram.model)} (arena ${bytes(r.ram.arena)} + inference stack ${bytes(r.stack.inference)})${r.ram.livenessBytes !== null ? `; liveness optimum ${bytes(r.ram.livenessBytes)}` : ''}`,
    `wall time        ${num(r.wallMs.total / 1000, 1)} s (QEMU ${num(r.wallMs.qemu / 1000, 1)} s, host reference ${num(r.wallMs.reference / 1000, 1)} s${r.wallMs.trace ? `, trace ${num(r.wallMs.trace / 1000, 1)} s` : ''})`,
  );

  const classRows = r.perClass.map((c) => [
    c.class,
    String(c.windows),
    String(c.correct),
    c.accuracy === null ? '-' : pct(c.accuracy),
  ]);
  const layerRows = r.layers.map((l) => [
    `${l.index} ${l.name}`,
    l.kind,
    l.macs ? num(l.macs) : '-',
    l.instructions ? num(l.instructions.mean, 1) : '-',
    l.share === null ? '-' : pct(l.share, 1),
    l.perMac === null ? '-' : num(l.perMac, 2),
  ]);
  const confusionRows = r.confusion.map((row, t) => [r.classNames[t], ...row.map(String)]);
  return [
    ...lines,
    '',
    formatTable(['class', 'windows', 'correct', 'accuracy'], classRows),
    '',
    'confusion (rows: true class, columns: predicted class index)',
    formatTable(['', ...r.classNames.map((_, k) => String(k))], confusionRows),
    '',
    r.profile
      ? 'per layer (instructions per inference, mean over the windows)'
      : 'per layer: the firmware was built without per-layer hooks',
    formatTable(['layer', 'kind', 'MACs', 'instructions', 'share', 'per MAC'], layerRows),
  ].join('\n');
}

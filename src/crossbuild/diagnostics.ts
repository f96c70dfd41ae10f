// What gcc and ld print on stderr, turned into data: compiler diagnostics and region overflows.

export interface Diagnostic {
  severity: 'error' | 'warning' | 'note';
  file?: string;
  line?: number;
  column?: number;
  message: string;
}

const GCC_LINE = /^(.+?):(\d+)(?::(\d+))?: (fatal error|error|warning|note): (.*)$/;
// ld (through collect2) prints e.g. ".../ld: fw.elf section `.rodata' will not fit in region `FLASH'"
const LD_LINE = /(?:^|\/)ld(?:\.bfd)?: (.*)$/;

/** Diagnostics in gcc's `file:line:col: severity: message` form, plus ld's messages as errors. */
export function parseDiagnostics(stderr: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const raw of stderr.split('\n')) {
    const line = raw.trimEnd();
    const g = GCC_LINE.exec(line);
    if (g) {
      out.push({
        severity: g[4] === 'fatal error' ? 'error' : (g[4] as Diagnostic['severity']),
        file: g[1],
        line: Number(g[2]),
        column: g[3] ? Number(g[3]) : undefined,
        message: g[5],
      });
      continue;
    }
    const l = LD_LINE.exec(line);
    if (l) out.push({ severity: l[1].startsWith('warning:') ? 'warning' : 'error', message: l[1] });
  }
  return out;
}

export interface RegionOverflow {
  region: string;
  bytes: number;
}

/** ld's "region `FLASH' overflowed by N bytes" lines. */
export function parseRegionOverflows(stderr: string): RegionOverflow[] {
  const out: RegionOverflow[] = [];
  for (const m of stderr.matchAll(/region [`'"]?([A-Za-z0-9_]+)['"]? overflowed by (\d+) bytes?/g)) {
    if (!out.some((o) => o.region === m[1])) out.push({ region: m[1], bytes: Number(m[2]) });
  }
  return out;
}

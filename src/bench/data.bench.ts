// Bring-your-own-data at scale: >= 1 GB of generated CSV recordings (the example set of
// `tinyforge data example`, with more subjects and longer sessions, streamed to disk), then read
// through its dataset description twice: streamed (parsed, resampled and windowed, each window
// counted and dropped: the reader's own throughput and memory), then loaded as `train` loads it
// (windows kept, split by subject, written to the parsed-data cache). Prints each stage's time,
// throughput and the process's peak RSS (maxRSS; the target: below 1 GB). The cache goes to the
// temporary folder too, so every run parses; everything is removed at the end.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeExampleRecordings, type ExampleRecordingOptions } from '../data/generateRecordings.js';
import { loadDataset } from '../data/load.js';
import { scanRecordings } from '../data/recordings/index.js';

/** CSV to generate, in MB (10^6 bytes); TINYFORGE_BENCH_DATA_MB overrides it for a quick look. */
const TARGET_MB = Number(process.env.TINYFORGE_BENCH_DATA_MB ?? 1100);
/** Per subject: 6 sessions of 3 activities of 60-120 s, ~9.9 MB of CSV. */
const PER_SUBJECT: ExampleRecordingOptions = {
  sessionsPerSubject: 6,
  segmentsPerSession: 3,
  segmentSeconds: [60, 120],
};
const MB_PER_SUBJECT = 9.9;

const mb = (bytes: number) => bytes / 1e6;
/** Peak resident set size of this process so far, bytes (maxRSS is in KB). */
const peakRss = () => process.resourceUsage().maxRSS * 1024;

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tf-bench-data-'));
  const savedCache = process.env.TINYFORGE_CACHE;
  process.env.TINYFORGE_CACHE = join(dir, 'cache');
  const rows: [string, string][] = [];
  try {
    const subjects = Math.max(1, Math.ceil(TARGET_MB / MB_PER_SUBJECT));
    let t0 = performance.now();
    const { description, files } = writeExampleRecordings(join(dir, 'rec'), {
      ...PER_SUBJECT,
      subjects,
      seed: 1,
    });
    const genSeconds = (performance.now() - t0) / 1000;
    const bytes = files.reduce((s, f) => s + statSync(f).size, 0);
    const peakAfterGen = peakRss();

    t0 = performance.now();
    let cpu0 = process.cpuUsage();
    let scanned = 0;
    const scan = scanRecordings(description, () => scanned++);
    const scanSeconds = (performance.now() - t0) / 1000;
    const scanCpu = process.cpuUsage(cpu0);
    const peakAfterScan = peakRss();

    t0 = performance.now();
    cpu0 = process.cpuUsage();
    const ds = loadDataset(description);
    const loadSeconds = (performance.now() - t0) / 1000;
    const loadCpu = process.cpuUsage(cpu0);
    const peak = peakRss();
    const sets = [ds.train, ...(ds.val ? [ds.val] : []), ds.test];
    const windows = sets.reduce((s, w) => s + w.n, 0);
    const windowBytes = sets.reduce(
      (s, w) => s + w.x.byteLength + w.y.byteLength + (w.subjects?.byteLength ?? 0),
      0,
    );
    const cpuS = (u: NodeJS.CpuUsage) => ((u.user + u.system) / 1e6).toFixed(1);
    const rate = (seconds: number, n: number) =>
      `${(mb(bytes) / seconds).toFixed(1)} MB/s, ${(scan.rows / seconds / 1e6).toFixed(2)} M rows/s, ${(n / seconds).toFixed(0)} windows/s`;
    rows.push(
      [
        'CSV generated',
        `${files.length} files, ${mb(bytes).toFixed(0)} MB, ${scan.rows} rows (${subjects} subjects x 6 sessions)`,
      ],
      ['generation', `${genSeconds.toFixed(1)} s, ${(mb(bytes) / genSeconds).toFixed(1)} MB/s`],
      ['peak RSS after generation', `${mb(peakAfterGen).toFixed(0)} MB`],
      [
        'description',
        `the example's: ~100 Hz resampled to ${ds.rateHz} Hz, windows of ${ds.test.steps} x ${ds.test.channels}, hop 50%, split by subject`,
      ],
      [
        'streamed (scanRecordings)',
        `${scanSeconds.toFixed(1)} s (CPU ${cpuS(scanCpu)} s), ${rate(scanSeconds, scanned)}`,
      ],
      ['peak RSS after streaming', `${mb(peakAfterScan).toFixed(0)} MB`],
      [
        'loaded (loadDataset)',
        `${loadSeconds.toFixed(1)} s (CPU ${cpuS(loadCpu)} s), ${rate(loadSeconds, windows)}, cache written`,
      ],
      [
        'windows kept',
        `${windows} (train ${ds.train.n}, val ${ds.val?.n ?? 0}, test ${ds.test.n}): ${mb(windowBytes).toFixed(0)} MB`,
      ],
      [
        'peak RSS (whole run)',
        `${mb(peak).toFixed(0)} MB: ${peak < 1e9 ? 'below' : 'ABOVE'} the 1 GB target`,
      ],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (savedCache === undefined) delete process.env.TINYFORGE_CACHE;
    else process.env.TINYFORGE_CACHE = savedCache;
  }
  const width = Math.max(...rows.map((r) => r[0].length));
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
}

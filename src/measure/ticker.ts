// A one-line elapsed-time ticker on stderr for runs whose output arrives only at the end (runOnQemu
// collects QEMU's output): shown only when stderr is a terminal.

export type ProgressMode = 'auto' | 'none';

export function startTicker(label: string, mode: ProgressMode = 'auto'): (final?: string) => void {
  if (mode === 'none' || !process.stderr.isTTY) return () => {};
  const t0 = Date.now();
  const frames = ['|', '/', '-', '\\'];
  let i = 0;
  const draw = () => {
    const s = ((Date.now() - t0) / 1000).toFixed(0);
    process.stderr.write(`\r${frames[i++ % frames.length]} ${label} ${s} s`);
  };
  draw();
  const timer = setInterval(draw, 250);
  return (final?: string) => {
    clearInterval(timer);
    process.stderr.write('\r\x1b[2K' + (final ? final + '\n' : ''));
  };
}

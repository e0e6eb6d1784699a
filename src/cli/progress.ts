import cliProgress from 'cli-progress';

/**
 * A progress bar on stderr for long steps, only when stderr is a terminal (CI logs and pipes stay clean).
 * Returns an update callback and a stop function.
 */
export function progressBar(label: string, unit: 'bytes' | 'items' = 'items'): { update: (done: number, total: number) => void; stop: () => void } {
  if (!process.stderr.isTTY) return { update: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    {
      format: `${label.padEnd(18)} [{bar}] {percentage}% | {value_h}/{total_h}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
      formatValue: (v, _o, type) => {
        if (type !== 'value' && type !== 'total') return String(v);
        return unit === 'bytes' ? `${(v / 1048576).toFixed(1)} MB` : String(v);
      },
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total) {
      if (!started) {
        bar.start(total, 0, { value_h: '', total_h: '' });
        started = true;
      }
      bar.setTotal(total);
      const fmt = (v: number) => (unit === 'bytes' ? `${(v / 1048576).toFixed(1)} MB` : String(v));
      bar.update(done, { value_h: fmt(done), total_h: fmt(total) });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

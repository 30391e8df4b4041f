// How bench/latency_worker.ts orders the runs it times (see there); its own module because
// importing the worker would run it.
export type Schedule = 'interleaved' | 'alone';

export function parseSchedule(text: string): Schedule {
  if (text !== 'interleaved' && text !== 'alone') throw new Error(`--schedule must be interleaved or alone, got ${text}`);
  return text;
}

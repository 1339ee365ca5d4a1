/** The explorer's heatmap: which score a method shows, and S binned down to a number of cells the page can draw. */
import type { Method } from './methods';

/** The score a method's heatmap shows: w/o UaQ its own S, every other method MaTrice's S. */
export function heatmapOf(method: Method): 'matrice' | 'no-uaq' {
  return method === 'no-uaq' ? 'no-uaq' : 'matrice';
}

/** Whether the method's selection has a threshold 𝒯 on the heatmap's S to show (MaTrice, w/o UaQ, Random). */
export function showsThreshold(method: Method): boolean {
  return method === 'matrice' || method === 'no-uaq' || method === 'random';
}

/**
 * S (layers × neurons) as at most about `maxCells` cells: each row's bins of `bin` consecutive neurons hold
 * their largest finite score (0 when none is finite); with bin 1 the scores as they are (non-finite as 0).
 */
export function binHeatmap(S: ArrayLike<number>[], numLayers: number, ffnSize: number, maxCells = 65536): { S: number[][]; bin: number } {
  const bin = Math.max(1, Math.ceil((numLayers * ffnSize) / Math.max(1, maxCells)));
  const cells = S.map((row) => {
    if (bin === 1) return Array.from(row, (v) => (Number.isFinite(v) ? v : 0));
    const out: number[] = [];
    for (let j = 0; j < row.length; j += bin) {
      let m = -Infinity;
      for (let k = j; k < Math.min(row.length, j + bin); k++) if (Number.isFinite(row[k]) && row[k] > m) m = row[k];
      out.push(m === -Infinity ? 0 : m);
    }
    return out;
  });
  return { S: cells, bin };
}

import { it } from 'vitest';
import { lab } from 'd3';
import { colorLUT, relativeLuminance } from '../../src/ui/plots/heatmap';
it('x', () => {
  const lut = colorLUT([0, 1]);
  let prev = -1, prevY = -1, minDiff = 1, minDiffY = 1;
  for (let i = 0; i < 256; i++) {
    const c = `rgb(${lut[4 * i]},${lut[4 * i + 1]},${lut[4 * i + 2]})`;
    const L = lab(c).l; const y = relativeLuminance(c);
    if (i) { minDiff = Math.min(minDiff, L - prev); minDiffY = Math.min(minDiffY, y - prevY); }
    prev = L; prevY = y;
  }
  console.log('minDiff L*', minDiff, 'minDiff Y', minDiffY);
});

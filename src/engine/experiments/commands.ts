/**
 * The command lines that reproduce a results folder, one home for the CLI's reports and the page's: a leaf
 * module (types and rules only), so the page can import it without pulling in the engine.
 */
import { DEFAULT_BASELINE, DEFAULT_SETTINGS, LEGACY_QUADRATURE } from '../rules';
import type { RunMeta } from './core';
import type { EditMeta } from './edit';
import type { ExperimentMeta } from './manipulate';

/** `npm run -s kn -- experiment <sub> --model … --facts N [--split …] [--relations …]`: how every run's command starts. */
function commandHead(sub: string, m: RunMeta): string[] {
  const parts = [`npm run -s kn -- experiment ${sub} --model ${m.model.id}`, `--facts ${m.request.facts}`];
  if (m.request.split) parts.push(`--split ${m.request.split}`);
  if (m.request.relations.length) parts.push(`--relations ${m.request.relations.join(',')}`);
  return parts;
}

/** The std weights that differ from the defaults (rules: DEFAULT_SETTINGS), as flags. */
const weightFlagsOf = (m: RunMeta) =>
  (['alpha1', 'alpha2', 'beta1', 'beta2'] as const).filter((k) => m.settings[k] !== DEFAULT_SETTINGS[k]).map((k) => `--${k} ${m.settings[k]}`);

/** `--baseline` when the run used another than the default. */
const baselineFlag = (m: RunMeta) => (m.baseline !== DEFAULT_BASELINE ? ` --baseline ${m.baseline}` : '');

/** A readings run: every method key names an Eq. 9 / Eq. 5 reading (`matrice@scale/none`, …). */
export const isReadingsMeta = (m: Pick<ExperimentMeta, 'methods'>) => m.methods.length > 0 && m.methods.every((k) => k.includes('@'));

/** The command line that reproduces a manipulate / readings run (printed in its report, CLI and page alike). */
export function reproduceCommand(m: ExperimentMeta): string {
  const readings = isReadingsMeta(m);
  const parts = commandHead(readings ? 'readings' : 'manipulate', m);
  parts.push(`--langs ${m.langs.join(',')}`);
  if (!readings) parts.push(`--methods ${m.methods.join(',')}`);
  const w = weightFlagsOf(m);
  // a folder without a quadrature was computed with the legacy rule; always named, so a later change of the default
  // does not change what the command computes
  const q = m.quadrature ?? LEGACY_QUADRATURE;
  parts.push(
    `--seed ${m.seed} --steps ${m.steps}${baselineFlag(m)} --quadrature ${q}` +
      ` --tau ${m.settings.tau}${w.length ? ' ' + w.join(' ') : ''} --norm ${m.settings.norm} --attr-norm ${m.settings.attrNorm}${m.model.dtype === 'f32' ? ' --dtype f32' : ''} --out <dir>`,
  );
  return parts.join(' ');
}

/** The command line that reproduces an edit / enhance / inject run (printed in its report). */
export function reproduceEditCommand(m: EditMeta): string {
  const parts = commandHead(m.experiment, m);
  parts.push(`--langs ${m.langs.join(',')} --methods ${m.methods.join(',')}`);
  if (m.edit) parts.push(`--lambda1 ${m.edit.lambda1} --lambda2 ${m.edit.lambda2} --unrelated ${m.edit.unrelatedFacts}`);
  if (m.inject) parts.push(`--train-steps ${m.inject.steps} --lr ${m.inject.lr} --old ${m.inject.oldFacts.length} --k ${m.inject.k}`);
  const w = weightFlagsOf(m);
  parts.push(
    `--seed ${m.seed} --steps ${m.steps}${baselineFlag(m)} --quadrature ${m.quadrature ?? LEGACY_QUADRATURE} --tau ${m.settings.tau}${w.length ? ' ' + w.join(' ') : ''} --norm ${m.settings.norm} --attr-norm ${m.settings.attrNorm}`,
  );
  if (m.model.dtype && m.model.dtype !== 'int8') parts.push(`--dtype ${m.model.dtype}`);
  parts.push('--out <dir>');
  return parts.join(' ');
}

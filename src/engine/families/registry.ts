/** The architecture registry: one entry per architecture family. */
import { KnError } from '../../shared/errors';
import { bert } from './bert';
import { bloom } from './bloom';
import type { FamilyDef } from './family';
import { gemma } from './gemma';
import { gpt2 } from './gpt2';
import { llama } from './llama';
import { xlmr } from './xlmr';

export const FAMILIES: FamilyDef[] = [gpt2, llama, bert, xlmr, bloom, gemma];

export function supportedArchitectures(): string[] {
  return FAMILIES.flatMap((f) => f.architectures);
}

export function familyFor(config: Record<string, unknown>): { family: FamilyDef; architecture: string } {
  const archs = config.architectures;
  if (!Array.isArray(archs) || archs.length === 0 || typeof archs[0] !== 'string') {
    throw new KnError('bad-config', `config.json: "architectures" is missing; expected one of ${supportedArchitectures().join(', ')}`);
  }
  const architecture = archs[0] as string;
  const family = FAMILIES.find((f) => f.architectures.includes(architecture));
  if (!family) {
    throw new KnError(
      'unsupported-architecture',
      `config.json: architecture "${architecture}" is not supported; supported: ${supportedArchitectures().join(', ')}`,
    );
  }
  return { family, architecture };
}

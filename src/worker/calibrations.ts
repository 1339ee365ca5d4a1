/**
 * Calibrations made on this page ("Calibrate on this model" in the Experiments view, then "Use these settings
 * for this model"), kept per weights' content hash: one idb-keyval store ('kn-calibrations' / 'byHash'), beside
 * the experiments' ('kn-experiments'), with the same in-memory twin for tests and private windows.
 *
 *   <content hash>   { text, savedAt }   text: the calibration block, the same JSON as calibration.json
 *
 * What is stored is read back with the engine's parseCalibration (engine/selection/calibration.ts effectiveCalibration):
 * a malformed block, or one of other weights, is refused naming the field and ignored.
 */
import { effectiveCalibration } from '../engine/selection';
import { KnError } from '../shared/errors';
import type { CalibrationBlock } from '../engine/experiments';
import type { ModelInfo } from '../shared/types';
import { IdbRecordStore, MemoryRecordStore, type RecordStore } from '../data/store';

interface StoredCalibration {
  text: string;
  savedAt: number;
}

export class CalibrationStore {
  constructor(readonly records: RecordStore) {}

  /** Keeps a block for the weights it names (block.contentHash); replaces an earlier one. */
  async set(block: CalibrationBlock): Promise<void> {
    if (!block || typeof block.contentHash !== 'string' || !block.contentHash) throw new KnError('bad-input', 'calibration: the block names no contentHash');
    await this.records.set(block.contentHash, { text: JSON.stringify(block, null, 1) + '\n', savedAt: Date.now() } satisfies StoredCalibration);
  }

  /** The stored block's text for these weights (unchecked: effectiveCalibration parses it), or null. */
  async get(contentHash: string): Promise<string | null> {
    let rec: StoredCalibration | undefined;
    try {
      rec = await this.records.get<StoredCalibration>(contentHash);
    } catch {
      return null;
    }
    if (rec === undefined || rec === null) return null;
    // anything but a record with text is handed on as it is, so parseCalibration names what is wrong
    return rec && typeof rec === 'object' && typeof rec.text === 'string' ? rec.text : JSON.stringify(rec);
  }

  async forget(contentHash: string): Promise<void> {
    await this.records.delete(contentHash);
  }

  /**
   * "Use these settings for this model": keeps calibration run `id`'s block for the loaded weights `info` and
   * returns their info with it; refused when no setting qualified or the run was made on other weights.
   */
  async use(id: string, run: { block: CalibrationBlock | null; meta: { model: { id: string } } }, info: ModelInfo): Promise<ModelInfo> {
    if (!run.block) {
      throw new KnError('bad-input', `calibration ${id}: no setting qualifies under the rule, so there is nothing to use (METHOD's defaults stay)`);
    }
    if (run.block.contentHash !== info.contentHash) {
      throw new KnError('bad-input', `calibration ${id} was made on other weights (${run.meta.model.id}); load that model to use it`);
    }
    await this.set(run.block);
    return this.effective(info);
  }

  /** "Forget this calibration": drops the one stored for these weights; returns their info as `use`. */
  async forgetFor(info: ModelInfo): Promise<ModelInfo> {
    await this.forget(info.contentHash);
    return this.effective(info);
  }

  /** The loaded weights' info with the effective calibration: stored here, else the folder's, else none. */
  async effective(info: ModelInfo): Promise<ModelInfo> {
    return effectiveCalibration(info, await this.get(info.contentHash));
  }
}

/** IndexedDB when it works, otherwise memory (a stored calibration then lasts until the page reloads). */
export function createCalibrationStore(): CalibrationStore {
  try {
    return new CalibrationStore(new IdbRecordStore('kn-calibrations', 'byHash'));
  } catch {
    return new CalibrationStore(new MemoryRecordStore());
  }
}

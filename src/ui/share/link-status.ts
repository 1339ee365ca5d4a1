/**
 * Why the Share view has no link to offer, in words for the user; null when it has one.
 * (A read-only exploration is handled separately: it offers to reopen live.)
 */
export function shareLinkUnavailable(s: { hasModel: boolean; loading: boolean; modelType: string | null }): string | null {
  if (s.loading) return 'The model is still loading: the link appears as soon as it is ready.';
  if (!s.hasModel) {
    return 'No model is loaded yet, so there is nothing to share by link. Load one in "1 · Model & facts": the link then holds its source, the fact, the languages, the settings and the toggles. An exploration file can still be imported below.';
  }
  if (s.modelType === 'files') {
    return 'This model was loaded from local files, which a link cannot carry: export an exploration file instead (it holds the results), or load the model from a URL or the Hugging Face hub.';
  }
  return null;
}

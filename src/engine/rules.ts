/**
 * Rules of the engine that the CLI, the worker and the page all read (no copies of these literals elsewhere).
 * A leaf module: it imports nothing, so the page can read it without pulling in the engine.
 */

/**
 * Above this share of a query's P(correct), its IG completeness error |Σ_j Attr − (P(w̄) − P(w'))| (max over
 * layers and baselines) is large enough to question the quadrature (docs/METHOD.md "Choosing the quadrature").
 */
export const COMPLETENESS_FLAG = 0.05;

/** The finer quadrature a flagged query is re-attributed with, to see whether the selection changes. */
export const RECHECK = { quadrature: 'gauss-legendre', steps: 64 } as const;

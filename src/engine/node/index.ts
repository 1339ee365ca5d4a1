/** The engine's Node-only front door (files, the repository's bundled models): the CLI, scripts and tests. */
export * from '../source/source-node';

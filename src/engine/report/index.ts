/** Reports of experiment results: tables, CSV, SVG charts. */
export * from './edit-report';
export * from './report';
export * from './svg';

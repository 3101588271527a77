#!/usr/bin/env node
// `npm run bench [-- <name>...]`: the benchmark harness. TypeScript runs through tsx's loader,
// like bin/assay.mjs, so the harness imports the same sources the server runs.
import { register } from 'tsx/esm/api';

register();
await import('../bench/run.ts');

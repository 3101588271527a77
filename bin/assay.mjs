#!/usr/bin/env node
// The `assay` command. TypeScript runs through tsx's loader, so the same sources serve in
// development, in CI and in the container without a separate build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
await main(process.argv);

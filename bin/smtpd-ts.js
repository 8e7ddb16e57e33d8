#!/usr/bin/env node
// The compiled CLI: `npm run build` writes dist/, and `npm ci`, `npm install`
// and `npm pack` run it (the `prepare` script), so no TypeScript tooling is
// needed where the package is installed.
import '../dist/cli/run.js';

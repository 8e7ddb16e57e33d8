import { createRequire } from 'node:module';

// Read at run time from the package itself, so the version has one source
// whether this runs from src/ through tsx or from the compiled dist/.
const pkg = createRequire(import.meta.url)('../package.json') as { version: string };

/** This package's version, from package.json. */
export const VERSION: string = pkg.version;

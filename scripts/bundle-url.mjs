// Injected into the bundles (scripts/build-bundle.mjs): CommonJS has no import.meta, so the few
// places that find files beside themselves get the bundle's own URL in its place.
import { pathToFileURL } from 'node:url';

export const KEEPALIVE_BUNDLE_URL = pathToFileURL(__filename).href;

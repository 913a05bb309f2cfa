/** The lab's version (package.json), read once: what runs record in config.json, `lab --version`, GTP and the server report. */
import { readFileSync } from 'node:fs';

export const LAB_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

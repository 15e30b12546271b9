import { browserSuite } from './browser-suite.js'

// The dashboard page in headless Chromium against duckdb.
await browserSuite('duckdb')

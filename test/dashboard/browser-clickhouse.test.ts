import { browserSuite } from './browser-suite.js'

// The dashboard page in headless Chromium against clickhouse.
await browserSuite('clickhouse')

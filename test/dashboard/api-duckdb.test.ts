import { apiSuite } from './api-suite.js'

// The dashboard's API against duckdb, loaded with the report fixture (test/warehouse/fixture.ts).
await apiSuite('duckdb')

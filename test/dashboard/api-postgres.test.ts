import { apiSuite } from './api-suite.js'

// The dashboard's API against postgres, loaded with the report fixture (test/warehouse/fixture.ts).
await apiSuite('postgres')

import type { DeliveryMode } from '../../lib/index.js'

/**
 * The delivery mode the shared suites (the fault matrix, hostile input) run in:
 * `ANALYTICS_TEST_DELIVERY=worker npx tap …` runs them with the built-in collectors in the worker.
 * `npm test` runs them both ways (`npm run test:worker` is its worker-mode half, and must list every
 * suite that reads this: test/suite.test.ts checks it).
 */
export const TEST_DELIVERY: DeliveryMode = process.env.ANALYTICS_TEST_DELIVERY === 'worker' ? 'worker' : 'inline'

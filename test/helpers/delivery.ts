import type { DeliveryMode } from '../../lib/index.js'

/**
 * The delivery mode the shared suites (fault matrix, misbehaviour, hostile input, lifecycle) run in:
 * `ANALYTICS_TEST_DELIVERY=worker npx tap …` runs them with the built-in collectors in the worker.
 * `npm test` runs them both ways (`npm run test:worker` is its worker-mode half).
 */
export const TEST_DELIVERY: DeliveryMode = process.env.ANALYTICS_TEST_DELIVERY === 'worker' ? 'worker' : 'inline'

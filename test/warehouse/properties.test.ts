// The properties JSON every warehouse row carries (lib/collectors/warehouse/common.ts): what a
// custom pipeline or beforeSend left in an event is cleaned there, key by key.
import { test } from 'tap'
import { propertiesJSON } from '../../lib/collectors/warehouse/common.js'

const props = (values: Record<string, unknown>): Record<string, string | number | boolean> =>
  Object.assign(Object.create(null), values) as Record<string, string | number | boolean>

test('a key that cleaning turns into __proto__ is stored as that key, not lost to the prototype setter', async (t) => {
  t.equal(propertiesJSON(props({ '__pro\u0000to__': 'kept', plan: 'annual' })), '{"plan":"annual","__proto__":"kept"}')
})

test('values keep their type; text is made valid; what JSON cannot hold is left out', async (t) => {
  t.equal(propertiesJSON(props({ seats: 3, trial: false, name: 'a\uD800b', bad: Number.NaN })), '{"seats":3,"trial":false,"name":"a\uFFFDb"}')
})

import { test } from 'tap'
import { Ledger } from '../../lib/batch/ledger.js'

test('the ledger balances through every movement: receive, refuse, take, settle, abandon', async (t) => {
  const ledger = new Ledger()
  for (let i = 0; i < 10; i++) ledger.receive()
  ledger.refuse('closed')
  ledger.refuse('invalid', 2)
  ledger.refuse('queueFull', 0) // nothing refused: not counted
  t.ok(ledger.balanced(10), '13 received: 10 queued, 3 dropped')
  ledger.take(6)
  t.ok(ledger.balanced(4))
  ledger.settle(3, 'destination', 1)
  ledger.settle(0, 'rejected', 1)
  t.ok(ledger.balanced(4), 'one request in flight')
  t.equal(ledger.abandon(4), 5, 'the queued four and the one in flight')
  t.ok(ledger.balanced(0))
  t.same(ledger.report(0), {
    delivered: 3,
    dropped: { queueFull: 0, invalid: 2, rejected: 1, destination: 1, failed: 0, shutdown: 5, closed: 1 },
    retries: 0,
    queued: 0,
    inFlight: 0
  })
})

test('the ledger sees a lost event, a counted twice event, and one settled twice', async (t) => {
  const lost = new Ledger()
  lost.receive()
  lost.receive()
  lost.take(1)
  t.equal(lost.balance(0), 1, 'received but neither queued, in flight, delivered nor dropped')
  t.notOk(lost.balanced(0))

  const doubled = new Ledger()
  doubled.receive()
  doubled.take(1)
  doubled.settle(1, 'failed', 0)
  t.ok(doubled.balanced(0))
  t.equal(doubled.balance(1), -1, 'delivered and still queued')

  const twice = new Ledger()
  twice.receive()
  twice.receive()
  twice.take(1)
  twice.settle(1, 'failed', 0)
  twice.settle(1, 'failed', 0)
  t.equal(twice.balance(1), 0, 'the sums alone cannot tell (one still queued)')
  t.notOk(twice.balanced(1), 'a negative in-flight count does')
})

test('an unknown drop reason is counted invalid rather than lost', async (t) => {
  const ledger = new Ledger()
  ledger.refuse('nonsense' as 'invalid', 2)
  t.equal(ledger.dropped.invalid, 2)
  t.ok(ledger.balanced(0))
})

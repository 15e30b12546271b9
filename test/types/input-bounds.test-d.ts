import Fastify from 'fastify'
import { expectError, expectType } from 'tsd'
import analytics, {
  Money, MAX_MONEY_DIGITS, MAX_NAME_LENGTH, MAX_USER_ID_LENGTH, MAX_HOSTNAME_LENGTH, MAX_LOCALE_LENGTH, MAX_METHOD_LENGTH,
  MAX_CLIENT_IP_LENGTH, MAX_PROPERTY_KEY_LENGTH, MAX_PROPERTY_VALUE_LENGTH, MAX_FIELD_LENGTH, MIN_TIMESTAMP, MAX_TIMESTAMP
} from 'fastify-analytics'
import { ga4Collector, type Ga4PrivacyStats } from 'fastify-analytics/ga4'

for (const cap of [MAX_MONEY_DIGITS, MAX_NAME_LENGTH, MAX_USER_ID_LENGTH, MAX_HOSTNAME_LENGTH, MAX_LOCALE_LENGTH, MAX_METHOD_LENGTH,
  MAX_CLIENT_IP_LENGTH, MAX_PROPERTY_KEY_LENGTH, MAX_PROPERTY_VALUE_LENGTH, MAX_FIELD_LENGTH]) {
  expectType<number>(cap)
}
expectType<'1970-01-01T00:00:00.000Z'>(MIN_TIMESTAMP)
expectType<'2105-12-31T23:59:59.999Z'>(MAX_TIMESTAMP)
expectType<Money>(Money.fromMinor(10n ** BigInt(MAX_MONEY_DIGITS) - 1n, 'USD'))

const app = Fastify()
app.register(analytics, { collectors: [] })
expectType<number>(app.analytics.stats().events.truncated)

const ga4 = ga4Collector({ measurementId: 'G-X', apiSecret: 's' })
expectType<Ga4PrivacyStats>(ga4.privacyStats())
expectType<number>(ga4.privacyStats().emailUserIds)
expectError(ga4.privacyStats().sessions)

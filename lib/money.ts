import { FST_ANALYTICS_INVALID_MONEY } from './errors.js'

/** The JSON form of a Money value: a decimal string, never a float, so no precision is lost. */
export interface MoneyJSON {
  amount: string
  currency: string
}

let supportedCurrencies: ReadonlySet<string> | undefined
const exponents = new Map<string, number>()

function currencyExponent (currency: unknown): number {
  if (typeof currency !== 'string') {
    throw new FST_ANALYTICS_INVALID_MONEY(`currency must be a string, got ${typeof currency}`)
  }
  const cached = exponents.get(currency)
  if (cached !== undefined) return cached
  supportedCurrencies ??= new Set(Intl.supportedValuesOf('currency'))
  if (!supportedCurrencies.has(currency)) {
    const upper = currency.toUpperCase()
    const hint = upper !== currency && supportedCurrencies.has(upper) ? `: currency codes are upper case, "${upper}"` : ''
    throw new FST_ANALYTICS_INVALID_MONEY(`"${currency.slice(0, 16)}" is not an ISO 4217 currency code this runtime knows${hint}`)
  }
  // Intl carries ISO 4217's minor-unit table: JPY 0, GBP 2, KWD 3. No hand-kept table to go stale.
  const exponent = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2
  exponents.set(currency, exponent)
  return exponent
}

/**
 * An amount has at most this many digits of minor units (|minor| < 10^30). Every real amount fits
 * with room to spare (the world's yearly GDP is ~10^16 US cents; hyperinflated currencies reach
 * ~10^25), PostgreSQL `numeric` and ClickHouse `Decimal128` (38 digits) hold it, and its cost stays
 * that of a small number: a bigint of a million digits took 160 ms per collector to serialise.
 */
export const MAX_MONEY_DIGITS = 30
const MINOR_LIMIT = 10n ** BigInt(MAX_MONEY_DIGITS)

const DECIMAL = /^(-)?(\d{1,30})(?:\.(\d{1,30}))?$/

function checkDigits (minor: bigint): bigint {
  // A comparison, not a toString: what is refused here costs nothing to refuse.
  if (minor >= MINOR_LIMIT || minor <= -MINOR_LIMIT) {
    throw new FST_ANALYTICS_INVALID_MONEY(`amount has more than ${MAX_MONEY_DIGITS} digits of minor units (MAX_MONEY_DIGITS)`)
  }
  return minor
}

/**
 * An amount of money as integer minor units of an ISO 4217 currency.
 * Immutable; construct with `Money.fromMinor` or `Money.fromDecimal`.
 */
export class Money {
  readonly minor: bigint
  readonly currency: string
  readonly exponent: number

  private constructor (minor: bigint, currency: string, exponent: number) {
    this.minor = minor
    this.currency = currency
    this.exponent = exponent
    Object.freeze(this)
  }

  /** `Money.fromMinor(2999, 'GBP')` is £29.99; `Money.fromMinor(500, 'JPY')` is ¥500. */
  static fromMinor (minor: number | bigint, currency: string): Money {
    const exponent = currencyExponent(currency)
    if (typeof minor === 'bigint') return new Money(checkDigits(minor), currency, exponent)
    if (typeof minor !== 'number' || !Number.isSafeInteger(minor)) {
      throw new FST_ANALYTICS_INVALID_MONEY(`minor amount must be a safe integer or a bigint, got ${String(minor).slice(0, 32)}`)
    }
    return new Money(BigInt(minor), currency, exponent)
  }

  /** `Money.fromDecimal('29.99', 'GBP')`. More decimals than the currency has is an error, not a rounding. */
  static fromDecimal (amount: string, currency: string): Money {
    const exponent = currencyExponent(currency)
    if (typeof amount !== 'string') {
      // A float cannot hold most decimal amounts exactly (0.1 + 0.2): the API takes text or minor units.
      const example = typeof amount === 'number' && Number.isFinite(amount) ? String(amount) : '29.99'
      throw new FST_ANALYTICS_INVALID_MONEY(`amount must be a string like "${example.slice(0, 32)}", got a ${typeof amount}: ` +
        `pass Money.fromDecimal("${example.slice(0, 32)}", …), or integer minor units to Money.fromMinor`)
    }
    const match = DECIMAL.exec(amount)
    if (match === null) {
      throw new FST_ANALYTICS_INVALID_MONEY(`"${String(amount).slice(0, 32)}" is not a decimal amount like "29.99"`)
    }
    const fraction = match[3] ?? ''
    if (fraction.length > exponent) {
      throw new FST_ANALYTICS_INVALID_MONEY(`${currency} has ${exponent} decimal places, "${amount}" has ${fraction.length}`)
    }
    const digits = match[2] + fraction.padEnd(exponent, '0')
    const minor = checkDigits(BigInt(digits))
    return new Money(match[1] === '-' ? -minor : minor, currency, exponent)
  }

  /** "29.99" for 2999 GBP, "500" for 500 JPY, "1.500" for 1500 KWD. */
  toDecimalString (): string {
    const negative = this.minor < 0n
    const digits = (negative ? -this.minor : this.minor).toString()
    if (this.exponent === 0) return negative ? `-${digits}` : digits
    const padded = digits.padStart(this.exponent + 1, '0')
    const cut = padded.length - this.exponent
    return `${negative ? '-' : ''}${padded.slice(0, cut)}.${padded.slice(cut)}`
  }

  /** Major units as a number, for APIs that want one (GA4 `value`). May lose precision past 2^53. */
  toNumber (): number {
    return Number(this.toDecimalString())
  }

  toJSON (): MoneyJSON {
    return { amount: this.toDecimalString(), currency: this.currency }
  }

  toString (): string {
    return `${this.toDecimalString()} ${this.currency}`
  }

  static isMoney (value: unknown): value is Money {
    return value instanceof Money
  }
}

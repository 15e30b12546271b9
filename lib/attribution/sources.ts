// What Matomo's lists do not say and GA4's channel rules need: the video and shopping sites (GA4
// keeps its own lists of those, unpublished), a few search engines that send only their origin,
// and the short names campaigns use for big sources. Hand-written and short on purpose: each entry
// is a well-known site; the long tail comes from the vendored lists (data/referrers.ts).

/** What kind of place a source is; '' when it is none of the kinds GA4's rules name. */
export type SourceKind = 'search' | 'social' | 'video' | 'shopping' | 'ai' | ''

/** [name, host patterns] as in data/referrers.ts: `amazon.{}` is any top-level domain. */
export type SourceRow = readonly [string, string]

/**
 * Video sites: GA4's Organic and Paid Video. YouTube, Vimeo and bilibili are social networks in
 * Matomo's list; here they are video, as in GA4's own source categories.
 */
export const VIDEO_SITES: readonly SourceRow[] = [
  ['YouTube', 'youtube.com m.youtube.com youtu.be music.youtube.com'],
  ['Vimeo', 'vimeo.com player.vimeo.com'],
  ['Twitch', 'twitch.tv m.twitch.tv'],
  ['Dailymotion', 'dailymotion.com'],
  ['Wistia', 'wistia.com fast.wistia.net'],
  ['bilibili', 'bilibili.com m.bilibili.com'],
  ['Rumble', 'rumble.com']
]

/** Shopping sites: GA4's Organic and Paid Shopping. */
export const SHOPPING_SITES: readonly SourceRow[] = [
  ['Amazon', 'amazon.{} smile.amazon.{}'],
  ['eBay', 'ebay.{}'],
  ['Etsy', 'etsy.com'],
  ['Walmart', 'walmart.com'],
  ['AliExpress', 'aliexpress.com aliexpress.us'],
  ['Alibaba', 'alibaba.com'],
  ['Mercado Libre', 'mercadolibre.{} mercadolivre.com.br'],
  ['Shopify', 'shop.app shopify.com'],
  ['Google Shopping', 'shopping.google.{}'],
  ['Rakuten', 'rakuten.co.jp rakuten.com'],
  ['Target', 'target.com'],
  ['Idealo', 'idealo.{}']
]

/**
 * Search engines whose referrer is only their origin (browsers send no path or query
 * cross-site by default) while Matomo's row for them asks for a keyword parameter.
 */
export const ORIGIN_SEARCH_ENGINES: readonly SourceRow[] = [
  ['Brave', 'search.brave.com'],
  ['Kagi', 'kagi.com'],
  ['Naver', 'search.naver.com m.search.naver.com'],
  ['Seznam', 'search.seznam.cz'],
  ['Presearch', 'presearch.com'],
  ['Mojeek', 'mojeek.com']
]

/** Short `utm_source` spellings of big sources, lower case. */
export const SOURCE_ALIASES: ReadonlyArray<readonly [string, SourceKind]> = [
  ['fb', 'social'],
  ['ig', 'social'],
  ['x', 'social'],
  ['tw', 'social'],
  ['li', 'social'],
  ['yt', 'video'],
  ['threads', 'social'],
  ['bluesky', 'social'],
  ['whatsapp', 'social'],
  ['messenger', 'social']
]

/**
 * Payment pages a buyer leaves for and comes back from (GA4's "unwanted referrals"): the return is
 * not a new source, or a checkout's revenue would be credited to the payment provider instead of
 * the campaign that brought the buyer. Hosts and their subdomains (`checkout.stripe.com`).
 */
export const PAYMENT_HOSTS: ReadonlySet<string> = new Set([
  'stripe.com', 'paypal.com', 'paypal.me', 'pay.google.com', 'klarna.com', 'adyen.com', 'mollie.com',
  'checkout.shopify.com', 'pay.shopify.com', 'squareup.com', 'square.link', 'paddle.com', 'lemonsqueezy.com',
  'checkout.com', 'braintreegateway.com', 'afterpay.com', 'clearpay.co.uk', 'affirm.com', 'razorpay.com',
  'mercadopago.com', 'payu.com', 'sumup.com', 'gocardless.com', 'wise.com', 'revolut.com'
])

/** Whether a lower-case bare host is a payment provider's, or one of its subdomains. */
export function isPaymentHost (host: string): boolean {
  let rest = host
  for (;;) {
    if (PAYMENT_HOSTS.has(rest)) return true
    const dot = rest.indexOf('.')
    if (dot === -1) return false
    rest = rest.slice(dot + 1)
  }
}

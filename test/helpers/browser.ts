import { chromium, type Browser } from 'playwright-core'
import type { TapTest } from './collectors.js'
import { haveBinary } from './servers/common.js'

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium'
export const CHROMIUM_INSTALL = 'apt-get install -y chromium'

/**
 * Debian's headless Chromium, driven by playwright-core (which downloads no browser), closed at
 * teardown. Undefined after a loud skip when it is missing outside CI (a failure under CI=true).
 * The flags keep it off the network: no background requests, no component updates, no sync.
 */
export async function startBrowser (t: TapTest): Promise<Browser | undefined> {
  if (!haveBinary(t, CHROMIUM, CHROMIUM_INSTALL)) return undefined
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage']
  })
  t.teardown(() => browser.close())
  return browser
}

// Takes docs/dashboard.png: runs `examples/demo.js`, opens the dashboard URL it prints in Debian's
// headless Chromium (playwright-core, no browser download), and stops the demo.
//   node scripts/dashboard-screenshot.mjs      (after npm run build; needs /usr/bin/chromium)
import { spawn } from 'node:child_process'
import { chromium } from 'playwright-core'

const root = new URL('../', import.meta.url)
const demo = spawn(process.execPath, ['examples/demo.js'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })
try {
  const url = await new Promise((resolve, reject) => {
    let out = ''
    demo.stdout.on('data', (chunk) => {
      out += chunk
      const found = /^dashboard: (\S+)$/m.exec(out)
      if (found) resolve(found[1])
    })
    demo.once('exit', (code) => reject(new Error(`the demo exited with ${code}`)))
  })
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_BIN ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']
  })
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 }, deviceScaleFactor: 1 })
  await page.goto(url)
  await page.waitForFunction(() => document.body.dataset.state === 'ready')
  await page.screenshot({ path: new URL('docs/dashboard.png', root).pathname, fullPage: true })
  await browser.close()
  console.log('docs/dashboard.png written')
} finally {
  demo.kill('SIGINT')
}

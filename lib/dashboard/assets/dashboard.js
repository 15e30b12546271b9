// The dashboard page: reads its view (period, filters, metric, interval) from the URL, asks the
// JSON API under the same prefix, and draws the numbers. Every value from the store is set as
// text (textContent, never markup): stored paths and referrers are visitor-controlled.
/* global uPlot, location, history */
'use strict'
;(function dashboard () {
  const base = document.body.dataset.base
  const FILTERS = ['page', 'channel', 'source', 'campaign', 'country', 'device']
  const FILTER_LABELS = { page: 'Page', channel: 'Channel', source: 'Source', campaign: 'Campaign', country: 'Country', device: 'Device' }
  // Each table, its title, its first column, and the filter a click on a row sets (if any).
  const TABLES = [
    { dimension: 'pages', title: 'Pages', column: 'Page', filter: 'page' },
    { dimension: 'landing_pages', title: 'Landing pages', column: 'Page', filter: 'page' },
    { dimension: 'channels', title: 'Channels', column: 'Channel', filter: 'channel' },
    { dimension: 'sources', title: 'Sources', column: 'Source', filter: 'source' },
    { dimension: 'campaigns', title: 'Campaigns', column: 'Campaign', filter: 'campaign' },
    { dimension: 'countries', title: 'Countries', column: 'Country', filter: 'country' },
    { dimension: 'devices', title: 'Devices', column: 'Device', filter: 'device' },
    { dimension: 'browsers', title: 'Browsers', column: 'Browser' },
    { dimension: 'os', title: 'Operating systems', column: 'OS' },
    { dimension: 'events', title: 'Events', column: 'Event' }
  ]
  const METRIC_TITLES = { visitors: 'Visitors', visits: 'Visits', pageViews: 'Page views' }
  const PERIOD_DAYS = { today: 1, '7d': 7, '30d': 30, '90d': 90, '365d': 365 }
  const DAY = 86400000
  const number = new Intl.NumberFormat('en-US')

  function isoDay (ms) { return new Date(ms).toISOString().slice(0, 10) }

  /** The view the URL holds, with defaults filled in. */
  function readView () {
    const url = new URLSearchParams(location.search)
    const view = { period: url.get('period') || '30d', metric: url.get('metric') || 'visitors', interval: url.get('interval') || 'day', filters: {} }
    if (!(view.period in PERIOD_DAYS) && view.period !== 'custom') view.period = '30d'
    if (!(view.metric in METRIC_TITLES)) view.metric = 'visitors'
    if (view.interval !== 'hour') view.interval = 'day'
    const today = Math.floor(Date.now() / DAY) * DAY
    if (view.period === 'custom' && /^\d{4}-\d{2}-\d{2}$/.test(url.get('from') || '') && /^\d{4}-\d{2}-\d{2}$/.test(url.get('to') || '')) {
      view.from = url.get('from')
      view.to = url.get('to')
    } else {
      if (view.period === 'custom') view.period = '30d'
      view.to = isoDay(today)
      view.from = isoDay(today - (PERIOD_DAYS[view.period] - 1) * DAY)
    }
    for (const name of FILTERS) {
      const value = url.get(name)
      if (value !== null && value !== '') view.filters[name] = value
    }
    return view
  }

  /** Writes the view to the URL (so it can be bookmarked and shared) and loads it. */
  function go (view) {
    const url = new URLSearchParams()
    url.set('period', view.period)
    if (view.period === 'custom') {
      url.set('from', view.from)
      url.set('to', view.to)
    }
    for (const name of FILTERS) if (view.filters[name] !== undefined) url.set(name, view.filters[name])
    if (view.metric !== 'visitors') url.set('metric', view.metric)
    if (view.interval !== 'day') url.set('interval', view.interval)
    history.pushState(null, '', '?' + url.toString())
    load()
  }

  function apiQuery (view, extra) {
    const url = new URLSearchParams({ from: view.from, to: view.to })
    for (const name of FILTERS) if (view.filters[name] !== undefined) url.set(name, view.filters[name])
    for (const key in extra) url.set(key, extra[key])
    return url.toString()
  }

  async function api (path) {
    const response = await fetch(base + 'api/' + path, { headers: { accept: 'application/json' }, credentials: 'same-origin' })
    if (!response.ok) {
      let message = response.status + ' ' + response.statusText
      try { message = (await response.json()).message || message } catch {}
      throw new Error(message)
    }
    return await response.json()
  }

  function el (tag, attributes, text) {
    const node = document.createElement(tag)
    for (const key in attributes) node.setAttribute(key, attributes[key])
    if (text !== undefined) node.textContent = text
    return node
  }

  function duration (seconds) {
    if (seconds < 60) return seconds + 's'
    const minutes = Math.floor(seconds / 60)
    if (minutes < 60) return minutes + 'm ' + (seconds % 60) + 's'
    return Math.floor(minutes / 60) + 'h ' + (minutes % 60) + 'm'
  }

  function showSummary (summary) {
    const shown = {
      visitors: number.format(summary.visitors),
      visits: number.format(summary.visits),
      pageViews: number.format(summary.pageViews),
      viewsPerVisit: String(summary.viewsPerVisit),
      bounceRate: summary.bounceRate + '%',
      visitDurationSeconds: duration(summary.visitDurationSeconds),
      revenue: summary.revenue.length === 0 ? '0' : summary.revenue.map((r) => r.amount + ' ' + r.currency).join(' · ')
    }
    for (const key in shown) {
      const node = document.querySelector('[data-summary="' + key + '"]')
      node.textContent = shown[key]
      node.dataset.value = key === 'revenue' ? summary.revenue.map((r) => r.minor + ' ' + r.currency).join(',') : String(summary[key])
    }
  }

  let plot
  function showSeries (view, points) {
    document.getElementById('chart-title').textContent = METRIC_TITLES[view.metric] + (view.interval === 'hour' ? ' per hour' : ' per day')
    const xs = points.map((p) => Date.parse(p.time) / 1000)
    const ys = points.map((p) => p.value)
    const container = document.getElementById('chart')
    const width = Math.max(300, container.clientWidth)
    if (plot !== undefined) plot.destroy()
    // eslint-disable-next-line new-cap -- the library names its constructor uPlot
    plot = new uPlot({
      width,
      height: 260,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
      axes: [{}, { values: (_u, ticks) => ticks.map((t) => number.format(t)) }],
      series: [{}, { label: METRIC_TITLES[view.metric], stroke: '#3f6fd8', width: 2, fill: 'rgba(63,111,216,0.12)', points: { show: points.length < 60 } }]
    }, [xs, ys], container)
  }

  function showTable (spec, view, rows) {
    const section = document.getElementById('table-' + spec.dimension)
    const old = section.querySelector('table')
    const table = el('table', { 'data-dimension': spec.dimension })
    const head = el('tr')
    const metricName = spec.dimension === 'events' ? 'Events' : 'Views'
    for (const title of [spec.column, 'Visitors', 'Visits', metricName]) head.append(el('th', { scope: 'col' }, title))
    const thead = el('thead')
    thead.append(head)
    table.append(thead)
    const body = el('tbody')
    const top = rows.reduce((max, row) => Math.max(max, row.visitors), 0)
    for (const row of rows) {
      const tr = el('tr')
      const name = el('td', { title: row.value })
      const bar = el('span', { class: 'bar' })
      bar.style.width = (top === 0 ? 0 : Math.round(100 * row.visitors / top)) + '%'
      name.append(bar)
      const label = row.value === '' ? '(none)' : row.value
      if (spec.filter !== undefined && view.filters[spec.filter] === undefined) {
        const button = el('button', { type: 'button', class: 'name' }, label)
        button.addEventListener('click', () => {
          const next = readView()
          next.filters[spec.filter] = row.value
          go(next)
        })
        name.append(button)
      } else {
        name.append(el('span', { class: 'name' }, label))
      }
      tr.append(name, el('td', {}, number.format(row.visitors)), el('td', {}, number.format(row.visits)),
        el('td', {}, number.format(spec.dimension === 'events' ? row.events : row.pageViews)))
      body.append(tr)
    }
    if (rows.length === 0) {
      const tr = el('tr')
      tr.append(el('td', { class: 'empty', colspan: '4' }, 'Nothing in this period'))
      body.append(tr)
    }
    table.append(body)
    if (old) old.replaceWith(table)
    else section.append(table)
  }

  function showFilters (view) {
    const nav = document.getElementById('filters')
    nav.replaceChildren()
    for (const name of FILTERS) {
      const value = view.filters[name]
      if (value === undefined) continue
      const chip = el('span', { class: 'filter', 'data-filter': name }, FILTER_LABELS[name] + ': ' + value)
      const remove = el('button', { type: 'button', 'aria-label': 'Remove filter ' + FILTER_LABELS[name] }, '×')
      remove.addEventListener('click', () => {
        const next = readView()
        delete next.filters[name]
        go(next)
      })
      chip.append(remove)
      nav.append(chip)
    }
  }

  function showError (error) {
    const node = document.getElementById('error')
    if (error === undefined) {
      node.hidden = true
      node.textContent = ''
    } else {
      node.hidden = false
      node.textContent = 'Could not load the numbers: ' + error.message
    }
  }

  let generation = 0
  async function load () {
    const view = readView()
    const mine = ++generation
    document.getElementById('period-select').value = view.period
    document.getElementById('from').value = view.from
    document.getElementById('to').value = view.to
    document.getElementById('interval').value = view.interval
    for (const card of document.querySelectorAll('button.card')) card.setAttribute('aria-pressed', String(card.dataset.metric === view.metric))
    showFilters(view)
    document.body.dataset.state = 'loading'
    try {
      const [summary, series, ...tables] = await Promise.all([
        api('summary?' + apiQuery(view, {})),
        api('timeseries?' + apiQuery(view, { metric: view.metric, interval: view.interval })),
        ...TABLES.map((spec) => api('breakdown/' + spec.dimension + '?' + apiQuery(view, {})))
      ])
      if (mine !== generation) return
      showError(undefined)
      showSummary(summary)
      showSeries(view, series)
      TABLES.forEach((spec, i) => showTable(spec, view, tables[i]))
      document.body.dataset.state = 'ready'
    } catch (error) {
      if (mine !== generation) return
      showError(error)
      document.body.dataset.state = 'error'
    }
  }

  async function loadRealtime () {
    try {
      const { visitors } = await api('realtime')
      const node = document.getElementById('realtime')
      node.textContent = number.format(visitors)
      node.dataset.value = String(visitors)
    } catch {}
  }

  function setUp () {
    const tables = document.getElementById('tables')
    for (const spec of TABLES) {
      const section = el('section', { class: 'table', id: 'table-' + spec.dimension })
      section.append(el('h2', {}, spec.title))
      tables.append(section)
    }
    document.getElementById('period').addEventListener('submit', (event) => {
      event.preventDefault()
      const next = readView()
      const period = document.getElementById('period-select').value
      next.period = period
      if (period === 'custom') {
        next.from = document.getElementById('from').value
        next.to = document.getElementById('to').value
      }
      go(next)
    })
    document.getElementById('period-select').addEventListener('change', (event) => {
      if (event.target.value !== 'custom') document.getElementById('period').requestSubmit()
    })
    document.getElementById('interval').addEventListener('change', (event) => {
      const next = readView()
      next.interval = event.target.value
      go(next)
    })
    for (const card of document.querySelectorAll('button.card')) {
      card.addEventListener('click', () => {
        const next = readView()
        next.metric = card.dataset.metric
        go(next)
      })
    }
    window.addEventListener('popstate', load)
    load()
    loadRealtime()
    setInterval(loadRealtime, 30000)
  }

  setUp()
})()

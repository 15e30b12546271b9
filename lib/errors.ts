// The named export: a default import of this CommonJS module emits a .d.ts that older module
// settings (moduleResolution node10) cannot read ("Cannot find namespace 'createError'").
import { createError } from '@fastify/error'

// One table of every error the package throws, like Fastify's own lib/errors.js.
// All of them are programming mistakes caught at registration, construction or start:
// nothing here is ever thrown into a request handler.

export const FST_ANALYTICS_INVALID_OPTION = createError<[string]>(
  'FST_ANALYTICS_INVALID_OPTION',
  'Invalid fastify-analytics option: %s',
  500,
  TypeError
)

export const FST_ANALYTICS_INVALID_MONEY = createError<[string]>(
  'FST_ANALYTICS_INVALID_MONEY',
  'Invalid money: %s',
  500,
  TypeError
)

export const FST_ANALYTICS_DUPLICATE_COLLECTOR = createError<[string]>(
  'FST_ANALYTICS_DUPLICATE_COLLECTOR',
  'Two analytics collectors are named "%s": collector names must be unique',
  500
)

export const FST_ANALYTICS_START_FAILED = createError<[string, string]>(
  'FST_ANALYTICS_START_FAILED',
  'Analytics collector "%s" failed to start: %s',
  500
)

export const FST_ANALYTICS_ALREADY_REGISTERED = createError<[]>(
  'FST_ANALYTICS_ALREADY_REGISTERED',
  'fastify-analytics is already registered in this app (or another plugin decorated "analytics"): ' +
    'register it once, at the root or in a file wrapped with fastify-plugin; every scope then has request.analytics',
  500
)

export const FST_ANALYTICS_DASHBOARD_ACCESS = createError<[]>(
  'FST_ANALYTICS_DASHBOARD_ACCESS',
  'analyticsDashboard needs an access option: a function (request, reply) => boolean | Promise<boolean> that lets ' +
    'only your own people in (your session check, @fastify/basic-auth), or the string \'public\' to show the numbers ' +
    'to anyone who finds the URL. The dashboard shows paths, referrers and revenue: it is never public by accident',
  500,
  TypeError
)

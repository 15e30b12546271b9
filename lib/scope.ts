import type { FastifyInstance } from 'fastify'

/**
 * The app's root instance, seen from any scope. Fastify builds each encapsulated scope with
 * `Object.create(parent)` (lib/plugin-override.js) and has no public way up, so the root is the last
 * instance of the same server on the prototype chain. test/plugin/scopes.test.ts holds Fastify to it.
 */
export function rootInstance (instance: FastifyInstance): FastifyInstance {
  let root = instance
  let parent: unknown = Object.getPrototypeOf(instance)
  while (isScopeOf(parent, instance)) {
    root = parent
    parent = Object.getPrototypeOf(parent)
  }
  return root
}

function isScopeOf (candidate: unknown, instance: FastifyInstance): candidate is FastifyInstance {
  return candidate !== null && typeof candidate === 'object' &&
    typeof (candidate as { decorateRequest?: unknown }).decorateRequest === 'function' &&
    (candidate as { server?: unknown }).server === instance.server
}

// The Segment HTTP Tracking API's published limits for `POST /v1/batch`
// (segment-docs src/connections/sources/catalog/libraries/server/http-api/index.md, "Max request
// size" and "Errors"; analytics-node's context-batch.ts measures the same way). Over either size,
// Segment answers 400 for the whole request; over the event count it answers 200 and drops events.

/** One message, serialized: at most 32 KB. */
export const SEGMENT_MAX_MESSAGE_BYTES = 32 * 1024
/** One request body: at most 500 KB. */
export const SEGMENT_MAX_BATCH_BYTES = 500 * 1024
/** Messages in one batch request. */
export const SEGMENT_MAX_BATCH_MESSAGES = 2500

// PostHog's published limits for the batch capture endpoint `POST /batch/` (posthog.com/docs/api/capture;
// the capture service's body limit, which the PostHog SDK maintainers quote as 20 MB for /batch/, and
// its Kafka message cap, answered `413 maximum event size exceeded` for one event over 1 MB).

/** Uncompressed bytes per request (the service's 20 MB, less a margin for what a proxy adds). */
export const POSTHOG_MAX_REQUEST_BYTES = 20 * 1000 * 1000
/** One event, serialised. */
export const POSTHOG_MAX_EVENT_BYTES = 1000 * 1000
/** `distinct_id`: the capture service cuts longer ones to 200; the plugin cuts first, to 200 UTF-8 bytes (so also 200 characters). */
export const POSTHOG_MAX_DISTINCT_ID_LENGTH = 200

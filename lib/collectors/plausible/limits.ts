// Plausible's published limits for `POST /api/event` (docs/events-api.md;
// lib/plausible/ingestion/request.ex). Longer values make it answer 400.

/** Event names: at most 120 graphemes (counted here as code points, a grapheme being at least one). */
export const PLAUSIBLE_MAX_NAME_LENGTH = 120
export const PLAUSIBLE_MAX_URL_BYTES = 2000
export const PLAUSIBLE_MAX_REFERRER_BYTES = 2000
/** Custom properties per event. */
export const PLAUSIBLE_MAX_PROPS = 30
export const PLAUSIBLE_MAX_PROP_KEY_BYTES = 300
export const PLAUSIBLE_MAX_PROP_VALUE_BYTES = 2000

CREATE TABLE IF NOT EXISTS analytics_events (
    id                     UUID,
    timestamp              DateTime64(3, 'UTC'),
    type                   LowCardinality(String),
    event_name             LowCardinality(String),
    action_name            LowCardinality(String),
    client_ip              String,
    locale                 LowCardinality(String),
    hostname               LowCardinality(String),
    user_id                String,
    matched_pattern        LowCardinality(String),
    url                    String,
    path                   String,
    method                 LowCardinality(String),
    user_agent             String,
    referrer               String,
    duration_ms            Float64,
    status_code            UInt16,
    revenue_minor          Int64,
    revenue_currency       LowCardinality(String),
    client_browser         LowCardinality(String),
    client_browser_version LowCardinality(String),
    client_os              LowCardinality(String),
    client_os_version      LowCardinality(String),
    client_device          LowCardinality(String),
    client_bot             UInt8,
    properties             String
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (type, toDate(timestamp), id)
SETTINGS non_replicated_deduplication_window = 1000

CREATE TABLE IF NOT EXISTS analytics_events (
    id                     UUID,
    timestamp              DateTime('UTC'),
    timestamp_ms           UInt16,
    type                   String,
    event_name             String,
    action_name            String,
    client_ip              String,
    locale                 String,
    hostname               String,
    user_id                String,
    matched_pattern        String,
    url                    String,
    path                   String,
    method                 String,
    user_agent             String,
    referrer               String,
    duration_ms            Float64,
    status_code            UInt16,
    revenue_minor          Int64,
    revenue_currency       String,
    client_browser         String,
    client_browser_version String,
    client_os              String,
    client_os_version      String,
    client_device          String,
    client_bot             UInt8,
    properties             String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(timestamp)
ORDER BY (type, toDate(timestamp), id)

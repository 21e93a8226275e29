//! This machine's clock, as requests are stamped and records are dated.

/// Seconds since the Unix epoch (X-TC-Timestamp).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The current time, UTC, RFC 3339 to the millisecond: when a read was made, so two
/// reads in the same second still tell which came first.
pub fn now_rfc3339_millis() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.format(time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))
    .unwrap_or_else(|_| "1970-01-01T00:00:00.000Z".into())
}

/// Whether RFC 3339 time `a` is later than `b`. A time that does not parse is the oldest.
pub fn later(a: &str, b: &str) -> bool {
    let parse = |s: &str| {
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
    };
    match (parse(a), parse(b)) {
        (Some(a), Some(b)) => a > b,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// The API's task times: `YYYY-MM-DD HH:MM:SS` in Beijing time (UTC+8), with the epoch
/// (`1970-01-01 08:00:00`) or an empty string for "not set". Seconds since the epoch.
pub fn beijing_to_unix(s: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::PrimitiveDateTime::parse(s.trim(), &format)
        .ok()
        .map(|t| t.assume_offset(time::macros::offset!(+8)).unix_timestamp())
        .filter(|secs| *secs != 0)
}

/// RFC 3339 time as seconds since the epoch.
pub fn rfc3339_to_unix(s: &str) -> Option<i64> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(time::OffsetDateTime::unix_timestamp)
}

/// Seconds since the epoch as RFC 3339, UTC, to the second (`2018-12-04T09:06:16Z`, as
/// STS writes `Expiration`). None outside the representable range.
pub fn rfc3339(unix: i64) -> Option<String> {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()?
        .format(&time::format_description::well_known::Rfc3339)
        .ok()
}

/// The current time, UTC, RFC 3339 to the second.
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    let now = now.replace_nanosecond(0).unwrap_or(now);
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beijing_time_is_eight_hours_ahead_and_its_epoch_is_unset() {
        assert_eq!(beijing_to_unix("2026-12-01 16:00:00"), Some(1_796_112_000));
        assert_eq!(rfc3339_to_unix("2026-12-01T08:00:00Z"), Some(1_796_112_000));
        assert_eq!(beijing_to_unix("1970-01-01 08:00:00"), None);
        assert_eq!(beijing_to_unix(""), None);
        assert!(later("2026-12-01T08:00:00.500Z", "2026-12-01T08:00:00Z"));
    }
}

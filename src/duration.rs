//! Durations a person types (`--ttl 2h`, `--grace 24h`, a spec's `sleep: 5s`, recipe.yaml's
//! `http_timeout: 30s`): parsed (a plain integer means seconds, else humantime: `90s`, `5m`,
//! `1h 30m`) and bounded, so nothing downstream can overflow adding one to a clock. Every bound is
//! named in the error. It never reads a clock itself.

use std::time::Duration;

/// One hour.
pub const HOUR: Duration = Duration::from_secs(3600);
/// One day.
pub const DAY: Duration = Duration::from_secs(86_400);

/// Why a duration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("`{text}` is not a duration: {why} (hint: write e.g. `90s`, `5m` or `1h 30m`)")]
    Syntax { text: String, why: String },
    #[error("`{text}` is longer than the limit of {limit}")]
    TooLong { text: String, limit: String },
    #[error("`{text}` is shorter than the minimum of {min}")]
    TooShort { text: String, min: String },
}

/// Parses `text` and checks it lies in `[min, max]`.
pub fn parse_bounded(text: &str, min: Duration, max: Duration) -> Result<Duration, DurationError> {
    let t = text.trim();
    let d = match t.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => humantime::parse_duration(t).map_err(|e| DurationError::Syntax {
            text: text.to_string(),
            why: e.to_string(),
        })?,
    };
    if d > max {
        return Err(DurationError::TooLong {
            text: text.to_string(),
            limit: show(max),
        });
    }
    if d < min {
        return Err(DurationError::TooShort {
            text: text.to_string(),
            min: show(min),
        });
    }
    Ok(d)
}

/// A duration as a person reads it, in its largest whole unit: `365d`, `1h`, `90s`, `500ms`.
pub fn show(d: Duration) -> String {
    let ms = d.as_millis();
    for (unit, name) in [
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "m"),
        (1000, "s"),
    ] {
        if ms > 0 && ms.is_multiple_of(unit) {
            return format!("{}{name}", ms / unit);
        }
    }
    format!("{ms}ms")
}

/// A duration rounded to whole seconds, for messages: `0s`, `12s`, `1m05s`, `2h03m`.
pub fn rounded(d: Duration) -> String {
    let s = (d.as_millis() + 500) / 1000;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// A clap value parser for a duration in `[min, max]`.
pub fn clap_parser(
    min: Duration,
    max: Duration,
) -> impl Fn(&str) -> Result<Duration, String> + Clone + Send + Sync + 'static {
    move |s: &str| parse_bounded(s, min, max).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounded_durations_read_like_a_clock() {
        assert_eq!(rounded(Duration::from_millis(400)), "0s");
        assert_eq!(rounded(Duration::from_millis(12_500)), "13s");
        assert_eq!(rounded(Duration::from_secs(65)), "1m05s");
        assert_eq!(rounded(Duration::from_secs(7380)), "2h03m");
    }

    #[test]
    fn integers_are_seconds_and_units_are_humantime() {
        let any = Duration::from_secs(u32::MAX as u64);
        assert_eq!(
            parse_bounded("90", Duration::ZERO, any),
            Ok(Duration::from_secs(90))
        );
        assert_eq!(
            parse_bounded(" 1m 30s ", Duration::ZERO, any),
            Ok(Duration::from_secs(90))
        );
        assert!(matches!(
            parse_bounded("soon", Duration::ZERO, any),
            Err(DurationError::Syntax { .. })
        ));
    }

    #[test]
    fn values_beyond_the_bounds_name_the_bound() {
        for huge in ["99999999999h", "1000000y", "9223372036854775807s"] {
            let e = parse_bounded(huge, Duration::ZERO, 365 * DAY).unwrap_err();
            assert!(e.to_string().contains("limit of 365d"), "{huge}: {e}");
        }
        let e = parse_bounded("0s", Duration::from_secs(1), HOUR).unwrap_err();
        assert_eq!(e.to_string(), "`0s` is shorter than the minimum of 1s");
    }
}

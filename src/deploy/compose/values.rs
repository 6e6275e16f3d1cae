//! Small value syntaxes of compose files: Go-style durations (`1m30s`, read and written), byte sizes
//! (`512M`), CPU counts and shell-like word splitting of string commands. Pure text work.

use std::time::Duration;

/// `1h2m3s`, `1.5s`, `500ms`, `90` (seconds). Negative, non-finite or longer than Go's
/// `time.Duration` can hold (what Docker reads it into) is an error, never a panic.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if let Ok(n) = s.parse::<f64>() {
        return seconds(n, s);
    }
    let mut total = 0f64;
    let mut num = String::new();
    let mut chars = s.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let mut unit = c.to_string();
        while let Some(&n) = chars.peek() {
            if n.is_ascii_alphabetic() || n == 'µ' {
                unit.push(n);
                chars.next();
            } else {
                break;
            }
        }
        let n: f64 = num.parse().map_err(|_| format!("invalid duration {s:?}"))?;
        let secs = match unit.as_str() {
            "h" => n * 3600.0,
            "m" => n * 60.0,
            "s" => n,
            "ms" => n / 1e3,
            "us" | "µs" => n / 1e6,
            "ns" => n / 1e9,
            _ => return Err(format!("invalid duration unit {unit:?} in {s:?}")),
        };
        total += secs;
        num.clear();
        any = true;
    }
    if !num.is_empty() || !any {
        return Err(format!(
            "invalid duration {s:?} (hint: write it like 30s or 1m30s)"
        ));
    }
    seconds(total, s)
}

/// The longest duration Go's `time.Duration` holds (2^63 ns, about 292 years).
const GO_MAX_SECS: f64 = 9_223_372_036.854_775;

fn seconds(n: f64, s: &str) -> Result<Duration, String> {
    if !(0.0..=GO_MAX_SECS).contains(&n) {
        return Err(format!(
            "invalid duration {s:?}: it must be positive and at most 2562047h (Go's limit)"
        ));
    }
    Duration::try_from_secs_f64(n).map_err(|e| format!("invalid duration {s:?}: {e}"))
}

/// `512M`, `1g`, `1024`, `100kb` → bytes.
pub fn parse_bytes(s: &str) -> Result<i64, String> {
    let t = s.trim().to_ascii_lowercase();
    let t = t.trim_end_matches('b');
    let (n, mult) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1i64 << 10),
        Some('m') => (&t[..t.len() - 1], 1 << 20),
        Some('g') => (&t[..t.len() - 1], 1 << 30),
        _ => (t, 1),
    };
    let n: f64 = n
        .trim()
        .parse()
        .map_err(|_| format!("invalid size {s:?} (hint: e.g. 512M)"))?;
    Ok((n * mult as f64) as i64)
}

/// `0.5` CPUs → nano-CPUs.
pub fn parse_cpus(s: &str) -> Result<i64, String> {
    let n: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("invalid cpus {s:?}"))?;
    Ok((n * 1e9) as i64)
}

/// Splits a command string into words, honouring single and double quotes and backslashes.
pub fn shell_split(s: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(x) => cur.push(x),
                        None => return Err(format!("unclosed ' in {s:?}")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(x) => cur.push(x),
                            None => return Err(format!("trailing \\ in {s:?}")),
                        },
                        Some(x) => cur.push(x),
                        None => return Err(format!("unclosed \" in {s:?}")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(x) = chars.next() {
                    cur.push(x);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// A duration as Go's `time.Duration.String` writes it: `1m30s`, `2m0s`, `1.5s`, `500ms`, `1h0m0s`.
pub fn go_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0s".into();
    }
    if ns < 1_000_000_000 {
        let (unit, div) = if ns < 1_000 {
            ("ns", 1u128)
        } else if ns < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        return format!("{}{unit}", frac(ns, div));
    }
    let h = ns / 3_600_000_000_000;
    let m = (ns / 60_000_000_000) % 60;
    let s = frac(ns % 60_000_000_000, 1_000_000_000);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, m) => format!("{m}m{s}s"),
        (h, m) => format!("{h}h{m}m{s}s"),
    }
}

/// `n / div` with the fraction's trailing zeros dropped (`1.5`, `2`).
fn frac(n: u128, div: u128) -> String {
    let whole = n / div;
    let rest = n % div;
    if rest == 0 {
        return whole.to_string();
    }
    let width = div.to_string().len() - 1;
    let digits = format!("{rest:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_written_as_go_writes_them() {
        let d = |ms: u64| go_duration(Duration::from_millis(ms));
        assert_eq!(d(90_000), "1m30s");
        assert_eq!(d(120_000), "2m0s");
        assert_eq!(d(1_500), "1.5s");
        assert_eq!(d(500), "500ms");
        assert_eq!(d(3_600_000), "1h0m0s");
        assert_eq!(d(2_000), "2s");
        assert_eq!(go_duration(Duration::ZERO), "0s");
    }

    #[test]
    fn durations_in_go_syntax() {
        assert_eq!(parse_duration("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("10").unwrap(), Duration::from_secs(10));
        assert!(parse_duration("10x").is_err());
        assert!(parse_duration("5s3").is_err());
        for bad in ["-5", "NaN", "inf", "1e300", "99999999999999999h", "-1s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sizes_and_cpus() {
        assert_eq!(parse_bytes("512M").unwrap(), 512 << 20);
        assert_eq!(parse_bytes("1g").unwrap(), 1 << 30);
        assert_eq!(parse_bytes("100kb").unwrap(), 100 << 10);
        assert_eq!(parse_cpus("0.5").unwrap(), 500_000_000);
    }

    #[test]
    fn shell_words_with_quotes() {
        assert_eq!(
            shell_split(r#"sh -c 'cp a b' "x y" z\ w"#).unwrap(),
            ["sh", "-c", "cp a b", "x y", "z w"]
        );
        assert!(shell_split("a 'b").is_err());
    }
}

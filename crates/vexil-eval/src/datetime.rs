//! Instants for the `before`/`after` operators: epoch milliseconds or RFC 3339 text (spec 3.7).

use serde_json::Value;

/// Nanoseconds since the Unix epoch.
pub(crate) type Instant = i128;

const NANOS_PER_SECOND: i128 = 1_000_000_000;
const NANOS_PER_MILLISECOND: i128 = 1_000_000;

/// RFC 3339 date-time per spec 3.7: `YYYY-MM-DD`, `T` or `t`, `hh:mm:ss`, an optional `.fraction`
/// of 1 to 9 digits, and a mandatory zone `Z`/`z` or `±hh:mm`. Anything else gives `None`.
///
/// Ranges are checked: month 1-12, day within its month (leap years included), hour 0-23, minute
/// 0-59, second 0-59 (a leap second `60` is rejected, as Go's `time.Parse` does), zone offset
/// hours 0-23 and minutes 0-59. Years are 0000-9999 (proleptic Gregorian calendar).
///
/// Vexil choice: the Go reference evaluator's own parser (`ldmodel/parse_time.go`) is looser: it
/// accepts a one-digit hour, second 60, day 31 in any month (rolling over into the next) and
/// offset hours up to 99. The spec defines the strict format above; no LaunchDarkly conformance
/// case depends on the looser forms, and the config API will reject them at write time.
pub(crate) fn parse_rfc3339(text: &str) -> Option<Instant> {
    let bytes = text.as_bytes();
    // "YYYY-MM-DDThh:mm:ss" is 19 bytes; indexing below relies on this check.
    if bytes.len() < 19
        || bytes[4] != b'-'
        || bytes[7] != b'-'
        || !matches!(bytes[10], b'T' | b't')
        || bytes[13] != b':'
        || bytes[16] != b':'
    {
        return None;
    }
    let year = digits(&bytes[0..4])?;
    let month = digits(&bytes[5..7])?;
    let day = digits(&bytes[8..10])?;
    let hour = digits(&bytes[11..13])?;
    let minute = digits(&bytes[14..16])?;
    let second = digits(&bytes[17..19])?;
    if !(1..=12).contains(&month)
        || !(1..=days_in_month(year, month)).contains(&day)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }

    let mut rest = &bytes[19..];
    let mut nanos = 0;
    if let Some(after_dot) = rest.strip_prefix(b".") {
        let count = after_dot
            .iter()
            .take_while(|byte| byte.is_ascii_digit())
            .count();
        if !(1..=9).contains(&count) {
            return None;
        }
        // Scale the fraction to nanoseconds: ".5" is 500_000_000.
        nanos = digits(&after_dot[..count])? * 10_i128.pow(9 - count as u32);
        rest = &after_dot[count..];
    }

    let offset_seconds = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), hours @ .., b':', m1, m2] if hours.len() == 2 => {
            let offset_hours = digits(hours)?;
            let offset_minutes = digits(&[*m1, *m2])?;
            if offset_hours > 23 || offset_minutes > 59 {
                return None;
            }
            let magnitude = offset_hours * 3600 + offset_minutes * 60;
            if *sign == b'-' {
                -magnitude
            } else {
                magnitude
            }
        }
        _ => return None,
    };

    let local_seconds =
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    // A local time at offset +01:00 is one hour ahead of UTC, so subtract the offset.
    Some((local_seconds - offset_seconds) * NANOS_PER_SECOND + nanos)
}

/// A clause/context value as an instant: a JSON number is Unix epoch milliseconds (fraction
/// truncated toward zero); a string is RFC 3339; anything else `None`.
///
/// Numbers go through `f64`, as in LaunchDarkly's SDKs, so integers beyond 2^53 lose precision the
/// same way. A number whose instant does not fit an [`Instant`] gives `None`.
pub(crate) fn instant_of(value: &Value) -> Option<Instant> {
    match value {
        Value::Number(number) => {
            let milliseconds = number.as_f64()?.trunc();
            if !milliseconds.is_finite() {
                return None;
            }
            // `as` saturates; a saturated value then overflows the multiplication and is rejected.
            (milliseconds as i128).checked_mul(NANOS_PER_MILLISECOND)
        }
        Value::String(text) => parse_rfc3339(text),
        _ => None,
    }
}

/// The value of a run of ASCII digits; `None` if any byte is not a digit.
fn digits(bytes: &[u8]) -> Option<i128> {
    bytes.iter().try_fold(0_i128, |total, byte| {
        byte.is_ascii_digit()
            .then(|| total * 10 + i128::from(byte - b'0'))
    })
}

fn days_in_month(year: i128, month: i128) -> i128 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn is_leap_year(year: i128) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i128, month: i128, day: i128) -> i128 {
    // Count years from March, so the leap day is the last day of the counting year.
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// 2017-12-06T07:00:00Z, the instant of the spec's examples.
    const SPEC_INSTANT: Instant = 1_512_543_600_000 * NANOS_PER_MILLISECOND;

    #[test]
    fn spec_examples_are_the_same_instant() {
        let values = [
            json!("2017-12-06T00:00:00.000-07:00"),
            json!("2017-12-06T07:00:00Z"),
            json!("2017-12-06T07:00:00.000Z"),
            json!("2017-12-06t07:00:00z"),
            json!("2017-12-06T08:30:00+01:30"),
            json!(1_512_543_600_000_u64),
            json!(1_512_543_600_000.0),
            json!(1_512_543_600_000.999),
        ];
        for value in values {
            assert_eq!(instant_of(&value), Some(SPEC_INSTANT), "{value}");
        }
    }

    #[test]
    fn parses_valid_date_times() {
        let cases: &[(&str, Instant)] = &[
            ("1970-01-01T00:00:00Z", 0),
            ("1970-01-01T00:00:00.000000001Z", 1),
            ("1970-01-01T00:00:00.5Z", 500_000_000),
            ("1970-01-01T00:00:00.123456789Z", 123_456_789),
            ("1969-12-31T23:59:59Z", -NANOS_PER_SECOND),
            ("1969-12-31T23:59:59.9Z", -100_000_000),
            (
                "1970-01-01T00:00:00+23:59",
                -(23 * 3600 + 59 * 60) * NANOS_PER_SECOND,
            ),
            ("1970-01-01T00:00:00-00:30", 1800 * NANOS_PER_SECOND),
            ("2000-02-29T00:00:00Z", 951_782_400 * NANOS_PER_SECOND),
            ("2020-06-09T18:53:52Z", 1_591_728_832 * NANOS_PER_SECOND),
            ("2020-06-09T18:53:52.123+08:00", 1_591_700_032_123_000_000),
            ("0000-01-01T00:00:00Z", -62_167_219_200 * NANOS_PER_SECOND),
            ("9999-12-31T23:59:59Z", 253_402_300_799 * NANOS_PER_SECOND),
        ];
        for &(text, expected) in cases {
            assert_eq!(parse_rfc3339(text), Some(expected), "{text}");
        }
    }

    #[test]
    fn rejects_invalid_date_times() {
        let cases = [
            "",
            "badstring",
            "2017-12-06",
            "00:00:00.000-07.00",
            "2017-12-06X00:00:00.000-07:00",
            "2017-12-06 07:00:00Z",
            "2017-12-06T07:00:00",
            "2017-12-06T07:00:00.000",
            "2017-12-06T07:00:00+07",
            "2017-12-06T07:00:00+0700",
            "2017-12-06T07:00:00+7:00",
            "2017-12-06T07:00:00+07:0",
            "2017-12-06T07:00:00+24:00",
            "2017-12-06T07:00:00+07:60",
            "2017-12-06T07:00:00UTC",
            "2017-12-06T07:00:00ZZ",
            "2017-12-06T07:00:00Z ",
            " 2017-12-06T07:00:00Z",
            "2017-12-06T07:00:00.Z",
            "2017-12-06T07:00:00.1234567891Z",
            "2017-12-06T07:00:00,5Z",
            "2017-12-06T7:00:00Z",
            "2017-12-06T07:0:00Z",
            "2017-12-06T07:00:0Z",
            "17-12-06T07:00:00Z",
            "20177-12-06T07:00:00Z",
            "+2017-12-06T07:00:00Z",
            "2017-00-06T07:00:00Z",
            "2017-13-06T07:00:00Z",
            "2017-12-00T07:00:00Z",
            "2017-12-32T07:00:00Z",
            "2017-04-31T07:00:00Z",
            "2017-02-29T07:00:00Z",
            "1900-02-29T07:00:00Z",
            "2017-12-06T24:00:00Z",
            "2017-12-06T07:60:00Z",
            "2017-12-06T07:00:60Z",
            "2017-12-06T07:00:61Z",
            "2017-1x-06T07:00:00Z",
            "2017-12-06T07:00:00.5x0Z",
            "🤨2020-06-09T18:53:52Z",
            "2020-06-09T18:53:52+０7:00",
        ];
        for text in cases {
            assert_eq!(parse_rfc3339(text), None, "{text:?} should be rejected");
        }
    }

    #[test]
    fn only_numbers_and_date_time_strings_are_instants() {
        let cases = [
            json!("1512543600000"),
            json!(true),
            json!(false),
            json!(null),
            json!({}),
            json!({ "time": 1_512_543_600_000_u64 }),
            json!([1_512_543_600_000_u64]),
            json!(1e300),
        ];
        for value in cases {
            assert_eq!(instant_of(&value), None, "{value}");
        }
    }

    #[test]
    fn numbers_are_milliseconds_truncated_toward_zero() {
        let cases = [
            (json!(0), 0),
            (json!(1), NANOS_PER_MILLISECOND),
            (json!(-1), -NANOS_PER_MILLISECOND),
            (json!(1.9), NANOS_PER_MILLISECOND),
            (json!(-1.9), -NANOS_PER_MILLISECOND),
            (json!(-0.5), 0),
            (
                json!(i64::MIN),
                i128::from(i64::MIN) * NANOS_PER_MILLISECOND,
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(instant_of(&value), Some(expected), "{value}");
        }
    }
}

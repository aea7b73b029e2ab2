//! The human-readable output of `vexil flags stale`: aligned columns and a summary line.

use std::io::{self, Write};

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

use super::{StaleFlag, StaleFlags};

const HEADERS: [&str; 7] = [
    "KEY",
    "NAME",
    "REASON",
    "EVALUATIONS",
    "VARIATIONS SERVED",
    "LAST EVALUATED",
    "CREATED",
];
/// Columns holding counts, aligned to the right.
const NUMERIC: [bool; 7] = [false, false, false, true, true, false, false];

/// Writes `flags` (in order) as a table followed by a summary, or one line when there are none.
pub fn write(out: &mut impl Write, answer: &StaleFlags, flags: &[StaleFlag]) -> io::Result<()> {
    let scope = format!(
        "in environment `{}` (temporary flags created over {} days ago, judged on the last {} days)",
        answer.environment_key, answer.threshold_days, answer.window_days
    );
    if flags.is_empty() {
        return writeln!(out, "no stale flags {scope}");
    }
    let rows: Vec<[String; 7]> = flags.iter().map(row).collect();
    let mut widths = HEADERS.map(|header| header.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    write_row(out, &HEADERS.map(str::to_owned), &widths)?;
    for row in &rows {
        write_row(out, row, &widths)?;
    }
    let count = flags.len();
    let noun = if count == 1 { "flag" } else { "flags" };
    writeln!(out)?;
    writeln!(out, "{count} stale {noun} {scope}")
}

fn row(flag: &StaleFlag) -> [String; 7] {
    [
        flag.key.clone(),
        flag.name.clone(),
        flag.reason.clone(),
        flag.evaluations.to_string(),
        flag.variations_served.to_string(),
        flag.last_evaluated
            .as_deref()
            .map_or_else(|| "never".to_owned(), timestamp),
        timestamp(&flag.created_at),
    ]
}

fn write_row(out: &mut impl Write, cells: &[String; 7], widths: &[usize; 7]) -> io::Result<()> {
    let mut line = String::new();
    for (index, (cell, &width)) in cells.iter().zip(widths).enumerate() {
        if index > 0 {
            line.push_str("  ");
        }
        let padding = " ".repeat(width - cell.chars().count());
        if NUMERIC[index] {
            line.push_str(&padding);
            line.push_str(cell);
        } else {
            line.push_str(cell);
            line.push_str(&padding);
        }
    }
    writeln!(out, "{}", line.trim_end())
}

/// An RFC 3339 time as `2026-11-30 14:05 UTC`; anything else as given.
fn timestamp(rfc3339: &str) -> String {
    let format = format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    OffsetDateTime::parse(rfc3339, &Rfc3339)
        .ok()
        .and_then(|at| at.to_offset(UtcOffset::UTC).format(format).ok())
        .unwrap_or_else(|| rfc3339.to_owned())
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;

    fn answer() -> StaleFlags {
        StaleFlags {
            environment_key: "production".into(),
            threshold_days: 30,
            window_days: 7,
            items: Vec::new(),
        }
    }

    fn render(flags: &[StaleFlag]) -> String {
        let mut out = Vec::new();
        write(&mut out, &answer(), flags).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn stale_flags_are_aligned_columns_and_a_summary() {
        let flags = [
            StaleFlag {
                key: "new-checkout".into(),
                name: "Neuer Bestellvorgang".into(),
                created_at: "2026-09-01T08:30:00.123456Z".into(),
                reason: "single_variation".into(),
                variations_served: 1,
                evaluations: 120_000,
                last_evaluated: Some("2026-11-30T12:00:59+01:00".into()),
            },
            StaleFlag {
                key: "old-banner".into(),
                name: "Old banner".into(),
                created_at: "2025-01-02T03:04:05Z".into(),
                reason: "not_evaluated".into(),
                variations_served: 0,
                evaluations: 0,
                last_evaluated: None,
            },
        ];
        expect![[r#"
            KEY           NAME                  REASON            EVALUATIONS  VARIATIONS SERVED  LAST EVALUATED        CREATED
            new-checkout  Neuer Bestellvorgang  single_variation       120000                  1  2026-11-30 11:00 UTC  2026-09-01 08:30 UTC
            old-banner    Old banner            not_evaluated               0                  0  never                 2025-01-02 03:04 UTC

            2 stale flags in environment `production` (temporary flags created over 30 days ago, judged on the last 7 days)
        "#]]
        .assert_eq(&render(&flags));
    }

    #[test]
    fn no_stale_flags_is_one_line() {
        expect![[r#"
            no stale flags in environment `production` (temporary flags created over 30 days ago, judged on the last 7 days)
        "#]]
        .assert_eq(&render(&[]));
    }
}

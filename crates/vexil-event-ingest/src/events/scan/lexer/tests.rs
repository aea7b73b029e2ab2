//! The skipper against serde_json on small hand-picked values; `events/differential.rs`
//! compares whole bodies.

use super::*;

#[track_caller]
fn skips(text: &str) -> Result<usize, SyntaxError> {
    let mut cursor = Cursor::new(text);
    cursor.skip_value(0)?;
    cursor.end()?;
    Ok(cursor.position())
}

#[test]
fn values_serde_json_skips_are_skipped() {
    for text in [
        "0",
        "-0",
        "1e400",
        "-12.5E-3",
        "0.0e+0",
        "true",
        "null",
        r#""a\"\\\/\b\f\n\r\t\u00e9\ud800""#,
        " [ 1 , { \"a\" : [ ] , \"a\" : { } } , \"é\" ]\n",
        "{}",
        "[[[]]]",
        "\"\u{7f}\"",
    ] {
        assert!(
            serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok(),
            "{text}"
        );
        assert!(skips(text).is_ok(), "{text}");
    }
}

#[test]
fn invalid_values_name_their_problem_and_place() {
    for (text, problem, at) in [
        ("", Problem::UnexpectedEnd, 0),
        ("01", Problem::InvalidNumber, 1),
        ("-", Problem::UnexpectedEnd, 1),
        ("-a", Problem::InvalidNumber, 1),
        ("1.", Problem::UnexpectedEnd, 2),
        ("1.e3", Problem::InvalidNumber, 2),
        ("1e", Problem::UnexpectedEnd, 2),
        ("+1", Problem::ExpectedValue, 0),
        ("tru", Problem::UnexpectedEnd, 3),
        ("nul1", Problem::InvalidLiteral, 3),
        ("\"a", Problem::UnexpectedEnd, 2),
        ("\"\t\"", Problem::ControlCharacterInString, 1),
        (r#""\x""#, Problem::InvalidEscape, 2),
        (r#""\u12g4""#, Problem::InvalidEscape, 5),
        ("[1,]", Problem::TrailingComma, 3),
        (r#"{"a":1,}"#, Problem::TrailingComma, 7),
        ("[1 2]", Problem::ExpectedCommaOrBracket, 3),
        (r#"{"a" 1}"#, Problem::ExpectedColon, 5),
        (r#"{"a":1 "b":2}"#, Problem::ExpectedCommaOrBrace, 7),
        ("{1:2}", Problem::ExpectedKey, 1),
        ("[}", Problem::ExpectedValue, 1),
        ("[1}", Problem::ExpectedCommaOrBracket, 2),
        (r#"{"a":1]"#, Problem::ExpectedCommaOrBrace, 6),
        ("[[", Problem::UnexpectedEnd, 2),
        ("1 2", Problem::TrailingCharacters, 2),
        ("\u{feff}1", Problem::ExpectedValue, 0),
        ("\u{c}1", Problem::ExpectedValue, 0),
    ] {
        assert!(
            serde_json::from_str::<serde::de::IgnoredAny>(text).is_err(),
            "{text}"
        );
        assert_eq!(skips(text), Err(SyntaxError { problem, at }), "{text:?}");
    }
}

#[test]
fn nesting_stops_at_serde_json_s_limit() {
    let nested = |levels: usize| format!("{}{}", "[".repeat(levels), "]".repeat(levels));
    assert!(skips(&nested(MAX_DEPTH)).is_ok());
    assert!(serde_json::from_str::<serde_json::Value>(&nested(MAX_DEPTH)).is_ok());
    assert_eq!(
        skips(&nested(MAX_DEPTH + 1)),
        Err(SyntaxError {
            problem: Problem::TooDeep,
            at: MAX_DEPTH
        })
    );
    assert!(serde_json::from_str::<serde_json::Value>(&nested(MAX_DEPTH + 1)).is_err());
    let objects = format!("{}1{}", r#"{"a":"#.repeat(200), "}".repeat(200));
    assert_eq!(skips(&objects).unwrap_err().problem, Problem::TooDeep);
}

#[test]
fn strings_keep_their_text_and_unescape_only_when_needed() {
    let mut cursor = Cursor::new(r#""plain" "a\"b\u00e9" "\ud800""#);
    let plain = cursor.string().unwrap();
    assert_eq!((plain.content(), plain.has_escapes), ("plain", false));
    assert!(matches!(plain.unescaped(), Some(Cow::Borrowed("plain"))));
    cursor.peek_token();
    let escaped = cursor.string().unwrap();
    assert_eq!(escaped.quoted, r#""a\"b\u00e9""#);
    assert_eq!(escaped.unescaped().as_deref(), Some("a\"bé"));
    cursor.peek_token();
    assert_eq!(cursor.string().unwrap().unescaped(), None);
}

#[test]
fn plain_runs_end_where_the_byte_table_says() {
    let by_table = |bytes: &[u8], from: usize| {
        from + bytes[from..]
            .iter()
            .position(|&byte| STRING_CLASS[usize::from(byte)] != PLAIN)
            .unwrap_or(bytes.len() - from)
    };
    // Plain bytes of every kind (ASCII, UTF-8 lead and continuation bytes, DEL) around
    // each special byte, at every offset of runs long enough for whole words.
    let plain: Vec<u8> = (0x20..=0xff)
        .filter(|byte| *byte != b'"' && *byte != b'\\')
        .collect();
    let specials = (0..0x20).chain([b'"', b'\\']);
    for special in specials {
        for length in 1..24 {
            for at in 0..length {
                let mut bytes: Vec<u8> = (0..length)
                    .map(|index| plain[(index * 7 + usize::from(special)) % plain.len()])
                    .collect();
                bytes[at] = special;
                for from in 0..=at {
                    assert_eq!(
                        plain_run_end(&bytes, from),
                        by_table(&bytes, from),
                        "{bytes:?} from {from}"
                    );
                }
            }
        }
    }
    let all_plain: Vec<u8> = plain.iter().copied().cycle().take(300).collect();
    for from in 0..all_plain.len() {
        assert_eq!(plain_run_end(&all_plain, from), all_plain.len());
    }
}

#[test]
fn digit_runs_end_at_the_first_non_digit() {
    let others = (0u8..0x80)
        .filter(|byte| !byte.is_ascii_digit())
        .map(char::from)
        .chain(['é', '٣', '😀']);
    for other in others {
        for length in 1..20 {
            for at in 0..=length {
                let mut text: String = (0..length)
                    .map(|index| char::from(b'0' + (index * 7 % 10) as u8))
                    .collect();
                if at < length {
                    text.insert(at, other);
                }
                let mut cursor = Cursor::new(&text);
                cursor.digits();
                assert_eq!(cursor.position(), at, "{text:?}");
            }
        }
    }
}

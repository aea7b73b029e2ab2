//! The byte-level JSON lexer: whitespace, strings, numbers and literals, and a skipper
//! that checks a whole value, as strictly as serde_json does, without building it.

use std::borrow::Cow;
use std::fmt;

/// The most levels of arrays and objects a body may nest, the outermost included:
/// serde_json's limit (it refuses the 128th level), which bounds the work on a hostile
/// body. The skipper is iterative, so the limit is about refusing such bodies, not about
/// the stack.
pub const MAX_DEPTH: usize = 127;

/// Why a body is not JSON, and where: a byte offset into the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyntaxError {
    pub problem: Problem,
    pub at: usize,
}

/// What is wrong at a [`SyntaxError`]'s offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    UnexpectedEnd,
    ExpectedValue,
    ExpectedColon,
    ExpectedKey,
    ExpectedCommaOrBracket,
    ExpectedCommaOrBrace,
    TrailingComma,
    InvalidNumber,
    InvalidLiteral,
    ControlCharacterInString,
    InvalidEscape,
    TooDeep,
    TrailingCharacters,
    InvalidUtf8,
}

impl fmt::Display for Problem {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Problem::UnexpectedEnd => "unexpected end of input",
            Problem::ExpectedValue => "expected a value",
            Problem::ExpectedColon => "expected `:`",
            Problem::ExpectedKey => "expected a string key",
            Problem::ExpectedCommaOrBracket => "expected `,` or `]`",
            Problem::ExpectedCommaOrBrace => "expected `,` or `}`",
            Problem::TrailingComma => "trailing comma",
            Problem::InvalidNumber => "invalid number",
            Problem::InvalidLiteral => "invalid literal (expected true, false or null)",
            Problem::ControlCharacterInString => "control character in a string",
            Problem::InvalidEscape => "invalid escape in a string",
            Problem::TooDeep => "arrays and objects nested more than 127 levels deep",
            Problem::TrailingCharacters => "trailing characters after the JSON value",
            Problem::InvalidUtf8 => "invalid UTF-8",
        })
    }
}

impl SyntaxError {
    /// "expected `,` or `]` at line 3 column 14", positions counted in `text`, the whole
    /// body (lines from 1, columns in bytes from 1).
    pub fn describe(&self, text: &[u8]) -> String {
        let before = text.get(..self.at).unwrap_or(text);
        let line = 1 + before.iter().filter(|&&byte| byte == b'\n').count();
        let column = 1 + before
            .iter()
            .rev()
            .take_while(|&&byte| byte != b'\n')
            .count();
        format!("{} at line {line} column {column}", self.problem)
    }
}

/// A JSON string as it lies in the text: `quoted` with its quotes, and whether it has
/// escapes (without, the part between the quotes is the string itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonStr<'a> {
    pub quoted: &'a str,
    pub has_escapes: bool,
}

impl<'a> JsonStr<'a> {
    /// The string between the quotes, as written.
    #[inline]
    pub fn content(&self) -> &'a str {
        // Stripping the quotes as characters needs no check of character boundaries.
        self.quoted
            .strip_prefix('"')
            .and_then(|rest| rest.strip_suffix('"'))
            .unwrap_or_default()
    }

    /// The string itself: borrowed when it has no escapes; otherwise unescaped by
    /// serde_json (the rare case), `None` when it cannot be (a lone surrogate such as
    /// `"\ud800"`, which serde_json refuses in a string it reads but not in one it skips).
    #[inline]
    pub fn unescaped(&self) -> Option<Cow<'a, str>> {
        if self.has_escapes {
            unescape(self.quoted)
        } else {
            Some(Cow::Borrowed(self.content()))
        }
    }
}

/// A string with escapes, unescaped by serde_json (`None` for a lone surrogate).
#[cold]
fn unescape(quoted: &str) -> Option<Cow<'_, str>> {
    serde_json::from_str::<String>(quoted).ok().map(Cow::Owned)
}

/// A position in a text being read, and the reading primitives. Every method either
/// moves past what it read or returns a [`SyntaxError`]; none can panic, whatever the
/// bytes.
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(text: &'a str) -> Cursor<'a> {
        Cursor { text, at: 0 }
    }

    #[inline]
    pub fn position(&self) -> usize {
        self.at
    }

    /// The text from `start` to the current position (empty if `start` is past it).
    #[inline(always)]
    pub fn since(&self, start: usize) -> &'a str {
        self.text.get(start..self.at).unwrap_or_default()
    }

    pub fn error(&self, problem: Problem) -> SyntaxError {
        SyntaxError {
            problem,
            at: self.at,
        }
    }

    /// Skips whitespace (JSON's four characters only) and returns the next byte, if any,
    /// without moving past it.
    #[inline(always)]
    pub fn peek_token(&mut self) -> Option<u8> {
        let bytes = self.text.as_bytes();
        while let Some(&byte) = bytes.get(self.at) {
            if !matches!(byte, b' ' | b'\n' | b'\r' | b'\t') {
                return Some(byte);
            }
            self.at += 1;
        }
        None
    }

    /// Moves past one byte, the one [`Cursor::peek_token`] returned.
    #[inline]
    pub fn bump(&mut self) {
        self.at += 1;
    }

    /// Moves past `bracket` (`[` or `{`) opening a container inside `depth` open ones:
    /// refused past the nesting limit, or when something else comes.
    #[inline]
    pub fn open(&mut self, bracket: u8, depth: usize) -> Result<(), SyntaxError> {
        match self.peek_token() {
            Some(byte) if byte == bracket && depth >= MAX_DEPTH => {
                Err(self.error(Problem::TooDeep))
            }
            Some(byte) if byte == bracket => {
                self.bump();
                Ok(())
            }
            Some(_) => Err(self.error(Problem::ExpectedValue)),
            None => Err(self.error(Problem::UnexpectedEnd)),
        }
    }

    /// Checks that only whitespace is left.
    pub fn end(&mut self) -> Result<(), SyntaxError> {
        match self.peek_token() {
            None => Ok(()),
            Some(_) => Err(self.error(Problem::TrailingCharacters)),
        }
    }

    /// Reads the string starting at the current position (a `"`).
    #[inline(always)]
    pub fn string(&mut self) -> Result<JsonStr<'a>, SyntaxError> {
        let bytes = self.text.as_bytes();
        let start = self.at;
        let mut at = start + 1;
        let mut has_escapes = false;
        loop {
            at = plain_run_end(bytes, at);
            let Some(&byte) = bytes.get(at) else {
                self.at = at;
                return Err(self.error(Problem::UnexpectedEnd));
            };
            match STRING_CLASS[usize::from(byte)] {
                PLAIN => at += 1,
                QUOTE => {
                    self.at = at + 1;
                    return Ok(JsonStr {
                        quoted: self.since(start),
                        has_escapes,
                    });
                }
                BACKSLASH => {
                    has_escapes = true;
                    at = self.escape(at)?;
                }
                _ => {
                    self.at = at;
                    return Err(self.error(Problem::ControlCharacterInString));
                }
            }
        }
    }

    /// Checks the escape at `at` (a backslash) and returns the position after it. A `\u`
    /// needs four hex digits; like serde_json when it skips a string, the code point is
    /// not checked (a lone surrogate is read as a non-string where a string is needed).
    #[cold]
    fn escape(&mut self, at: usize) -> Result<usize, SyntaxError> {
        let bytes = self.text.as_bytes();
        let length = match bytes.get(at + 1) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => 2,
            Some(b'u') => {
                for offset in 2..6 {
                    match bytes.get(at + offset) {
                        Some(digit) if digit.is_ascii_hexdigit() => {}
                        Some(_) => {
                            self.at = at + offset;
                            return Err(self.error(Problem::InvalidEscape));
                        }
                        None => {
                            self.at = at + offset;
                            return Err(self.error(Problem::UnexpectedEnd));
                        }
                    }
                }
                6
            }
            Some(_) => {
                self.at = at + 1;
                return Err(self.error(Problem::InvalidEscape));
            }
            None => {
                self.at = at + 1;
                return Err(self.error(Problem::UnexpectedEnd));
            }
        };
        Ok(at + length)
    }

    /// Reads the number starting at the current position (`-` or a digit), with JSON's
    /// grammar: no leading zeros, digits after `.` and in the exponent. Its size is not
    /// checked (`1e400` is a number, as serde_json's skipping reads it).
    #[inline]
    pub fn number(&mut self) -> Result<(), SyntaxError> {
        if self.byte() == Some(b'-') {
            self.at += 1;
        }
        match self.byte() {
            // Only one leading zero: `01` is refused, as serde_json refuses it.
            Some(b'0') => {
                self.at += 1;
                if matches!(self.byte(), Some(b'0'..=b'9')) {
                    return Err(self.error(Problem::InvalidNumber));
                }
            }
            Some(b'1'..=b'9') => self.digits(),
            Some(_) => return Err(self.error(Problem::InvalidNumber)),
            None => return Err(self.error(Problem::UnexpectedEnd)),
        }
        if self.byte() == Some(b'.') {
            self.at += 1;
            self.at_least_one_digit()?;
        }
        if matches!(self.byte(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.byte(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            self.at_least_one_digit()?;
        }
        Ok(())
    }

    fn at_least_one_digit(&mut self) -> Result<(), SyntaxError> {
        match self.byte() {
            Some(b'0'..=b'9') => {
                self.digits();
                Ok(())
            }
            Some(_) => Err(self.error(Problem::InvalidNumber)),
            None => Err(self.error(Problem::UnexpectedEnd)),
        }
    }

    /// Moves past a run of digits: eight at a time while eight bytes are left (a
    /// timestamp has 13), the rest one by one.
    #[inline]
    fn digits(&mut self) {
        const ONES: u64 = 0x0101_0101_0101_0101;
        let bytes = self.text.as_bytes();
        while let Some(word) = bytes
            .get(self.at..self.at + 8)
            .and_then(|word| <[u8; 8]>::try_from(word).ok())
        {
            // Each byte minus `0`: a digit is below 10, and adding 0x76 leaves its high
            // bit clear; any other byte has it set, or sets it by itself. A carry can only
            // mark a byte after a marked one, so the lowest mark is the first non-digit.
            let offsets = u64::from_le_bytes(word) ^ (ONES * u64::from(b'0'));
            let marks = (offsets.wrapping_add(ONES * 0x76) | offsets) & (ONES * 0x80);
            if marks != 0 {
                self.at += (marks.trailing_zeros() / 8) as usize;
                return;
            }
            self.at += 8;
        }
        while matches!(self.byte(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
    }

    #[inline]
    fn byte(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    /// Reads `true`, `false` or `null`, whichever starts at the current position.
    fn literal(&mut self, literal: &[u8]) -> Result<(), SyntaxError> {
        for &expected in literal {
            match self.byte() {
                Some(byte) if byte == expected => self.at += 1,
                Some(_) => return Err(self.error(Problem::InvalidLiteral)),
                None => return Err(self.error(Problem::UnexpectedEnd)),
            }
        }
        Ok(())
    }

    /// Reads a scalar value (string, number or literal) starting at the current position,
    /// after whitespace; `Ok(None)` when the next byte opens an array or object (which
    /// is left to the caller), `Ok(Some(first byte))` for a scalar.
    #[inline(always)]
    pub fn scalar(&mut self) -> Result<Option<u8>, SyntaxError> {
        let Some(first) = self.peek_token() else {
            return Err(self.error(Problem::UnexpectedEnd));
        };
        match first {
            b'"' => {
                self.string()?;
            }
            b'-' | b'0'..=b'9' => self.number()?,
            b't' => self.literal(b"true")?,
            b'f' => self.literal(b"false")?,
            b'n' => self.literal(b"null")?,
            b'[' | b'{' => return Ok(None),
            _ => return Err(self.error(Problem::ExpectedValue)),
        }
        Ok(Some(first))
    }

    /// After a `,` in an object: the next member's key and `:`.
    #[inline]
    fn key_and_colon(&mut self) -> Result<(), SyntaxError> {
        match self.peek_token() {
            Some(b'"') => {
                self.string()?;
            }
            Some(b'}') => return Err(self.error(Problem::TrailingComma)),
            Some(_) => return Err(self.error(Problem::ExpectedKey)),
            None => return Err(self.error(Problem::UnexpectedEnd)),
        }
        self.colon()
    }

    /// Moves past the `:` between a key and its value.
    #[inline(always)]
    pub fn colon(&mut self) -> Result<(), SyntaxError> {
        match self.peek_token() {
            Some(b':') => {
                self.bump();
                Ok(())
            }
            Some(_) => Err(self.error(Problem::ExpectedColon)),
            None => Err(self.error(Problem::UnexpectedEnd)),
        }
    }

    /// Skips the value starting at the current position (after whitespace), checking it
    /// is JSON. `depth` is how many arrays and objects are open around it.
    ///
    /// Iterative: which of the open levels are objects is kept in the bits of a `u128`,
    /// enough for [`MAX_DEPTH`].
    pub fn skip_value(&mut self, depth: usize) -> Result<(), SyntaxError> {
        let mut objects: u128 = 0;
        let mut levels: u32 = 0;
        loop {
            // At a value (after whitespace): a scalar, or an array or object to open.
            if self.scalar()?.is_none() {
                if depth + levels as usize >= MAX_DEPTH {
                    return Err(self.error(Problem::TooDeep));
                }
                let is_object = self.peek_token() == Some(b'{');
                self.bump();
                let empty = if is_object {
                    objects |= 1 << levels;
                    match self.peek_token() {
                        Some(b'}') => true,
                        Some(b'"') => {
                            self.string()?;
                            self.colon()?;
                            false
                        }
                        Some(_) => return Err(self.error(Problem::ExpectedKey)),
                        None => return Err(self.error(Problem::UnexpectedEnd)),
                    }
                } else {
                    objects &= !(1 << levels);
                    self.peek_token() == Some(b']')
                };
                levels += 1;
                if !empty {
                    continue;
                }
                // The closing bracket of an empty one is read below, as any other.
            }
            // After a value: a `,` and the next value, or the end of enclosing levels.
            loop {
                let Some(level) = levels.checked_sub(1) else {
                    return Ok(());
                };
                let in_object = objects & (1 << level) != 0;
                match self.peek_token() {
                    Some(b',') => {
                        self.bump();
                        if in_object {
                            self.key_and_colon()?;
                        } else if self.peek_token() == Some(b']') {
                            return Err(self.error(Problem::TrailingComma));
                        }
                        break;
                    }
                    Some(b']') if !in_object => {}
                    Some(b'}') if in_object => {}
                    Some(_) if in_object => return Err(self.error(Problem::ExpectedCommaOrBrace)),
                    Some(_) => return Err(self.error(Problem::ExpectedCommaOrBracket)),
                    None => return Err(self.error(Problem::UnexpectedEnd)),
                }
                self.bump();
                levels = level;
            }
        }
    }
}

/// The position of the first byte from `at` on that is not plain inside a string (a
/// quote, a backslash or a control character), or the end of `bytes`. Eight bytes at a
/// time while eight are left, the rest one by one.
#[inline(always)]
fn plain_run_end(bytes: &[u8], mut at: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH_BITS: u64 = 0x8080_8080_8080_8080;
    while let Some(word) = bytes
        .get(at..at + 8)
        .and_then(|word| <[u8; 8]>::try_from(word).ok())
    {
        let word = u64::from_le_bytes(word);
        let quotes = word ^ (ONES * u64::from(b'"'));
        let backslashes = word ^ (ONES * u64::from(b'\\'));
        // The high bit of each byte that is zero in `quotes` or `backslashes`, or below
        // 0x20 in `word`. A borrow can also mark a byte after such a byte, never one
        // before it, so the lowest mark (the first byte, little-endian) is exact.
        let marks = (quotes.wrapping_sub(ONES) & !quotes
            | backslashes.wrapping_sub(ONES) & !backslashes
            | word.wrapping_sub(ONES * 0x20) & !word)
            & HIGH_BITS;
        if marks != 0 {
            return at + (marks.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    while let Some(&byte) = bytes.get(at) {
        if STRING_CLASS[usize::from(byte)] != PLAIN {
            break;
        }
        at += 1;
    }
    at
}

const PLAIN: u8 = 0;
const QUOTE: u8 = 1;
const BACKSLASH: u8 = 2;
const CONTROL: u8 = 3;

/// How each byte is read inside a string.
static STRING_CLASS: [u8; 256] = {
    let mut classes = [PLAIN; 256];
    let mut byte = 0;
    while byte < 0x20 {
        classes[byte] = CONTROL;
        byte += 1;
    }
    classes[b'"' as usize] = QUOTE;
    classes[b'\\' as usize] = BACKSLASH;
    classes
};

#[cfg(test)]
mod tests;

//! Splits arrays into their elements: a body into its events, and an array value read
//! later (a summary's counters).

use super::lexer::{Cursor, Problem, SyntaxError};
use super::value::JsonType;

/// Why a body is not a JSON array of objects. Not JSON at all outranks the others, as it
/// would for a parser that reads the whole body first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    Syntax(SyntaxError),
    NotAnArray(JsonType),
    ElementNotAnObject { index: usize, found: JsonType },
}

impl From<SyntaxError> for BodyError {
    fn from(error: SyntaxError) -> BodyError {
        BodyError::Syntax(error)
    }
}

/// Reads `text` as one JSON array of objects, calling `read_object` with the cursor at
/// each object (which it must read, with `depth` 1, and move past), the object's index and
/// whether the body can still be accepted: `false` after an element that is not an object,
/// when what the objects hold will not be used, but they are still read, so that invalid
/// JSON after them is found where a full reader finds it. The whole body is checked, so
/// that invalid JSON is told apart from a wrong element.
pub fn array_of_objects<'a>(
    text: &'a str,
    mut read_object: impl FnMut(&mut Cursor<'a>, usize, bool) -> Result<(), SyntaxError>,
) -> Result<(), BodyError> {
    let mut cursor = Cursor::new(text);
    match cursor.peek_token() {
        Some(b'[') => {}
        Some(first) => {
            cursor.skip_value(0)?;
            cursor.end()?;
            return Err(BodyError::NotAnArray(JsonType::of_first_byte(first)));
        }
        None => return Err(cursor.error(Problem::UnexpectedEnd).into()),
    }
    let mut not_an_object = None;
    elements(&mut cursor, 0, |cursor, index| match cursor.peek_token() {
        Some(b'{') => read_object(cursor, index, not_an_object.is_none()),
        first => {
            if let Some(first) = first {
                not_an_object.get_or_insert(BodyError::ElementNotAnObject {
                    index,
                    found: JsonType::of_first_byte(first),
                });
            }
            cursor.skip_value(1)
        }
    })?;
    cursor.end()?;
    match not_an_object {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// Reads the array at the current position (after whitespace), calling `element` with the
/// cursor at each element (after whitespace) and its index; `element` must move past it.
/// `depth` is how many arrays and objects are open around the array.
pub fn elements<'a>(
    cursor: &mut Cursor<'a>,
    depth: usize,
    mut element: impl FnMut(&mut Cursor<'a>, usize) -> Result<(), SyntaxError>,
) -> Result<(), SyntaxError> {
    cursor.open(b'[', depth)?;
    if cursor.peek_token() == Some(b']') {
        cursor.bump();
        return Ok(());
    }
    let mut index = 0;
    loop {
        cursor.peek_token();
        element(cursor, index)?;
        index += 1;
        match cursor.peek_token() {
            Some(b',') => {
                cursor.bump();
                if cursor.peek_token() == Some(b']') {
                    return Err(cursor.error(Problem::TrailingComma));
                }
            }
            Some(b']') => {
                cursor.bump();
                return Ok(());
            }
            Some(_) => return Err(cursor.error(Problem::ExpectedCommaOrBracket)),
            None => return Err(cursor.error(Problem::UnexpectedEnd)),
        }
    }
}

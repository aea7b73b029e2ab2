//! Reads an object's members in one pass: each key as it is written and the exact text of
//! its value, every value checked as it is passed.

use super::lexer::{Cursor, JsonStr, Problem, SyntaxError};
use super::value::Json;

/// Reads the object at the current position (after whitespace), calling `member` with
/// each key and value in document order, duplicates included. `depth` is how many arrays
/// and objects are open around the object.
#[inline]
pub fn members<'a>(
    cursor: &mut Cursor<'a>,
    depth: usize,
    mut member: impl FnMut(JsonStr<'a>, Json<'a>),
) -> Result<(), SyntaxError> {
    walk_members(cursor, depth, |key, cursor| {
        let start = cursor.position();
        // Most members are scalars, read here; arrays and objects go to the skipper.
        if cursor.scalar()?.is_none() {
            cursor.skip_value(depth + 1)?;
        }
        member(key, Json(cursor.since(start)));
        Ok(())
    })
}

/// Reads the object at the current position (after whitespace), calling `member` with
/// each key, in document order, and the cursor at its value (after whitespace), which
/// `member` must read or skip: for a reader that looks inside some values in the same
/// pass (a summary's counters). `depth` is how many arrays and objects are open around
/// the object.
#[inline]
pub fn walk_members<'a>(
    cursor: &mut Cursor<'a>,
    depth: usize,
    mut member: impl FnMut(JsonStr<'a>, &mut Cursor<'a>) -> Result<(), SyntaxError>,
) -> Result<(), SyntaxError> {
    cursor.open(b'{', depth)?;
    match cursor.peek_token() {
        Some(b'}') => {
            cursor.bump();
            return Ok(());
        }
        Some(b'"') => {}
        Some(_) => return Err(cursor.error(Problem::ExpectedKey)),
        None => return Err(cursor.error(Problem::UnexpectedEnd)),
    }
    loop {
        let key = cursor.string()?;
        cursor.colon()?;
        cursor.peek_token();
        member(key, cursor)?;
        match cursor.peek_token() {
            Some(b',') => {
                cursor.bump();
                match cursor.peek_token() {
                    Some(b'"') => {}
                    Some(b'}') => return Err(cursor.error(Problem::TrailingComma)),
                    Some(_) => return Err(cursor.error(Problem::ExpectedKey)),
                    None => return Err(cursor.error(Problem::UnexpectedEnd)),
                }
            }
            Some(b'}') => {
                cursor.bump();
                return Ok(());
            }
            Some(_) => return Err(cursor.error(Problem::ExpectedCommaOrBrace)),
            None => return Err(cursor.error(Problem::UnexpectedEnd)),
        }
    }
}

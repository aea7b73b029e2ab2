//! A hand-written single-pass JSON scanner over request bodies: it checks a body is JSON
//! (as strictly as serde_json, nesting at most 127 levels), splits the top-level array into
//! its elements and finds the members of the objects it is asked about, skipping every
//! other value without building it.
//!
//! `lexer.rs` reads tokens and skips values, `array.rs` splits arrays (a body's events),
//! `object.rs` reads an object's members (an event's fields) and `value.rs` reads one value
//! already checked (its type, an integer, a string, nested members).

mod array;
mod lexer;
mod object;
mod value;

pub use array::{array_of_objects, elements, BodyError};
pub use lexer::{Cursor, JsonStr, Problem, SyntaxError};
pub use object::{members, walk_members};
pub use value::{Json, JsonType};

//! ETags of evaluation results (OFREP bulk, spec 8.5): a strong hash of the environment
//! revision, the credential's flag visibility and the normalised context.

use std::fmt::Write as _;

use serde_json::Value;
use sha2::{Digest, Sha256};
use vexil_eval::{Context, IndividualContext};

use super::source::FlagVisibility;

/// The `ETag` header value (quotes included) of the evaluations of every flag `visibility`
/// sees, for `context`, at `environment_revision`.
///
/// Vexil choice (spec 8.5): the hash covers the revision (any flag or segment change), the
/// visibility (another credential kind sees other flags) and a canonical serialisation of the
/// context in which kinds, attribute names at every depth and private attribute references
/// are sorted. So the same context sent with its properties in another order gets the same
/// ETag, and any difference in kind, key, name, `anonymous`, an attribute value, a private
/// attribute or an old user's secondary key gives another one. JSON numbers are compared as
/// written (`1` and `1.0` differ), which at worst costs a cache miss. 128 bits of SHA-256
/// are kept, in hex.
pub fn evaluation_etag(
    environment_revision: u64,
    visibility: FlagVisibility,
    context: &Context,
) -> String {
    let mut canonical = String::with_capacity(256);
    write_canonical_context(context, &mut canonical);
    let digest = Sha256::new()
        .chain_update(b"vexil-evaluation-etag-v1\n")
        .chain_update(environment_revision.to_be_bytes())
        .chain_update(visibility.as_str().as_bytes())
        .chain_update(b"\n")
        .chain_update(canonical.as_bytes())
        .finalize();
    format!("\"{}\"", hex::encode(&digest[..16]))
}

/// Whether an `If-None-Match` header value names `etag`, so the route answers `304` with no
/// body. Handles lists (`"a", "b"`), `*` and weak validators (`W/"a"`, compared weakly as
/// RFC 9110 requires for `If-None-Match`).
pub fn if_none_match_matches(if_none_match: &str, etag: &str) -> bool {
    let etag = etag.trim().trim_start_matches("W/");
    if_none_match.split(',').map(str::trim).any(|candidate| {
        candidate == "*" || (!candidate.is_empty() && candidate.trim_start_matches("W/") == etag)
    })
}

/// Writes `[{individual}, ...]`, individuals in kind order (a [`Context`] keeps them sorted).
fn write_canonical_context(context: &Context, out: &mut String) {
    out.push('[');
    for (index, individual) in context.individuals().iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        write_canonical_individual(individual, out);
    }
    out.push(']');
}

fn write_canonical_individual(individual: &IndividualContext, out: &mut String) {
    out.push_str("{\"kind\":");
    write_string(individual.kind(), out);
    out.push_str(",\"key\":");
    write_string(individual.key(), out);
    out.push_str(",\"name\":");
    match individual.name() {
        Some(name) => write_string(name, out),
        None => out.push_str("null"),
    }
    let _ = write!(out, ",\"anonymous\":{}", individual.is_anonymous());
    out.push_str(",\"attributes\":{");
    let mut attributes: Vec<(&String, &Value)> = individual.custom_attributes().iter().collect();
    attributes.sort_unstable_by(|a, b| a.0.cmp(b.0));
    write_entries(&attributes, out);
    out.push_str("},\"privateAttributes\":[");
    let mut private: Vec<&str> = individual
        .private_attributes()
        .iter()
        .map(|reference| reference.as_str())
        .collect();
    private.sort_unstable();
    private.dedup();
    for (index, reference) in private.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        write_string(reference, out);
    }
    out.push_str("],\"secondary\":");
    match individual.secondary() {
        Some(secondary) => write_string(secondary, out),
        None => out.push_str("null"),
    }
    out.push('}');
}

/// Writes a JSON value with the members of every object sorted by name.
fn write_canonical_value(value: &Value, out: &mut String) {
    match value {
        Value::Object(members) => {
            let mut members: Vec<(&String, &Value)> = members.iter().collect();
            members.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            write_entries(&members, out);
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_canonical_value(item, out);
            }
            out.push(']');
        }
        scalar => {
            let _ = write!(out, "{scalar}");
        }
    }
}

fn write_entries(entries: &[(&String, &Value)], out: &mut String) {
    for (index, (name, value)) in entries.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        write_string(name, out);
        out.push(':');
        write_canonical_value(value, out);
    }
}

fn write_string(text: &str, out: &mut String) {
    // serde_json's `Display` for a string value is its escaped JSON form.
    let _ = write!(out, "{}", Value::from(text));
}

#[cfg(test)]
mod tests;

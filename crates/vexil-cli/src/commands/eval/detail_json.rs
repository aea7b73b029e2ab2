//! The JSON line printed for one result: `{"value", "variationIndex", "reason"}`, the shape of
//! a LaunchDarkly `EvaluationDetail`.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::Value;
use vexil_eval::{EvaluationDetail, Reason};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DetailJson<'a> {
    value: &'a Value,
    variation_index: Option<usize>,
    reason: Reason<'a>,
}

/// Writes `detail` as one line of JSON. `default` stands in for a missing value, which
/// `variation_detail` never returns but the type allows.
pub fn write_line(
    out: &mut impl Write,
    detail: &EvaluationDetail<'_>,
    default: &Value,
) -> io::Result<()> {
    let line = DetailJson {
        value: detail.value.unwrap_or(default),
        variation_index: detail.variation_index,
        reason: detail.reason,
    };
    serde_json::to_writer(&mut *out, &line)?;
    out.write_all(b"\n")
}

//! Single mode: evaluates one flag for one context and prints the result explained, or as JSON.

use std::io::{self, Write};

use anyhow::Context as _;
use serde_json::Value;
use vexil_eval::{variation_detail, Context, FlagData, ValueType};

use super::detail_json;
use super::explain::{explain, Evaluation};

/// One evaluation, as given on the command line.
pub struct Request<'a> {
    /// Key of the flag to evaluate.
    pub flag_key: &'a str,
    /// The context as JSON (possibly not a valid context).
    pub context: &'a Value,
    /// The value served when the flag cannot be evaluated.
    pub default: &'a Value,
    /// The typed call being imitated.
    pub value_type: ValueType,
    /// Print the JSON line of cases mode instead of the explanation.
    pub is_json: bool,
}

/// Evaluates `request` against `data`, writing to `out`.
pub fn run(data: &FlagData, request: &Request<'_>, mut out: impl Write) -> anyhow::Result<()> {
    let context = Context::from_json(request.context);
    let detail = variation_detail(
        data,
        request.flag_key,
        context.as_ref().ok(),
        request.default,
        request.value_type,
    );
    let written = if request.is_json {
        detail_json::write_line(&mut out, &detail, request.default)
    } else {
        let evaluation = Evaluation {
            store: data,
            flag_key: request.flag_key,
            context: context.as_ref(),
            value_type: request.value_type,
            detail: &detail,
        };
        write_explained(&mut out, &evaluation, request.default)
    };
    written
        .and_then(|()| out.flush())
        .context("failed to write the result to stdout")
}

/// Writes the value, the variation index and the reason in words, one per line.
fn write_explained(
    out: &mut impl Write,
    evaluation: &Evaluation<'_, FlagData>,
    default: &Value,
) -> io::Result<()> {
    let value = evaluation.detail.value.unwrap_or(default);
    writeln!(out, "value:     {value}")?;
    match evaluation.detail.variation_index {
        Some(index) => writeln!(out, "variation: {index}")?,
        None => writeln!(out, "variation: none")?,
    }
    writeln!(out, "reason:    {}", explain(evaluation))
}

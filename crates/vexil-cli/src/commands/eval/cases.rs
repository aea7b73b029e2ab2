//! Cases mode: evaluates every line of a JSON Lines file, streaming one JSON result per line.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use anyhow::Context as _;
use vexil_eval::{variation_detail, Context, FlagData};

use super::case_line::Case;
use super::detail_json;
use crate::error::{InputError, Location};

/// Output is flushed in blocks of this size, and at the end.
const OUTPUT_BUFFER_BYTES: usize = 64 * 1024;

/// Evaluates the cases in `cases_path` (`-` is stdin) against `data`, writing to `out`.
///
/// Stops at the first line that is not a case, after writing the results of the lines before it.
pub fn run(data: &FlagData, cases_path: &Path, out: impl Write) -> anyhow::Result<()> {
    let mut out = BufWriter::with_capacity(OUTPUT_BUFFER_BYTES, out);
    let outcome = if cases_path == Path::new("-") {
        evaluate_lines(data, "<stdin>", io::stdin().lock(), &mut out)
    } else {
        let name = cases_path.display().to_string();
        match File::open(cases_path) {
            Ok(file) => evaluate_lines(data, &name, BufReader::new(file), &mut out),
            Err(source) => Err(InputError::Unreadable { name, source }.into()),
        }
    };
    let flushed = out.flush().context("failed to write results to stdout");
    outcome.and(flushed)
}

/// The loop itself, over any reader and writer.
fn evaluate_lines(
    data: &FlagData,
    name: &str,
    mut reader: impl BufRead,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    // One buffer for all lines: reading a large file allocates only when a line is longer
    // than every line before it.
    let mut line = Vec::new();
    for line_number in 1.. {
        line.clear();
        let read = reader.read_until(b'\n', &mut line);
        if read.map_err(|source| InputError::Unreadable {
            name: name.to_owned(),
            source,
        })? == 0
        {
            break;
        }
        let case = Case::parse(without_line_ending(&line)).map_err(|problem| InputError::Case {
            location: Location {
                name: name.to_owned(),
                line: line_number,
                column: problem.column(),
            },
            problem,
        })?;
        let context = Context::from_json(&case.context).ok();
        let detail = variation_detail(
            data,
            &case.flag,
            context.as_ref(),
            &case.default,
            case.value_type,
        );
        detail_json::write_line(out, &detail, &case.default)
            .context("failed to write results to stdout")?;
    }
    Ok(())
}

fn without_line_ending(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

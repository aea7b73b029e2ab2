//! Runs LaunchDarkly's server-side evaluation data (`shared/conformance`) through the evaluator.
//!
//! Every `.yml` file under `conformance/launchdarkly-eval/server-side-eval/` of the shared
//! directory is expanded into suites (`conformance/expand.rs`), and each evaluation calls
//! `variation_detail` with its context as given and, for an old-style user, again with the
//! equivalent `kind: "user"` context (`conformance/old_user.rs`). Expectations are checked as
//! `conformance/suite.rs` describes. All failures are collected and listed together at the end.
//!
//! The shared directory is `../shared` next to the repository, or `$VEXIL_SHARED_DIR`.

#[path = "conformance/expand.rs"]
mod expand;
#[path = "conformance/old_user.rs"]
mod old_user;
#[path = "conformance/suite.rs"]
mod suite;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use vexil_eval::{variation_detail, AllData, Context, FlagData};

use crate::suite::{Evaluation, Suite};

/// Where the data lives inside the shared directory.
const DATA_DIRECTORY: &str = "conformance/launchdarkly-eval/server-side-eval";
/// Overrides the shared directory.
const SHARED_DIRECTORY_VARIABLE: &str = "VEXIL_SHARED_DIR";
/// A little below the real count (728 as given + 550 converted = 1278 when written), so a
/// broken expansion cannot pass by running almost nothing.
const MIN_EVALUATIONS: usize = 1250;

#[test]
fn server_side_evaluations_match_launchdarkly() {
    let directory = data_directory();
    let mut run = Run::default();
    for file in yaml_files(&directory) {
        run.file(&file);
    }
    let summary = run.summary();
    println!("{summary}");
    if !run.failures.is_empty() {
        let mut report = String::new();
        for (number, failure) in run.failures.iter().enumerate() {
            let _ = writeln!(report, "\n{}. {failure}", number + 1);
        }
        panic!(
            "{} conformance failures:\n{report}\n{summary}",
            run.failures.len()
        );
    }
    assert!(
        run.evaluations() >= MIN_EVALUATIONS,
        "only {} evaluations ran, expected at least {MIN_EVALUATIONS}: \
         is the template expansion broken?\n{summary}",
        run.evaluations()
    );
}

/// The conformance data directory; panics (never skips) when it is missing.
fn data_directory() -> PathBuf {
    let shared = match std::env::var_os(SHARED_DIRECTORY_VARIABLE) {
        Some(shared) => PathBuf::from(shared),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    };
    let directory = shared.join(DATA_DIRECTORY);
    assert!(
        directory.is_dir(),
        "conformance data directory {} not found: check out the shared directory next to the \
         repository, or set {SHARED_DIRECTORY_VARIABLE} to the shared directory",
        directory.display()
    );
    directory
}

/// Every `.yml` file of the directory, sorted; panics when there is none.
fn yaml_files(directory: &Path) -> Vec<PathBuf> {
    let cannot_list = |error: std::io::Error| -> String {
        format!("cannot list {}: {error}", directory.display())
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(directory)
        .unwrap_or_else(|error| panic!("{}", cannot_list(error)))
        .map(|entry| {
            entry
                .unwrap_or_else(|error| panic!("{}", cannot_list(error)))
                .path()
        })
        .filter(|path| path.extension().is_some_and(|extension| extension == "yml"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no .yml files in {}",
        directory.display()
    );
    files
}

/// Counts and failures of the whole run.
#[derive(Default)]
struct Run {
    files: usize,
    suites: usize,
    as_given: usize,
    converted: usize,
    /// Old users with `"key": ""`: valid as old users, invalid once converted (spec 2.4), so the
    /// converted form would rightly give `USER_NOT_SPECIFIED` instead of the expected result.
    skipped_empty_key: usize,
    failures: Vec<String>,
}

/// Which form of an evaluation's context was used.
#[derive(Clone, Copy)]
enum ContextForm {
    AsGiven,
    ConvertedFromOldUser,
}

impl Run {
    fn evaluations(&self) -> usize {
        self.as_given + self.converted
    }

    fn summary(&self) -> String {
        format!(
            "conformance: {} files, {} suites, {} evaluations ({} as given + {} converted; \
             {} conversions skipped for an empty old-user key), {} failed",
            self.files,
            self.suites,
            self.evaluations(),
            self.as_given,
            self.converted,
            self.skipped_empty_key,
            self.failures.len()
        )
    }

    fn file(&mut self, path: &Path) {
        self.files += 1;
        let file_name = path
            .file_name()
            .unwrap_or(path.as_os_str())
            .to_string_lossy();
        let expanded = std::fs::read_to_string(path)
            .map_err(|error| format!("cannot read file: {error}"))
            .and_then(|text| expand::expand_file(&text));
        match expanded {
            Ok(documents) => documents
                .into_iter()
                .for_each(|document| self.suite(&file_name, document)),
            Err(error) => self.failures.push(format!("{file_name}: {error}")),
        }
    }

    fn suite(&mut self, file_name: &str, expanded: expand::Expanded) {
        self.suites += 1;
        let parameters = Value::Object(expanded.parameters);
        let suite: Suite = match serde_path_to_error::deserialize(expanded.document) {
            Ok(suite) => suite,
            Err(error) => {
                let failure =
                    format!("{file_name} | parameters {parameters}: invalid suite: {error}");
                return self.failures.push(failure);
            }
        };
        let location = format!(
            "{file_name} | suite {:?} | parameters {parameters}",
            suite.name
        );
        let data: AllData = match serde_path_to_error::deserialize(&suite.sdk_data) {
            Ok(data) => data,
            Err(error) => {
                return self
                    .failures
                    .push(format!("{location}: invalid sdkData: {error}"))
            }
        };
        let data = FlagData::from_all_data(data);
        for evaluation in &suite.evaluations {
            let location = format!("{location} | evaluation {:?}", evaluation.display_name());
            self.evaluation(&location, &suite.sdk_data, &data, evaluation);
        }
    }

    /// Runs one evaluation with each applicable form of its context.
    fn evaluation(
        &mut self,
        location: &str,
        sdk_data: &Value,
        data: &FlagData,
        evaluation: &Evaluation,
    ) {
        let mut forms = vec![(ContextForm::AsGiven, evaluation.context.clone())];
        if let Some(converted) = old_user::convert(&evaluation.context) {
            if converted["key"] == "" {
                self.skipped_empty_key += 1;
            } else {
                forms.push((ContextForm::ConvertedFromOldUser, converted));
            }
        }
        for (form, context) in forms {
            let form_name = match form {
                ContextForm::AsGiven => {
                    self.as_given += 1;
                    "as given"
                }
                ContextForm::ConvertedFromOldUser => {
                    self.converted += 1;
                    "converted from old-style user"
                }
            };
            if let Err(failure) = check(sdk_data, data, evaluation, &context) {
                self.failures
                    .push(format!("{location} | context {form_name}\n{failure}"));
            }
        }
    }
}

/// Evaluates once and compares; the error describes the difference.
fn check(
    sdk_data: &Value,
    data: &FlagData,
    evaluation: &Evaluation,
    context_json: &Value,
) -> Result<(), String> {
    let default = evaluation.default_value(sdk_data);
    let value_type = evaluation.value_type(&default)?;
    // An invalid context is passed as `None`, which is what gives USER_NOT_SPECIFIED.
    let context = Context::from_json(context_json).ok();
    let detail = variation_detail(
        data,
        &evaluation.flag_key,
        context.as_ref(),
        &default,
        value_type,
    );
    let actual = json!({
        "value": detail.value,
        "variationIndex": detail.variation_index,
        "reason": detail.reason,
    });
    let mismatches = suite::mismatches(&evaluation.expect, &actual);
    if mismatches.is_empty() {
        return Ok(());
    }
    let expected =
        serde_json::to_value(&evaluation.expect).expect("expectations serialize to JSON");
    Err(format!(
        "   flag:     {:?}, valueType {value_type:?}, default {default}\n   \
         context:  {context_json}\n   expected: {expected}\n   actual:   {actual}\n   \
         mismatch: {}",
        evaluation.flag_key,
        mismatches.join(", ")
    ))
}

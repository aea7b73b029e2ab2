//! Merges the OpenMetrics expositions of several registries into one document, so a process
//! running several services (`vexil up`) is a single scrape target.
//!
//! Every service's registry declares the shared families (`vexil_http_requests`, …) with its
//! own `service` label. Concatenating the expositions would repeat their metadata and `# EOF`,
//! which OpenMetrics forbids: each family is declared once, its samples follow its metadata
//! together, and the document ends at its only `# EOF`.

use std::collections::HashMap;

/// The merged document and what had to be left out of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    /// One valid OpenMetrics text exposition, ending with `# EOF`.
    pub exposition: String,
    /// Families whose samples some exposition lost because it declared them with another
    /// type or unit than an earlier one (see [`merge`]).
    pub conflicts: Vec<String>,
}

/// Merges `expositions` (each a complete OpenMetrics text exposition) into one: every family
/// once, in the order first seen, with the first exposition's `# HELP`, `# TYPE` and
/// `# UNIT` lines and then the samples of every exposition in the order given.
///
/// Series must be distinct across expositions (for Vexil's registries the `service` label
/// makes them so); the merge does not look inside label sets. Anything after an
/// exposition's `# EOF` is ignored.
pub fn merge<'a>(expositions: impl IntoIterator<Item = &'a str>) -> Merged {
    let mut families: Vec<Family<'a>> = Vec::new();
    let mut by_name: HashMap<&'a str, usize> = HashMap::new();
    let mut conflicts = Vec::new();
    for exposition in expositions {
        for family in parse(exposition) {
            let Some(&index) = by_name.get(family.name) else {
                by_name.insert(family.name, families.len());
                families.push(family);
                continue;
            };
            let kept = &mut families[index];
            if kept.kind() == family.kind() && kept.unit == family.unit {
                kept.samples.extend(family.samples);
            } else {
                // A family's type (and unit) decide how its samples are read: a `_total`
                // sample under a gauge's metadata makes the whole document invalid. One
                // codebase never declares a family twice differently, but if it ever did,
                // the first declaration wins and the other's samples are dropped, so
                // Prometheus still gets every other family.
                conflicts.push(family.name.to_owned());
            }
        }
    }
    let mut exposition = String::new();
    for family in &families {
        family.write(&mut exposition);
    }
    exposition.push_str("# EOF\n");
    Merged {
        exposition,
        conflicts,
    }
}

/// One metric family of an exposition: its metadata lines, kept verbatim, and its samples.
#[derive(Debug)]
struct Family<'a> {
    name: &'a str,
    help: Option<&'a str>,
    /// The whole `# TYPE` line and its type word.
    kind: Option<(&'a str, &'a str)>,
    unit: Option<&'a str>,
    samples: Vec<&'a str>,
}

impl<'a> Family<'a> {
    fn new(name: &'a str) -> Family<'a> {
        Family {
            name,
            help: None,
            kind: None,
            unit: None,
            samples: Vec::new(),
        }
    }

    /// The declared type; OpenMetrics reads a family without `# TYPE` as `unknown`.
    fn kind(&self) -> &'a str {
        self.kind.map_or("unknown", |(_, kind)| kind)
    }

    /// Whether a sample called `sample_name` is one of this family's: OpenMetrics names
    /// samples by the family name plus a suffix that depends on the type.
    fn owns(&self, sample_name: &str) -> bool {
        let Some(suffix) = sample_name.strip_prefix(self.name) else {
            return false;
        };
        let suffixes: &[&str] = match self.kind() {
            "counter" => &["_total", "_created"],
            "histogram" => &["_bucket", "_count", "_sum", "_created"],
            "gaugehistogram" => &["_bucket", "_gcount", "_gsum"],
            "summary" => &["", "_count", "_sum", "_created"],
            "info" => &["_info"],
            // gauge, stateset, unknown
            _ => &[""],
        };
        suffixes.contains(&suffix)
    }

    fn write(&self, out: &mut String) {
        let metadata = [self.help, self.kind.map(|(line, _)| line), self.unit];
        for line in metadata
            .into_iter()
            .flatten()
            .chain(self.samples.iter().copied())
        {
            out.push_str(line);
            out.push('\n');
        }
    }
}

/// The families of one exposition, in order. A sample no metadata announced starts a
/// family of its own with no metadata (type `unknown`), as OpenMetrics reads it.
fn parse(exposition: &str) -> Vec<Family<'_>> {
    let mut families: Vec<Family<'_>> = Vec::new();
    for line in exposition.lines() {
        if line == "# EOF" {
            break;
        }
        if let Some(comment) = line.strip_prefix('#') {
            let mut words = comment.trim_start().splitn(3, ' ');
            let (Some(keyword), Some(name)) = (words.next(), words.next()) else {
                continue;
            };
            if !matches!(keyword, "HELP" | "TYPE" | "UNIT") {
                continue;
            }
            let continues_family = families
                .last()
                .is_some_and(|family| family.name == name && family.samples.is_empty());
            if !continues_family {
                families.push(Family::new(name));
            }
            let family = families.last_mut().expect("a family was just pushed");
            match keyword {
                "HELP" => family.help = Some(line),
                "TYPE" => family.kind = Some((line, words.next().unwrap_or("unknown").trim())),
                _ => family.unit = Some(line),
            }
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        let name_end = line.find(['{', ' ']).unwrap_or(line.len());
        let sample_name = &line[..name_end];
        if !families
            .last()
            .is_some_and(|family| family.owns(sample_name))
        {
            families.push(Family::new(sample_name));
        }
        families
            .last_mut()
            .expect("a family was just pushed")
            .samples
            .push(line);
    }
    families
}

#[cfg(test)]
mod tests;

//! A strict reader of the Prometheus text format (0.0.4), for tests: every
//! line is a `# HELP`, a `# TYPE` before its family's samples, a comment, or
//! a sample `name{label="value",…} value [timestamp]` of a typed family; and
//! each histogram's buckets add up to its count.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

const KINDS: [&str; 5] = ["counter", "gauge", "histogram", "summary", "untyped"];

pub fn parse(text: &str) -> Result<Vec<Sample>, String> {
    let mut types: HashMap<String, String> = HashMap::new();
    let mut samples: Vec<Sample> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let at = |why: &str| format!("line {}: {why}: {line:?}", n + 1);
        if line.trim().is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix('#') {
            let mut parts = rest.trim_start().splitn(3, ' ');
            match (parts.next(), parts.next(), parts.next()) {
                (Some("TYPE"), Some(name), Some(kind)) if valid_name(name) && KINDS.contains(&kind) => {
                    if samples.iter().any(|s| family(&s.name, &types) == name) {
                        return Err(at("TYPE after the family's samples"));
                    }
                    if types.insert(name.to_owned(), kind.to_owned()).is_some() {
                        return Err(at("a second TYPE"));
                    }
                }
                (Some("HELP"), Some(name), _) if valid_name(name) => {}
                (Some("HELP" | "TYPE"), ..) => return Err(at("malformed HELP or TYPE")),
                _ => {}
            }
            continue;
        }
        let sample = parse_sample(line).map_err(|e| at(e.as_str()))?;
        if !types.contains_key(family(&sample.name, &types)) {
            return Err(at("a sample of no declared TYPE"));
        }
        samples.push(sample);
    }
    check_histograms(&samples, &types)?;
    Ok(samples)
}

/// The value of the sample with exactly these labels.
pub fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let want: BTreeMap<String, String> = labels.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    samples.iter().find(|s| s.name == name && s.labels == want).map(|s| s.value)
}

fn family<'a>(name: &'a str, types: &HashMap<String, String>) -> &'a str {
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = name.strip_suffix(suffix)
            && types.get(base).is_some_and(|k| k == "histogram" || k == "summary")
        {
            return base;
        }
    }
    name
}

fn parse_sample(line: &str) -> Result<Sample, String> {
    let end = line.find(['{', ' ']).ok_or("no value")?;
    let name = &line[..end];
    if !valid_name(name) {
        return Err("bad metric name".into());
    }
    let mut rest = &line[end..];
    let mut labels = BTreeMap::new();
    if let Some(mut s) = rest.strip_prefix('{') {
        loop {
            if let Some(after) = s.strip_prefix('}') {
                rest = after;
                break;
            }
            let eq = s.find('=').ok_or("a label without =")?;
            let key = &s[..eq];
            if !valid_name(key) || key.contains(':') {
                return Err(format!("bad label name {key:?}"));
            }
            let quoted = s[eq + 1..].strip_prefix('"').ok_or("a label value not quoted")?;
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let close = loop {
                match chars.next() {
                    Some((i, '"')) => break i,
                    Some((_, '\\')) => match chars.next() {
                        Some((_, 'n')) => value.push('\n'),
                        Some((_, c @ ('\\' | '"'))) => value.push(c),
                        _ => return Err("a bad escape".into()),
                    },
                    Some((_, c)) => value.push(c),
                    None => return Err("an unterminated label value".into()),
                }
            };
            if labels.insert(key.to_owned(), value).is_some() {
                return Err(format!("label {key} twice"));
            }
            s = &quoted[close + 1..];
            s = s.strip_prefix(',').unwrap_or(s);
        }
    }
    if !rest.starts_with(' ') {
        return Err("no space before the value".into());
    }
    let mut fields = rest.split_whitespace();
    let value = match fields.next().ok_or("no value")? {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        v => v.parse::<f64>().map_err(|_| format!("bad value {v:?}"))?,
    };
    if let Some(ts) = fields.next() {
        ts.parse::<i64>().map_err(|_| format!("bad timestamp {ts:?}"))?;
    }
    if fields.next().is_some() {
        return Err("text after the timestamp".into());
    }
    Ok(Sample { name: name.to_owned(), labels, value })
}

/// Per histogram series: buckets never decrease, `+Inf` exists and equals `_count`.
fn check_histograms(samples: &[Sample], types: &HashMap<String, String>) -> Result<(), String> {
    // (family, labels but `le`) → (le, cumulative count) of each bucket.
    type Series = (String, Vec<(String, String)>);
    let mut series: BTreeMap<Series, Vec<(f64, f64)>> = BTreeMap::new();
    for s in samples.iter().filter(|s| s.name.ends_with("_bucket")) {
        let base = family(&s.name, types).to_owned();
        let le = s.labels.get("le").ok_or_else(|| format!("{} without le", s.name))?;
        let le = if le == "+Inf" { f64::INFINITY } else { le.parse().map_err(|_| format!("bad le {le}"))? };
        let rest = s.labels.iter().filter(|(k, _)| *k != "le").map(|(k, v)| (k.clone(), v.clone())).collect();
        series.entry((base, rest)).or_default().push((le, s.value));
    }
    for ((base, labels), mut buckets) in series {
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        if buckets.windows(2).any(|w| w[1].1 < w[0].1) {
            return Err(format!("{base}{labels:?}: buckets decrease"));
        }
        let inf = buckets.last().filter(|b| b.0.is_infinite()).ok_or(format!("{base}{labels:?}: no +Inf"))?.1;
        let pairs: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let count = value(samples, &format!("{base}_count"), &pairs);
        if count != Some(inf) {
            return Err(format!("{base}{labels:?}: +Inf bucket {inf} but count {count:?}"));
        }
    }
    Ok(())
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

#[test]
fn the_reader_refuses_what_prometheus_would() {
    let good = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\\\"2\"} 3\n";
    assert_eq!(parse(good).unwrap()[0].labels["x"], "1\"2");
    for bad in ["a 1\n", "# TYPE a counter\na{x=1} 1\n", "# TYPE a counter\na{x=\"1\"}1\n", "# TYPE a counter\n9a 1\n"]
    {
        assert!(parse(bad).is_err(), "{bad}");
    }
    let histogram = "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n";
    assert!(parse(histogram).is_err(), "buckets decrease");
}

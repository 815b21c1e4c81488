//! SenML JSON packs (RFC 8428) as `mote serve` takes them: one pack per line, each record
//! resolved against the base fields (section 4.6), checked, and tied to the device that
//! sent it.
//!
//! The sequence convention: SenML has no sequence number, so the first record of a pack may
//! carry `"seq"`, a non-negative integer naming the pack for acknowledgement and
//! de-duplication (an ignorable extension field in the sense of RFC 8428 section 4.4: its
//! label does not end in `_`). A pack sent twice with the same `seq` by the same device is
//! stored once, and acknowledged again. Without `seq` nothing identifies a resent pack (a
//! sensor's timestamps repeat within a second, and so do its values), so such a pack is
//! stored each time it arrives and acknowledged as `ack ?`: acks come in the order of the
//! lines on one connection, but a device that resends after a broken link must number its
//! packs to be stored exactly once.

use serde_json::{Map, Value};

/// A resolved record.
#[derive(Clone, Debug, PartialEq)]
pub struct Reading {
    pub name: String,
    /// Unix time in seconds (relative times resolved against the arrival time).
    pub time: f64,
    pub unit: Option<String>,
    pub value: SenmlValue,
}

/// A record's value (exactly one per record).
#[derive(Clone, Debug, PartialEq)]
pub enum SenmlValue {
    Number(f64),
    String(String),
    Bool(bool),
    Data(String),
}

/// A checked pack.
#[derive(Clone, Debug, PartialEq)]
pub struct Pack {
    /// The `seq` field, when given.
    pub seq: Option<u64>,
    pub readings: Vec<Reading>,
}

impl Pack {
    /// What an ack names: `seq`, or `?` without one.
    pub fn label(&self) -> String {
        self.seq.map_or("?".to_string(), |s| s.to_string())
    }
}

/// RFC 8428 section 4.5.3: times below 2^28 are relative to now.
const RELATIVE_LIMIT: f64 = 268_435_456.0;

/// A name as RFC 8428 section 4.5.1 allows: starts with a letter or digit; letters, digits,
/// `-`, `:`, `.`, `/` and `_`.
fn valid_name(n: &str) -> bool {
    n.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-:./_".contains(c))
}

fn string(r: &Map<String, Value>, k: &str) -> Result<Option<String>, String> {
    match r.get(k) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("\"{k}\" must be a string")),
    }
}

fn number(r: &Map<String, Value>, k: &str) -> Result<Option<f64>, String> {
    match r.get(k) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .filter(|x| x.is_finite())
            .map(Some)
            .ok_or(format!("\"{k}\" is not a finite number")),
        Some(_) => Err(format!("\"{k}\" must be a number")),
    }
}

/// The `seq` of a line, if it can be read even from a line that fails the checks (so an
/// error can name it).
pub fn peek_seq(line: &str) -> Option<u64> {
    let v: Value = serde_json::from_str(line).ok()?;
    v.as_array()?.first()?.get("seq")?.as_u64()
}

/// Parses and resolves a pack. `device` is the sender's identity: every resolved name must
/// start with `urn:dev:mote:<device>:`. `now` is the arrival time (Unix seconds).
pub fn parse(line: &str, device: &str, now: f64) -> Result<Pack, String> {
    let v: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Array(records) = v else {
        return Err("a SenML pack is a JSON array of records".into());
    };
    if records.is_empty() {
        return Err("empty pack".into());
    }
    let prefix = format!("urn:dev:mote:{device}:");
    let (mut bn, mut bt, mut bu, mut bv, mut bs) = (String::new(), 0.0, None, 0.0, 0.0);
    let mut seq = None;
    let mut readings = Vec::with_capacity(records.len());
    for (i, rec) in records.iter().enumerate() {
        let at = |e: String| format!("record {}: {e}", i + 1);
        let Value::Object(r) = rec else {
            return Err(at("not a JSON object".into()));
        };
        for k in r.keys() {
            if k.ends_with('_') {
                return Err(at(format!(
                    "must-understand field \"{k}\" is not supported"
                )));
            }
            // Other unknown fields are ignorable (RFC 8428 section 4.4).
        }
        if let Some(s) = r.get("seq") {
            if i > 0 {
                return Err(at("\"seq\" belongs in the first record only".into()));
            }
            seq = Some(
                s.as_u64()
                    .ok_or(at("\"seq\" must be a non-negative integer".into()))?,
            );
        }
        if let Some(b) = r.get("bver") {
            if b.as_u64().is_none_or(|b| b < 10) {
                return Err(at("\"bver\" must be an integer of at least 10".into()));
            }
        }
        if let Some(x) = string(r, "bn").map_err(at)? {
            bn = x;
        }
        if let Some(x) = number(r, "bt").map_err(at)? {
            bt = x;
        }
        if let Some(x) = string(r, "bu").map_err(at)? {
            bu = Some(x);
        }
        if let Some(x) = number(r, "bv").map_err(at)? {
            bv = x;
        }
        if let Some(x) = number(r, "bs").map_err(at)? {
            bs = x;
        }
        let n = string(r, "n").map_err(at)?.unwrap_or_default();
        let name = format!("{bn}{n}");
        if name.is_empty() {
            return Err(at("no name (\"bn\" + \"n\" is empty)".into()));
        }
        if !valid_name(&name) {
            return Err(at(format!("{name:?} is not a valid SenML name")));
        }
        if !name.starts_with(&prefix) || name.len() == prefix.len() {
            return Err(at(format!(
                "{name:?} is not under {prefix}: a device may not write readings for another's name"
            )));
        }
        let mut time = bt + number(r, "t").map_err(at)?.unwrap_or(0.0);
        if time < RELATIVE_LIMIT {
            time += now;
        }
        number(r, "ut").map_err(at)?;
        let unit = string(r, "u").map_err(at)?.or_else(|| bu.clone());
        let mut values = Vec::new();
        if let Some(x) = number(r, "v").map_err(at)? {
            values.push(SenmlValue::Number(bv + x));
        }
        if let Some(x) = string(r, "vs").map_err(at)? {
            values.push(SenmlValue::String(x));
        }
        match r.get("vb") {
            None => {}
            Some(Value::Bool(b)) => values.push(SenmlValue::Bool(*b)),
            Some(_) => return Err(at("\"vb\" must be true or false".into())),
        }
        if let Some(x) = string(r, "vd").map_err(at)? {
            values.push(SenmlValue::Data(x));
        }
        if let Some(x) = number(r, "s").map_err(at)? {
            if values.is_empty() {
                values.push(SenmlValue::Number(bs + x));
            }
        }
        let value = match values.len() {
            0 => {
                return Err(at(
                    "no value (\"v\", \"vs\", \"vb\", \"vd\" or \"s\")".into()
                ))
            }
            1 => values.pop().unwrap_or(SenmlValue::Number(0.0)),
            _ => return Err(at("more than one value field".into())),
        };
        readings.push(Reading {
            name,
            time,
            unit,
            value,
        });
    }
    Ok(Pack { seq, readings })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: f64 = 1_764_288_000.0;

    #[test]
    fn resolves_base_fields() {
        let p = parse(
            r#"[{"bn":"urn:dev:mote:0001:","bt":1764288000,"bu":"Cel","n":"t","v":21.5,"seq":7},{"n":"ok","vb":true,"t":1}]"#,
            "0001",
            NOW,
        )
        .unwrap();
        assert_eq!(p.seq, Some(7));
        assert_eq!(p.label(), "7");
        assert_eq!(p.readings[0].name, "urn:dev:mote:0001:t");
        assert_eq!(p.readings[0].unit.as_deref(), Some("Cel"));
        assert_eq!(p.readings[0].value, SenmlValue::Number(21.5));
        assert_eq!(p.readings[1].time, 1_764_288_001.0);
        assert_eq!(p.readings[1].value, SenmlValue::Bool(true));
    }

    #[test]
    fn relative_time_and_label_without_seq() {
        let p = parse(r#"[{"n":"urn:dev:mote:a:x","v":1,"t":-5}]"#, "a", NOW).unwrap();
        assert_eq!(p.readings[0].time, NOW - 5.0);
        assert_eq!(p.label(), "?");
    }

    #[test]
    fn refuses_bad_packs() {
        for (line, what) in [
            ("{}", "array"),
            ("[]", "empty"),
            ("[1]", "object"),
            (r#"[{"n":"urn:dev:mote:a:x"}]"#, "no value"),
            (r#"[{"n":"urn:dev:mote:a:x","v":"1"}]"#, "number"),
            (r#"[{"n":"urn:dev:mote:a:x","vb":1}]"#, "true or false"),
            (
                r#"[{"n":"urn:dev:mote:a:x","v":1,"vs":"a"}]"#,
                "more than one",
            ),
            (r#"[{"n":"urn:dev:mote:b:x","v":1}]"#, "another's name"),
            (r#"[{"n":"urn:dev:mote:a:","v":1}]"#, "another's name"),
            (r#"[{"n":"urn:dev:mote:a:x y","v":1}]"#, "valid SenML name"),
            (
                r#"[{"n":"urn:dev:mote:a:x","v":1,"x_":1}]"#,
                "must-understand",
            ),
            (
                r#"[{"n":"urn:dev:mote:a:x","v":1},{"n":"urn:dev:mote:a:y","v":1,"seq":2}]"#,
                "first record",
            ),
            (
                r#"[{"n":"urn:dev:mote:a:x","v":1,"seq":-1}]"#,
                "non-negative",
            ),
        ] {
            let e = parse(line, "a", NOW).unwrap_err();
            assert!(e.contains(what), "{line}: {e}");
        }
    }

    #[test]
    fn peeks_seq() {
        assert_eq!(peek_seq(r#"[{"seq":3,"n":"zz"}]"#), Some(3));
        assert_eq!(peek_seq("nope"), None);
    }
}

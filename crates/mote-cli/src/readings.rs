//! `mote readings`: lists what `mote serve` stored.

use clap::{Args, ValueEnum};
use rusqlite::{params_from_iter, Connection, OpenFlags};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
    Csv,
}

#[derive(Args, Debug)]
pub struct ReadingsArgs {
    /// The SQLite database `mote serve` writes.
    #[arg(long, default_value = "readings.sqlite", value_name = "FILE")]
    pub db: PathBuf,
    /// Only this device's readings.
    #[arg(long, value_name = "ID")]
    pub device: Option<String>,
    /// Only readings taken at or after TIME: Unix seconds, an RFC 3339 UTC time
    /// (2026-11-28T03:00:00Z), a date (2026-11-28), or an age such as 30s, 10m, 2h, 7d.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// An RFC 3339 UTC rendering of Unix seconds (to the millisecond when not whole).
pub fn format_time(t: f64) -> String {
    let ms = (t * 1000.0).round() as i64;
    let (secs, frac) = (ms.div_euclid(1000), ms.rem_euclid(1000));
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    let base = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    );
    if frac == 0 {
        format!("{base}Z")
    } else {
        format!("{base}.{frac:03}Z")
    }
}

/// `--since` as Unix seconds.
pub fn parse_since(s: &str, now: f64) -> Result<f64, String> {
    let s = s.trim();
    if let Ok(x) = s.parse::<f64>() {
        return Ok(x);
    }
    if let Some(unit) = s.chars().last().filter(|c| "smhd".contains(*c)) {
        if let Ok(n) = s[..s.len() - 1].parse::<f64>() {
            let k = match unit {
                's' => 1.0,
                'm' => 60.0,
                'h' => 3600.0,
                _ => 86_400.0,
            };
            return Ok(now - n * k);
        }
    }
    let bad = || format!("--since {s:?}: not Unix seconds, YYYY-MM-DD[THH:MM:SSZ] or an age (10m)");
    let (date, time) = match s.split_once(['T', ' ']) {
        Some((d, t)) => (d, Some(t.trim_end_matches('Z'))),
        None => (s, None),
    };
    let num = |p: &str| p.parse::<i64>().map_err(|_| bad());
    let dp: Vec<&str> = date.split('-').collect();
    let [y, m, d] = dp[..] else { return Err(bad()) };
    let (y, m, d) = (num(y)?, num(m)?, num(d)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    let mut t = days_from_civil(y, m, d) as f64 * 86_400.0;
    if let Some(time) = time {
        let tp: Vec<&str> = time.split(':').collect();
        let (h, mi, sec) = match tp[..] {
            [h, mi] => (num(h)?, num(mi)?, 0.0),
            [h, mi, sec] => (num(h)?, num(mi)?, sec.parse::<f64>().map_err(|_| bad())?),
            _ => return Err(bad()),
        };
        t += (h * 3600 + mi * 60) as f64 + sec;
    }
    Ok(t)
}

struct Row {
    device: String,
    seq: Option<i64>,
    name: String,
    time: f64,
    unit: Option<String>,
    value: Value,
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub fn run(args: &ReadingsArgs) -> ExitCode {
    match list(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mote readings: {e}");
            ExitCode::from(2)
        }
    }
}

fn list(args: &ReadingsArgs) -> Result<(), String> {
    let now = mote_std::now().as_millis() as f64 / 1000.0;
    let since = args
        .since
        .as_deref()
        .map(|s| parse_since(s, now))
        .transpose()?;
    let conn = Connection::open_with_flags(
        &args.db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| format!("--db {}: {e}", args.db.display()))?;
    let mut sql =
        "SELECT device, seq, name, time, unit, v, vs, vb, vd FROM readings WHERE 1=1".to_string();
    let mut binds: Vec<rusqlite::types::Value> = Vec::new();
    if let Some(d) = &args.device {
        sql.push_str(" AND device = ?");
        binds.push(d.clone().into());
    }
    if let Some(t) = since {
        sql.push_str(" AND time >= ?");
        binds.push(t.into());
    }
    sql.push_str(" ORDER BY time, id");
    let db = args.db.display();
    let mut stmt = conn.prepare(&sql).map_err(|e| format!("--db {db}: {e}"))?;
    let rows = stmt
        .query_map(params_from_iter(binds), |r| {
            let value = if let Some(v) = r.get::<_, Option<f64>>(5)? {
                json!(v)
            } else if let Some(s) = r.get::<_, Option<String>>(6)? {
                json!(s)
            } else if let Some(b) = r.get::<_, Option<bool>>(7)? {
                json!(b)
            } else {
                json!(r.get::<_, Option<String>>(8)?)
            };
            Ok(Row {
                device: r.get(0)?,
                seq: r.get(1)?,
                name: r.get(2)?,
                time: r.get(3)?,
                unit: r.get(4)?,
                value,
            })
        })
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("--db {db}: {e}"))?;
    match args.format {
        OutputFormat::Json => {
            let list: Vec<Value> = rows
                .iter()
                .map(|r| {
                    json!({
                        "device": r.device,
                        "seq": r.seq,
                        "name": r.name,
                        "time": r.time,
                        "unit": r.unit,
                        "value": r.value,
                    })
                })
                .collect();
            println!("{}", Value::Array(list));
        }
        OutputFormat::Csv => {
            println!("time,device,seq,name,value,unit");
            for r in &rows {
                println!(
                    "{},{},{},{},{},{}",
                    format_time(r.time),
                    csv_field(&r.device),
                    r.seq.map_or(String::new(), |s| s.to_string()),
                    csv_field(&r.name),
                    csv_field(&value_text(&r.value)),
                    csv_field(r.unit.as_deref().unwrap_or(""))
                );
            }
        }
        OutputFormat::Table => {
            let cells: Vec<[String; 5]> = rows
                .iter()
                .map(|r| {
                    [
                        format_time(r.time),
                        r.device.clone(),
                        r.seq.map_or("-".into(), |s| s.to_string()),
                        r.name.clone(),
                        format!(
                            "{} {}",
                            value_text(&r.value),
                            r.unit.as_deref().unwrap_or("")
                        )
                        .trim_end()
                        .to_string(),
                    ]
                })
                .collect();
            let head = ["TIME", "DEVICE", "SEQ", "NAME", "VALUE"];
            let mut w = head.map(str::len);
            for c in &cells {
                for (i, s) in c.iter().enumerate() {
                    w[i] = w[i].max(s.chars().count());
                }
            }
            let line = |c: [&str; 5]| {
                let mut s = String::new();
                for (i, x) in c.iter().enumerate() {
                    s.push_str(&format!("{x:<width$}  ", width = w[i]));
                }
                s.trim_end().to_string()
            };
            println!("{}", line(head));
            for c in &cells {
                println!("{}", line([&c[0], &c[1], &c[2], &c[3], &c[4]]));
            }
            println!(
                "{} reading{}",
                rows.len(),
                if rows.len() == 1 { "" } else { "s" }
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(format_time(0.0), "1970-01-01T00:00:00Z");
        assert_eq!(format_time(1_764_288_000.5), "2025-11-28T00:00:00.500Z");
        assert_eq!(parse_since("2025-11-28", 0.0).unwrap(), 1_764_288_000.0);
        assert_eq!(
            parse_since("2025-11-28T00:01:00Z", 0.0).unwrap(),
            1_764_288_060.0
        );
        assert_eq!(parse_since("10m", 1000.0).unwrap(), 400.0);
        assert_eq!(parse_since("1764288000", 0.0).unwrap(), 1_764_288_000.0);
        assert!(parse_since("yesterday", 0.0).is_err());
    }
}

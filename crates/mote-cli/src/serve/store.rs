//! The SQLite store: WAL mode, `synchronous=FULL`, each pack committed in one transaction
//! before it is acknowledged.

use super::senml::{Pack, SenmlValue};
use rusqlite::{params, Connection};
use std::path::Path;

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS packs (
    device   TEXT    NOT NULL,
    seq      INTEGER NOT NULL,
    received REAL    NOT NULL,
    PRIMARY KEY (device, seq)
);
CREATE TABLE IF NOT EXISTS readings (
    id       INTEGER PRIMARY KEY,
    device   TEXT    NOT NULL,
    seq      INTEGER,
    name     TEXT    NOT NULL,
    time     REAL    NOT NULL,
    unit     TEXT,
    v        REAL,
    vs       TEXT,
    vb       INTEGER,
    vd       TEXT,
    received REAL    NOT NULL
);
CREATE INDEX IF NOT EXISTS readings_device ON readings (device, time);
CREATE INDEX IF NOT EXISTS readings_time ON readings (time);
";

/// What storing a pack did.
#[derive(Debug, PartialEq, Eq)]
pub enum Stored {
    /// Committed: this many readings.
    New(usize),
    /// The device's `seq` was stored before: nothing written.
    Duplicate,
}

pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens (creating) the database.
    pub fn open(path: &Path) -> Result<Store, String> {
        let conn = Connection::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(|e| format!("{}: WAL mode: {e}", path.display()))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(format!("{}: WAL mode refused ({mode})", path.display()));
        }
        conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000;")
            .and_then(|_| conn.execute_batch(SCHEMA))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Store { conn })
    }

    /// Stores `pack` for `device` in one transaction, committed (to disk, with
    /// `synchronous=FULL`) before this returns.
    pub fn store(&mut self, device: &str, pack: &Pack, received: f64) -> rusqlite::Result<Stored> {
        let tx = self.conn.transaction()?;
        if let Some(seq) = pack.seq {
            let n = tx.execute(
                "INSERT OR IGNORE INTO packs (device, seq, received) VALUES (?1, ?2, ?3)",
                params![device, seq as i64, received],
            )?;
            if n == 0 {
                return Ok(Stored::Duplicate);
            }
        }
        let mut new = 0;
        {
            let mut ins = tx.prepare_cached(
                "INSERT INTO readings (device, seq, name, time, unit, v, vs, vb, vd, received)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?;
            for r in &pack.readings {
                let (mut v, mut vs, mut vb, mut vd) = (None, None, None, None);
                match &r.value {
                    SenmlValue::Number(x) => v = Some(*x),
                    SenmlValue::String(s) => vs = Some(s.as_str()),
                    SenmlValue::Bool(b) => vb = Some(*b),
                    SenmlValue::Data(d) => vd = Some(d.as_str()),
                }
                new += ins.execute(params![
                    device,
                    pack.seq.map(|s| s as i64),
                    r.name,
                    r.time,
                    r.unit,
                    v,
                    vs,
                    vb,
                    vd,
                    received
                ])?;
            }
        }
        tx.commit()?;
        Ok(Stored::New(new))
    }
}

#[cfg(test)]
mod tests {
    use super::super::senml::parse;
    use super::*;

    #[test]
    fn dedupes_by_seq_only() {
        let dir = std::env::temp_dir().join(format!("mote-store-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("r.sqlite");
        let _ = std::fs::remove_file(&db);
        let mut s = Store::open(&db).unwrap();
        let now = 1_764_288_000.0;
        let a = parse(
            r#"[{"n":"urn:dev:mote:a:x","v":1,"t":1764288000,"seq":1}]"#,
            "a",
            now,
        )
        .unwrap();
        assert_eq!(s.store("a", &a, now).unwrap(), Stored::New(1));
        assert_eq!(s.store("a", &a, now).unwrap(), Stored::Duplicate);
        // Another device's seq 1 is another pack.
        let b = parse(
            r#"[{"n":"urn:dev:mote:b:x","v":1,"t":1764288000,"seq":1}]"#,
            "b",
            now,
        )
        .unwrap();
        assert_eq!(s.store("b", &b, now).unwrap(), Stored::New(1));
        // Without seq nothing identifies a resend: each pack is stored.
        let c = parse(
            r#"[{"n":"urn:dev:mote:a:x","v":2,"t":1764288001}]"#,
            "a",
            now,
        )
        .unwrap();
        assert_eq!(s.store("a", &c, now).unwrap(), Stored::New(1));
        assert_eq!(s.store("a", &c, now).unwrap(), Stored::New(1));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

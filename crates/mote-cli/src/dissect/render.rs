//! Printing a dissection: an indented tree with offsets and lengths, or the same as JSON.

use super::model::Report;
use super::tree::Node;
use std::fmt::Write;

/// The text form: per flow, per record a summary line, the field tree (offset and length in
/// the first two columns, in hex and decimal), then the record's diagnostics.
pub fn text(report: &Report, source: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{source}: {}, {} flow{}, {} record{}, {} diagnostic{}",
        report.input_format,
        report.flows.len(),
        plural(report.flows.len()),
        report.record_count(),
        plural(report.record_count()),
        report.diagnostic_count(),
        plural(report.diagnostic_count()),
    );
    for d in &report.diagnostics {
        let _ = writeln!(out, "! {d}");
    }
    for f in &report.flows {
        let _ = write!(out, "\nflow {} ({})", f.index, f.transport);
        if let (Some(c), Some(s)) = (&f.client, &f.server) {
            let _ = write!(out, " client {c} -> server {s}");
        }
        let n = &f.negotiated;
        let facts: Vec<String> = [
            n.version.clone(),
            n.cipher_suite.clone(),
            n.group.clone(),
            n.server_name.as_ref().map(|s| format!("server_name {s:?}")),
            n.client_cid.as_ref().map(|c| format!("client cid {c}")),
            n.server_cid.as_ref().map(|c| format!("server cid {c}")),
            n.hello_retry.then(|| "after HelloRetryRequest".to_string()),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !facts.is_empty() {
            let _ = write!(out, "; negotiated {}", facts.join(", "));
        }
        out.push('\n');
        for note in &f.notes {
            let _ = writeln!(out, "  note: {note}");
        }
        let _ = writeln!(out, "  offset  len");
        for r in &f.records {
            let frame = if r.frame > 0 {
                format!(" frame {}", r.frame)
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "{} {}{}: {}",
                r.tree.label(),
                r.direction,
                frame,
                r.summary
            );
            node(&mut out, &r.tree, 0, true);
            for d in &r.diagnostics {
                let _ = writeln!(out, "  ! {d}");
                let _ = writeln!(out, "    (a peer answers this with a {} alert)", d.alert);
            }
        }
        for d in &f.diagnostics {
            let _ = writeln!(out, "! {d}");
        }
    }
    out
}

fn node(out: &mut String, n: &Node, depth: usize, is_root: bool) {
    if !is_root {
        let indent = "  ".repeat(depth);
        let value = n
            .display
            .as_deref()
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {:04x} {:>5}  {indent}{}{value}",
            n.offset,
            n.length,
            n.label()
        );
    }
    for note in &n.notes {
        let indent = "  ".repeat(depth + 1);
        let _ = writeln!(out, "  {:4} {:>5}  {indent}({note})", "", "");
    }
    for c in &n.children {
        node(out, c, depth + 1, false);
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The JSON form: the same report, with `diagnostics` counted at the top.
pub fn json(report: &Report) -> String {
    let v = serde_json::json!({
        "input_format": report.input_format,
        "diagnostics": report.diagnostic_count(),
        "input_diagnostics": report.diagnostics,
        "flows": report.flows,
    });
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

//! What a dissection produces: per flow, the records in order, each a tree of fields with
//! the diagnostics that concern it.

use super::tree::{Diagnostic, Node};
use serde::Serialize;

/// One record (or, for input that is not records, one top-level item).
#[derive(Debug, Clone, Serialize)]
pub struct RecordView {
    /// `client->server`, `server->client`, or `input` for a hex dump or raw file.
    pub direction: &'static str,
    /// The capture frame whose bytes completed this record (0 outside captures).
    pub frame: u64,
    /// One line for a person: content type, version, length, what it holds.
    pub summary: String,
    pub tree: Node,
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FlowView {
    pub index: usize,
    pub transport: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// What the flow negotiated, as far as the dissector could follow it.
    pub negotiated: Negotiated,
    pub records: Vec<RecordView>,
    /// Remarks about the flow: gaps in a TCP stream, bytes that are not TLS.
    pub notes: Vec<String>,
    /// Problems not tied to one record, such as a stream that ends mid-record.
    pub diagnostics: Vec<Diagnostic>,
}

/// Facts learned from the handshake that decide how later records decode.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Negotiated {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cipher_suite: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    /// The connection ID the client asked to receive (RFC 9146), hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_cid: Option<String>,
    /// The connection ID the server asked to receive, hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_cid: Option<String>,
    pub hello_retry: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub input_format: &'static str,
    pub flows: Vec<FlowView>,
    /// Problems with the input as a whole, such as a capture holding no TCP or UDP payload.
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    /// How many diagnostics the report holds: the exit status is 1 when any.
    pub fn diagnostic_count(&self) -> usize {
        self.diagnostics.len()
            + self
                .flows
                .iter()
                .map(|f| {
                    f.diagnostics.len()
                        + f.records.iter().map(|r| r.diagnostics.len()).sum::<usize>()
                })
                .sum::<usize>()
    }

    pub fn record_count(&self) -> usize {
        self.flows.iter().map(|f| f.records.len()).sum()
    }
}

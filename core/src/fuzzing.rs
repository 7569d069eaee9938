//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`; not
//! part of the API, hidden from the docs). They expose parsers that are
//! private to the crate, unchanged: nothing here adds behaviour.

use crate::message::header::{self, Header, ParseError};

/// What [`parse_header`] found at the start of a buffer.
#[derive(Debug)]
pub enum HeaderParse {
    /// More bytes are needed: at least this many from the start.
    Incomplete(usize),
    /// The bytes can never form a valid header.
    Invalid(crate::Error),
    /// A header, with its serialized body (the bytes the header
    /// authentication covers) and its total length including the tag.
    Parsed {
        /// The parsed header.
        header: Header,
        /// The header's bytes before the authentication IV and tag.
        body_bytes: Vec<u8>,
        /// Bytes used from the start of the buffer.
        total_len: usize,
    },
}

/// The message-header parser the decryptor uses, with its EDK limit.
pub fn parse_header(buf: &[u8], max_edks: Option<usize>) -> HeaderParse {
    match header::parse(buf, max_edks) {
        Ok(p) => HeaderParse::Parsed {
            body_bytes: p.body_bytes().to_vec(),
            header: p.header,
            total_len: p.total_len,
        },
        Err(ParseError::Incomplete(n)) => HeaderParse::Incomplete(n),
        Err(ParseError::Invalid(e)) => HeaderParse::Invalid(e),
    }
}

/// The DER helpers of `crypto/der.rs`.
pub mod der {
    pub use crate::crypto::der::*;
}

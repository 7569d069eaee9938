//! `std::io` adapters over the streaming encryptor and decryptor.

use std::io::{self, Read, Write};
use std::sync::Arc;

use crate::cmm::MaterialsManager;
use crate::error::Result;

use super::decrypt::{DecryptOptions, Decryptor, InputMemory};
use super::encrypt::{EncryptOptions, Encryptor};
use super::EncryptionContext;

/// A `Write` that encrypts into an inner writer. Call
/// [`finish`](Self::finish) to write the final frame and footer; dropping
/// it unfinished leaves an incomplete message that will not decrypt.
#[derive(Debug)]
pub struct EncryptingWriter<W: Write> {
    inner: W,
    enc: Encryptor,
    buf: Vec<u8>,
}

impl<W: Write> EncryptingWriter<W> {
    /// Starts a message on `inner`.
    pub fn new(inner: W, cmm: &dyn MaterialsManager, options: &EncryptOptions) -> Result<Self> {
        Ok(EncryptingWriter {
            inner,
            enc: Encryptor::new(cmm, options)?,
            buf: Vec::new(),
        })
    }

    /// Completes the message and returns the inner writer (flushed).
    pub fn finish(mut self) -> io::Result<W> {
        self.buf.clear();
        self.enc.finish(&mut self.buf)?;
        self.inner.write_all(&self.buf)?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for EncryptingWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.clear();
        self.enc.update(data, &mut self.buf)?;
        self.inner.write_all(&self.buf)?;
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A `Read` that decrypts from an inner reader. It returns plaintext only
/// after authenticating it, and reports the end of the data only after the
/// whole message (and its signature) verified: a truncated or tampered
/// message ends in an `InvalidData` error, never in a short clean read.
#[derive(Debug)]
pub struct DecryptingReader<R: Read> {
    inner: R,
    dec: Decryptor,
    out: Vec<u8>,
    pos: usize,
    chunk: Vec<u8>,
    eof: bool,
    // The first failure of the message (tampered, truncated, wrong key):
    // every later read returns it again, so that a caller that retries
    // never sees a clean end of file after it.
    failed: Option<crate::Error>,
}

/// How much ciphertext the reader pulls from its source at a time. Not
/// more when several threads may open frames: in `make bench-parallel` a
/// stream opened a batch of 4 MiB at a time on two threads ran at 0.83x to
/// 1.00x the speed of 64 KiB pieces on one (whose buffers stay in the
/// core's cache).
const READ_CHUNK: usize = 64 * 1024;

impl<R: Read> DecryptingReader<R> {
    /// Decrypts the message read from `inner`.
    pub fn new(inner: R, cmm: Arc<dyn MaterialsManager>, options: DecryptOptions) -> Self {
        DecryptingReader {
            inner,
            // Its slices are in `chunk`, its own buffer, which only
            // `inner.read` writes, never during `update`.
            dec: Decryptor::with_memory(cmm, options, InputMemory::Unchanging),
            out: Vec::new(),
            pos: 0,
            chunk: vec![0; READ_CHUNK],
            eof: false,
            failed: None,
        }
    }

    /// The message's encryption context, once its header is authenticated.
    pub fn encryption_context(&self) -> Option<&EncryptionContext> {
        self.dec.encryption_context()
    }
}

impl<R: Read> Read for DecryptingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(e) = &self.failed {
            return Err(e.clone().into());
        }
        loop {
            if self.pos < self.out.len() {
                let n = buf.len().min(self.out.len() - self.pos);
                buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
                self.pos += n;
                return Ok(n);
            }
            crate::secret::wipe(&mut self.out);
            self.out.clear();
            self.pos = 0;
            if self.eof {
                return Ok(0);
            }
            let n = loop {
                match self.inner.read(&mut self.chunk) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    r => break r?,
                }
            };
            let step = if n == 0 {
                self.eof = true;
                self.dec.finish(&mut self.out)
            } else {
                self.dec.update(&self.chunk[..n], &mut self.out)
            };
            if let Err(e) = step {
                // Nothing of a failed step reaches the caller.
                crate::secret::wipe(&mut self.out);
                self.out.clear();
                self.failed = Some(e.clone());
                return Err(e.into());
            }
        }
    }
}

impl<R: Read> Drop for DecryptingReader<R> {
    fn drop(&mut self) {
        // Its whole allocation: what a read handed out was only cleared.
        crate::secret::wipe_vec(&mut self.out);
    }
}

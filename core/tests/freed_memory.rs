//! No plaintext in freed memory: a global allocator that, whenever a block
//! is freed, looks for a marker the test's plaintext is made of. The
//! encryptor and decryptor are driven in many chunkings; every buffer of
//! theirs that held plaintext must be wiped before it is freed (issue 17
//! #6: buffers regrown without wiping the old allocation, output truncated
//! without a wipe).
//!
//! One test per binary: the allocator is global to the process.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Read;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use sealbox::cmm::{DefaultMaterialsManager, MaterialsManager};
use sealbox::keyring::RawAesKeyring;
use sealbox::message::{
    encrypt, DecryptOptions, DecryptingReader, Decryptor, EncryptOptions, Encryptor,
};

const MARKER: &[u8; 16] = b"#plaintext-mark#";

struct Watching;

static ARMED: AtomicBool = AtomicBool::new(false);
static FOUND: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Watching {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ARMED.load(Ordering::Relaxed) && layout.size() >= MARKER.len() {
            // SAFETY: the block is still ours and `layout.size()` bytes long.
            let block = unsafe { std::slice::from_raw_parts(ptr, layout.size()) };
            if block.windows(MARKER.len()).any(|w| w == MARKER) {
                FOUND.fetch_add(1, Ordering::Relaxed);
            }
        }
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Watching = Watching;

fn wipe(mut v: Vec<u8>) {
    v.iter_mut().for_each(|b| *b = 0);
    std::hint::black_box(&v);
}

#[test]
fn no_plaintext_is_left_in_freed_memory() {
    let kr = Arc::new(RawAesKeyring::new("ns", "k", &[1u8; 32]).unwrap());
    let cmm: Arc<dyn MaterialsManager> = Arc::new(DefaultMaterialsManager::new(kr));
    let opts = EncryptOptions {
        frame_length: 1000,
        ..EncryptOptions::default()
    };
    for &size in &[0usize, 15, 999, 1000, 1001, 20_000, 70_001] {
        let plaintext: Vec<u8> = MARKER.iter().copied().cycle().take(size).collect();
        for &chunk in &[1usize, 7, 999, 4096, 100_000] {
            ARMED.store(true, Ordering::Relaxed);
            // Streaming encryption in chunks.
            let mut e = Encryptor::new(cmm.as_ref(), &opts).unwrap();
            let mut message = Vec::new();
            for c in plaintext.chunks(chunk.max(1)) {
                e.update(c, &mut message).unwrap();
            }
            e.finish(&mut message).unwrap();
            drop(e);
            assert_eq!(
                FOUND.load(Ordering::Relaxed),
                0,
                "streaming encrypt, size {size}, chunk {chunk}"
            );
            // Streaming decryption in chunks, into one output buffer that
            // grows as it goes.
            let mut d = Decryptor::new(cmm.clone(), DecryptOptions::default());
            let mut out = Vec::new();
            for c in message.chunks(chunk.max(1)) {
                d.update(c, &mut out).unwrap();
            }
            d.finish(&mut out).unwrap();
            drop(d);
            assert_eq!(out, plaintext);
            wipe(out);
            assert_eq!(
                FOUND.load(Ordering::Relaxed),
                0,
                "streaming decrypt, size {size}, chunk {chunk}"
            );
            // The io::Read adapter, read through a small fixed buffer.
            let mut r = DecryptingReader::new(&message[..], cmm.clone(), DecryptOptions::default());
            let mut buf = [0u8; 333];
            let mut n_total = 0;
            loop {
                let n = r.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                n_total += n;
            }
            buf.iter_mut().for_each(|b| *b = 0);
            std::hint::black_box(&buf);
            drop(r);
            assert_eq!(n_total, size);
            ARMED.store(false, Ordering::Relaxed);
            assert_eq!(
                FOUND.load(Ordering::Relaxed),
                0,
                "plaintext found in freed memory (size {size}, chunk {chunk})"
            );
        }
        // One-shot encryption of the whole plaintext.
        ARMED.store(true, Ordering::Relaxed);
        let m = encrypt(&plaintext, cmm.as_ref(), &opts).unwrap();
        ARMED.store(false, Ordering::Relaxed);
        assert_eq!(
            FOUND.load(Ordering::Relaxed),
            0,
            "one-shot encrypt, size {size}"
        );
        drop(m);
        wipe(plaintext);
    }
}

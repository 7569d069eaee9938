//! The calls of AWS-LC that aws-lc-rs does not expose: RSA signatures on
//! an `RSA` object of AWS-LC's own (parsed from the same DER as the
//! aws-lc-rs keys); AES-GCM keys that seal and open from one buffer into
//! another; HMAC keys set up once and used for several MACs whose outputs
//! land in the caller's (wiped) buffers (any digest through `HMAC_CTX`;
//! SHA-512, HKDF's for every committing message, on its own states);
//! SHAKE256; ML-KEM and ML-DSA keys from seeds. The `unsafe` code of the
//! aws-lc provider, with `aead.rs`'s calls into it.

use std::os::raw::{c_int, c_uint};
use std::ptr::NonNull;

#[cfg(feature = "fips")]
use aws_lc_fips_sys as sys;
#[cfg(not(feature = "fips"))]
use aws_lc_sys as sys;

use crate::crypto::HashAlg;
#[cfg(not(feature = "fips"))]
use crate::error::{Error, Result};

/// An owned AWS-LC `RSA` (public, or private with its CRT values).
pub(super) struct Rsa(NonNull<sys::RSA>);

// SAFETY: after construction the only functions called on the `RSA` are
// RSA_size, RSA_sign, RSA_verify, RSA_sign_pss_mgf1 and
// RSA_verify_pss_mgf1, which <openssl/rsa.h> documents as non-mutating
// for thread-safety purposes ("may be used concurrently"); RSA_free
// runs in `Drop`, with exclusive access.
unsafe impl Send for Rsa {}
// SAFETY: as for `Send` above.
unsafe impl Sync for Rsa {}

impl Drop for Rsa {
    fn drop(&mut self) {
        // SAFETY: `self.0` is the one reference returned by an
        // RSA_*_from_bytes call and is not used after this. AWS-LC wipes
        // the private values as it frees them.
        unsafe { sys::RSA_free(self.0.as_ptr()) }
    }
}

fn md(h: HashAlg) -> *const sys::EVP_MD {
    // SAFETY: these return pointers to static, immutable EVP_MD tables.
    unsafe {
        match h {
            HashAlg::Sha1 => sys::EVP_sha1(),
            HashAlg::Sha224 => sys::EVP_sha224(),
            HashAlg::Sha256 => sys::EVP_sha256(),
            HashAlg::Sha384 => sys::EVP_sha384(),
            HashAlg::Sha512 => sys::EVP_sha512(),
        }
    }
}

fn nid(h: HashAlg) -> c_int {
    (match h {
        HashAlg::Sha1 => sys::NID_sha1,
        HashAlg::Sha224 => sys::NID_sha224,
        HashAlg::Sha256 => sys::NID_sha256,
        HashAlg::Sha384 => sys::NID_sha384,
        HashAlg::Sha512 => sys::NID_sha512,
    }) as c_int
}

/// Failures leave entries on AWS-LC's thread-local error queue; sealbox
/// reports its own errors, so they are dropped.
fn clear_errors() {
    // SAFETY: no arguments; touches only this thread's error queue.
    unsafe { sys::ERR_clear_error() }
}

impl Rsa {
    /// Parses a DER RSAPrivateKey (PKCS#1); AWS-LC runs RSA_check_key
    /// and refuses trailing bytes.
    pub(super) fn private_from_pkcs1(der: &[u8]) -> Option<Self> {
        // SAFETY: `der` is valid for reads of `der.len()` bytes for the
        // duration of the call, which does not keep the pointer. The
        // result is a new owned RSA or NULL.
        let p = unsafe { sys::RSA_private_key_from_bytes(der.as_ptr(), der.len()) };
        let r = NonNull::new(p).map(Rsa);
        if r.is_none() {
            clear_errors();
        }
        r
    }

    /// Parses a DER RSAPublicKey (PKCS#1); strict DER, no trailing
    /// bytes, modulus and exponent checked.
    pub(super) fn public_from_pkcs1(der: &[u8]) -> Option<Self> {
        // SAFETY: as in `private_from_pkcs1`.
        let p = unsafe { sys::RSA_public_key_from_bytes(der.as_ptr(), der.len()) };
        let r = NonNull::new(p).map(Rsa);
        if r.is_none() {
            clear_errors();
        }
        r
    }

    /// Modulus length in bytes.
    fn size(&self) -> usize {
        // SAFETY: `self.0` is a valid RSA for the life of `self`.
        unsafe { sys::RSA_size(self.0.as_ptr()) as usize }
    }

    /// Modulus size in bits, as a whole number of bytes (as the
    /// rustcrypto provider counts).
    pub(super) fn bits(&self) -> usize {
        self.size() * 8
    }

    /// RSASSA-PKCS1-v1_5 over a digest of `h`'s length.
    pub(super) fn sign_pkcs1(&self, h: HashAlg, digest: &[u8]) -> Option<Vec<u8>> {
        let mut out = vec![0u8; self.size()];
        let mut out_len: c_uint = 0;
        // SAFETY: `out` has RSA_size bytes, the most RSA_sign writes;
        // `digest` is valid for reads of its length; `self.0` is a valid
        // private RSA. Nothing keeps the pointers after the call.
        let ok = unsafe {
            sys::RSA_sign(
                nid(h),
                digest.as_ptr(),
                digest.len(),
                out.as_mut_ptr(),
                &mut out_len,
                self.0.as_ptr(),
            )
        };
        self.finish_sig(ok, out, out_len as usize)
    }

    /// RSASSA-PSS with MGF1 of the same hash and a salt as long as the
    /// hash, over a digest of `h`'s length.
    pub(super) fn sign_pss(&self, h: HashAlg, digest: &[u8]) -> Option<Vec<u8>> {
        let mut out = vec![0u8; self.size()];
        let mut out_len: usize = 0;
        // SAFETY: `out` is valid for writes of `max_out` = its length;
        // `digest` for reads of its length; the EVP_MDs are static;
        // `self.0` is a valid private RSA.
        let ok = unsafe {
            sys::RSA_sign_pss_mgf1(
                self.0.as_ptr(),
                &mut out_len,
                out.as_mut_ptr(),
                out.len(),
                digest.as_ptr(),
                digest.len(),
                md(h),
                md(h),
                h.output_len() as c_int,
            )
        };
        self.finish_sig(ok, out, out_len)
    }

    fn finish_sig(&self, ok: c_int, mut out: Vec<u8>, len: usize) -> Option<Vec<u8>> {
        if ok != 1 || len != out.len() {
            clear_errors();
            return None;
        }
        out.truncate(len);
        Some(out)
    }

    /// Verifies RSASSA-PKCS1-v1_5 (the one DER DigestInfo encoding).
    pub(super) fn verify_pkcs1(&self, h: HashAlg, digest: &[u8], sig: &[u8]) -> bool {
        // SAFETY: `digest` and `sig` are valid for reads of their
        // lengths; `self.0` is a valid RSA; nothing is kept.
        let ok = unsafe {
            sys::RSA_verify(
                nid(h),
                digest.as_ptr(),
                digest.len(),
                sig.as_ptr(),
                sig.len(),
                self.0.as_ptr(),
            )
        };
        if ok != 1 {
            clear_errors();
        }
        ok == 1
    }

    /// Verifies RSASSA-PSS, MGF1 of the same hash, salt length exactly
    /// the hash length.
    pub(super) fn verify_pss(&self, h: HashAlg, digest: &[u8], sig: &[u8]) -> bool {
        // SAFETY: as in `verify_pkcs1`; the EVP_MDs are static.
        let ok = unsafe {
            sys::RSA_verify_pss_mgf1(
                self.0.as_ptr(),
                digest.as_ptr(),
                digest.len(),
                md(h),
                md(h),
                h.output_len() as c_int,
                sig.as_ptr(),
                sig.len(),
            )
        };
        if ok != 1 {
            clear_errors();
        }
        ok == 1
    }
}

// -------------------------------------------------------------- AES-GCM --

/// An AES-GCM key set up once: AWS-LC's `EVP_AEAD_CTX` (the AES key
/// schedule and the GHASH key, in AWS-LC memory, which `OPENSSL_free`
/// cleanses when the context is freed). Its seal and open read from one
/// buffer and write to another, so that a frame's bytes are not copied
/// before they are encrypted (aws-lc-rs seals only in place).
pub(super) struct AeadKey(NonNull<sys::EVP_AEAD_CTX>);

// SAFETY: after construction the context is only passed as `const` to
// EVP_AEAD_CTX_seal_scatter and EVP_AEAD_CTX_open_gather, which
// <openssl/aead.h> allows on one context from several threads at once (as
// aws-lc-rs's `LessSafeKey`, which is `Sync`, relies on); EVP_AEAD_CTX_free
// runs in `Drop`, with exclusive access.
unsafe impl Send for AeadKey {}
// SAFETY: as for `Send` above.
unsafe impl Sync for AeadKey {}

impl Drop for AeadKey {
    fn drop(&mut self) {
        // SAFETY: the one pointer EVP_AEAD_CTX_new returned, not used
        // after this.
        unsafe { sys::EVP_AEAD_CTX_free(self.0.as_ptr()) }
    }
}

/// The GCM tag length sealbox uses.
const GCM_TAG: usize = crate::crypto::GCM_TAG_LEN;

impl AeadKey {
    /// AES-GCM with a key of 16, 24 or 32 bytes and 16-byte tags.
    pub(super) fn aes_gcm(key: &[u8]) -> Option<Self> {
        // SAFETY: these return pointers to static, immutable EVP_AEAD
        // tables.
        let aead = unsafe {
            match key.len() {
                16 => sys::EVP_aead_aes_128_gcm(),
                24 => sys::EVP_aead_aes_192_gcm(),
                32 => sys::EVP_aead_aes_256_gcm(),
                _ => return None,
            }
        };
        // SAFETY: a static EVP_AEAD and `key.len()` readable bytes of key;
        // EVP_AEAD_CTX_new copies what it needs.
        let ctx = unsafe { sys::EVP_AEAD_CTX_new(aead, key.as_ptr(), key.len(), GCM_TAG) };
        let ctx = NonNull::new(ctx);
        if ctx.is_none() {
            clear_errors();
        }
        ctx.map(AeadKey)
    }

    /// Encrypts `len` bytes at `input` to `out` (the same pointer, or
    /// memory that does not overlap it) and writes the tag.
    ///
    /// # Safety
    /// `input` must be readable and `out` writable for `len` bytes, and
    /// the two must be equal or not overlap.
    pub(super) unsafe fn seal(
        &self,
        iv: &[u8; 12],
        aad: &[u8],
        input: *const u8,
        out: *mut u8,
        len: usize,
        tag: &mut [u8; GCM_TAG],
    ) -> bool {
        let mut tag_len = 0usize;
        // SAFETY: the context is set up; the caller vouches for `input`
        // and `out`; the IV, the AAD and the tag are slices of their
        // lengths, the tag room exactly the tag length; no extra input.
        let ok = unsafe {
            sys::EVP_AEAD_CTX_seal_scatter(
                self.0.as_ptr(),
                out,
                tag.as_mut_ptr(),
                &mut tag_len,
                GCM_TAG,
                iv.as_ptr(),
                iv.len(),
                input,
                len,
                std::ptr::null(),
                0,
                aad.as_ptr(),
                aad.len(),
            )
        } == 1
            && tag_len == GCM_TAG;
        if !ok {
            clear_errors();
        }
        ok
    }

    /// Authenticates `len` bytes of ciphertext at `input` against `tag`
    /// and decrypts them to `out` (the same pointer, or memory that does
    /// not overlap it). On `false` `out` may hold unauthenticated
    /// plaintext: the caller wipes it.
    ///
    /// # Safety
    /// As for [`seal`](Self::seal).
    pub(super) unsafe fn open(
        &self,
        iv: &[u8; 12],
        aad: &[u8],
        input: *const u8,
        out: *mut u8,
        len: usize,
        tag: &[u8; GCM_TAG],
    ) -> bool {
        // SAFETY: as in `seal`.
        let ok = unsafe {
            sys::EVP_AEAD_CTX_open_gather(
                self.0.as_ptr(),
                out,
                iv.as_ptr(),
                iv.len(),
                input,
                len,
                tag.as_ptr(),
                GCM_TAG,
                aad.as_ptr(),
                aad.len(),
            )
        } == 1;
        if !ok {
            clear_errors();
        }
        ok
    }
}

// ----------------------------------------------------------------- HMAC --

/// An HMAC key set up once: AWS-LC's `HMAC_CTX` after `HMAC_Init_ex` (the
/// inner and outer pads hashed, one compression each). Every [`mac`]
/// starts from a copy of it. Dropping it cleanses the context.
///
/// [`mac`]: HmacKey::mac
#[cfg(not(feature = "fips"))]
pub(super) struct HmacKey(sys::HMAC_CTX);

#[cfg(not(feature = "fips"))]
impl Drop for HmacKey {
    fn drop(&mut self) {
        // SAFETY: the context was initialised by HMAC_CTX_init (in
        // `HmacKey::empty`); HMAC_CTX_cleanup frees nothing it does not
        // own and cleanses the whole structure.
        unsafe { sys::HMAC_CTX_cleanup(&mut self.0) }
    }
}

#[cfg(not(feature = "fips"))]
impl HmacKey {
    /// A context in its initial, empty state (holding nothing secret, it
    /// may be moved).
    fn empty() -> Self {
        let mut ctx = std::mem::MaybeUninit::<sys::HMAC_CTX>::uninit();
        // SAFETY: HMAC_CTX_init initialises every field of the structure
        // it is given (it may then be moved: AWS-LC's HMAC_CTX holds its
        // digest states inline, with no pointer into itself).
        HmacKey(unsafe {
            sys::HMAC_CTX_init(ctx.as_mut_ptr());
            ctx.assume_init()
        })
    }

    /// The key `key` for HMAC over `h`, set up where it stays: the keyed
    /// context (its pad states are as secret as the key) is never moved,
    /// so no copy of it is left behind; dropping it cleanses it.
    pub(super) fn new(h: HashAlg, key: &[u8]) -> Result<Box<Self>> {
        let mut k = Box::new(Self::empty());
        // SAFETY: an initialised context, a key of `key.len()` readable
        // bytes, a static EVP_MD and no engine.
        let ok = unsafe {
            sys::HMAC_Init_ex(
                &mut k.0,
                key.as_ptr().cast(),
                key.len(),
                md(h),
                std::ptr::null_mut(),
            )
        };
        if ok != 1 {
            clear_errors();
            return Err(Error::InvalidArgument("HMAC key set-up failed".into()));
        }
        Ok(k)
    }

    /// The MAC of the concatenation of `parts`, written to `out`, which
    /// must be exactly the hash's output length.
    pub(super) fn mac(&self, parts: &[&[u8]], out: &mut [u8]) -> Result<()> {
        let mut c = Self::empty();
        let mut len: c_uint = 0;
        // SAFETY: both contexts are initialised; the source is the set-up
        // key (HMAC_CTX_copy_ex reads it only); every part is a readable
        // slice of its length; HMAC_Final writes at most EVP_MAX_MD_SIZE
        // bytes, and `out` is checked to be the digest's length first.
        let ok = unsafe {
            out.len() == sys::EVP_MD_size(md_of(&self.0))
                && sys::HMAC_CTX_copy_ex(&mut c.0, &self.0) == 1
                && parts
                    .iter()
                    .all(|p| sys::HMAC_Update(&mut c.0, p.as_ptr(), p.len()) == 1)
                && sys::HMAC_Final(&mut c.0, out.as_mut_ptr(), &mut len) == 1
        };
        if !ok || len as usize != out.len() {
            clear_errors();
            return Err(Error::InvalidArgument("HMAC failed".into()));
        }
        Ok(())
    }
}

/// A SHA-512 state (AWS-LC's `SHA512_CTX`), cleansed when dropped: the
/// states of a keyed HMAC are as secret as its key.
#[cfg(not(feature = "fips"))]
struct Sha512State(sys::SHA512_CTX);

#[cfg(not(feature = "fips"))]
impl Drop for Sha512State {
    fn drop(&mut self) {
        // SAFETY: the whole structure, owned, written with zeros.
        unsafe {
            sys::OPENSSL_cleanse(
                (&mut self.0 as *mut sys::SHA512_CTX).cast(),
                std::mem::size_of::<sys::SHA512_CTX>(),
            )
        }
    }
}

/// HMAC-SHA-512 on AWS-LC's SHA-512 directly: the inner and outer pad
/// states (one compression each) are made once per key, and every MAC
/// starts from copies of them, two 216-byte structures. What `HmacKey`
/// does for any digest through `HMAC_CTX` (about 700 bytes set up,
/// copied and cleansed per MAC, and a generic digest dispatch), for the
/// one digest that the committing suites derive every message's keys
/// with: their HKDF is the largest fixed cost of a small message.
#[cfg(not(feature = "fips"))]
pub(super) struct HmacSha512 {
    inner: Sha512State,
    outer: Sha512State,
}

#[cfg(not(feature = "fips"))]
impl HmacSha512 {
    const BLOCK: usize = 128;
    pub(super) const OUT: usize = 64;

    /// An HMAC-SHA-512 with key `key` (RFC 2104: a key longer than the
    /// block is hashed first, a shorter one padded with zeros), set up
    /// where it stays (its states are never moved, so no copy of them is
    /// left behind).
    pub(super) fn new(key: &[u8]) -> Result<Box<Self>> {
        let mut k = zeroize::Zeroizing::new([0u8; Self::BLOCK]);
        if key.len() > Self::BLOCK {
            // SAFETY: `key` is readable for its length; SHA512 writes 64
            // bytes, within the 128 of `k`.
            unsafe { sys::SHA512(key.as_ptr(), key.len(), k.as_mut_ptr()) };
        } else {
            k[..key.len()].copy_from_slice(key);
        }
        // SAFETY: an all-zero SHA512_CTX is plain data (no pointers);
        // SHA512_Init sets every field before any use.
        let zero = || Sha512State(unsafe { std::mem::zeroed() });
        let mut h = Box::new(HmacSha512 {
            inner: zero(),
            outer: zero(),
        });
        let mut pad = zeroize::Zeroizing::new([0u8; Self::BLOCK]);
        let mut ok = true;
        for (st, byte) in [(&mut h.inner, 0x36u8), (&mut h.outer, 0x5c)] {
            for (p, b) in pad.iter_mut().zip(k.iter()) {
                *p = b ^ byte;
            }
            // SAFETY: a state in place, and `pad` readable for its length.
            ok &= unsafe {
                sys::SHA512_Init(&mut st.0) == 1
                    && sys::SHA512_Update(&mut st.0, pad.as_ptr().cast(), pad.len()) == 1
            };
        }
        if !ok {
            clear_errors();
            return Err(Error::InvalidArgument("HMAC key set-up failed".into()));
        }
        Ok(h)
    }

    /// The MAC of the concatenation of `parts`, written to `out` (exactly
    /// 64 bytes).
    pub(super) fn mac(&self, parts: &[&[u8]], out: &mut [u8]) -> Result<()> {
        if out.len() != Self::OUT {
            return Err(Error::InvalidArgument(
                "HMAC-SHA-512 output is 64 bytes".into(),
            ));
        }
        let len = parts.iter().try_fold(0usize, |n, p| n.checked_add(p.len()));
        if let Some(len) = len.filter(|&n| n <= Self::ONE_BLOCK) {
            self.mac_one_block(parts, len, out);
            return Ok(());
        }
        let mut inner_hash = zeroize::Zeroizing::new([0u8; Self::OUT]);
        let mut c = Sha512State(self.inner.0);
        let mut d = Sha512State(self.outer.0);
        // SAFETY: both states were set up by SHA512_Init and Update (copies
        // of them are valid states: the structure has no pointers); every
        // part is readable for its length; SHA512_Final writes 64 bytes,
        // and both outputs are 64 bytes.
        let ok = unsafe {
            parts
                .iter()
                .all(|p| sys::SHA512_Update(&mut c.0, p.as_ptr().cast(), p.len()) == 1)
                && sys::SHA512_Final(inner_hash.as_mut_ptr(), &mut c.0) == 1
                && sys::SHA512_Update(&mut d.0, inner_hash.as_ptr().cast(), Self::OUT) == 1
                && sys::SHA512_Final(out.as_mut_ptr(), &mut d.0) == 1
        };
        if !ok {
            clear_errors();
            return Err(Error::InvalidArgument("HMAC failed".into()));
        }
        Ok(())
    }
}

#[cfg(not(feature = "fips"))]
impl HmacSha512 {
    /// The most bytes of message that fit the final block with SHA-512's
    /// padding (the byte 0x80 and the 16-byte length): what every MAC of
    /// HKDF-SHA-512 with a short info is, and the outer hash always.
    const ONE_BLOCK: usize = Self::BLOCK - 17;

    /// [`mac`](Self::mac) of `len` (at most [`ONE_BLOCK`](Self::ONE_BLOCK))
    /// bytes: the inner and the outer hash are each one compression from
    /// the pad state, of a final block padded here (FIPS 180-4, 5.1.2),
    /// without SHA512_Update's and SHA512_Final's buffering.
    fn mac_one_block(&self, parts: &[&[u8]], len: usize, out: &mut [u8]) {
        debug_assert!(len <= Self::ONE_BLOCK && out.len() == Self::OUT);
        let mut block = zeroize::Zeroizing::new([0u8; Self::BLOCK]);
        let mut at = 0;
        for p in parts {
            block[at..at + p.len()].copy_from_slice(p);
            at += p.len();
        }
        Self::pad(&mut block, len);
        let mut c = Sha512State(self.inner.0);
        // SAFETY: a state set up by `new` (a copy is a valid state: no
        // pointers) and a 128-byte block; SHA512_Transform compresses
        // the block into the state's chaining value `h`.
        unsafe { sys::SHA512_Transform(&mut c.0, block.as_ptr()) };
        block.fill(0);
        Self::put_hash(&c, &mut block[..Self::OUT]);
        Self::pad(&mut block, Self::OUT);
        let mut d = Sha512State(self.outer.0);
        // SAFETY: as above.
        unsafe { sys::SHA512_Transform(&mut d.0, block.as_ptr()) };
        Self::put_hash(&d, out);
    }

    /// The padding of a final block that holds `len` bytes, after one
    /// block (the key's pad) already hashed: 0x80, zeros (the block is
    /// zero from `len` on), then the bit length of the whole input,
    /// 128 + `len` bytes, as a 128-bit big-endian number.
    fn pad(block: &mut [u8; Self::BLOCK], len: usize) {
        block[len] = 0x80;
        let bits = ((Self::BLOCK + len) as u128) * 8;
        block[Self::BLOCK - 16..].copy_from_slice(&bits.to_be_bytes());
    }

    /// A state's chaining value as the digest (big-endian words).
    fn put_hash(st: &Sha512State, out: &mut [u8]) {
        for (chunk, word) in out.chunks_exact_mut(8).zip(st.0.h.iter()) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
    }
}

/// The digest of a set-up HMAC context.
#[cfg(not(feature = "fips"))]
fn md_of(ctx: &sys::HMAC_CTX) -> *const sys::EVP_MD {
    // SAFETY: HMAC_CTX_get_md only reads the context's digest pointer.
    unsafe { sys::HMAC_CTX_get_md(ctx) }
}

// --------------------------------------------------------------- ML-KEM --

/// The raw keys of the ML-KEM-768 key pair of a 64-byte seed d ‖ z
/// (FIPS 203 ML-KEM.KeyGen_internal): the 1184-byte encapsulation key and
/// the 2400-byte decapsulation key (wiped when dropped). aws-lc-rs makes
/// keys only at random: AWS-LC expands the seed as it reads the RFC 9935
/// PKCS#8 form that holds only the seed.
pub(super) fn mlkem768_keypair_from_seed(
    seed: &[u8; 64],
) -> Option<(Vec<u8>, zeroize::Zeroizing<Vec<u8>>)> {
    use crate::crypto::der;
    // PrivateKeyInfo { 0, { id-alg-ml-kem-768 }, OCTET STRING { [0] seed } }.
    const ID_ALG_ML_KEM_768: &[u8] = &[
        0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x04, 0x02,
    ];
    let mut seed_choice = zeroize::Zeroizing::new(Vec::with_capacity(66));
    der::write(&mut seed_choice, 0x80, seed);
    let mut body = zeroize::Zeroizing::new(vec![der::INTEGER, 1, 0]);
    body.extend_from_slice(&der::tlv(der::SEQUENCE, ID_ALG_ML_KEM_768));
    der::write(&mut body, der::OCTET_STRING, &seed_choice);
    let mut pkcs8 = zeroize::Zeroizing::new(Vec::with_capacity(body.len() + 4));
    der::write(&mut pkcs8, der::SEQUENCE, &body);

    let mut public = vec![0u8; 1184];
    let mut private = zeroize::Zeroizing::new(vec![0u8; 2400]);
    // SAFETY: the CBS reads `pkcs8` (alive for the whole block) and the
    // parse does not keep it; `pkey` is NULL or a new key we own, freed
    // once (AWS-LC wipes its secret as it frees it); the raw-key getters
    // write at most `*len` bytes into buffers of that length.
    let ok = unsafe {
        let mut cbs = std::mem::MaybeUninit::<sys::CBS>::uninit();
        sys::CBS_init(cbs.as_mut_ptr(), pkcs8.as_ptr(), pkcs8.len());
        let mut cbs = cbs.assume_init();
        let pkey = sys::EVP_parse_private_key(&mut cbs);
        let (mut pub_len, mut priv_len) = (public.len(), private.len());
        let ok = !pkey.is_null()
            && cbs.len == 0
            && sys::EVP_PKEY_get_raw_public_key(pkey, public.as_mut_ptr(), &mut pub_len) == 1
            && sys::EVP_PKEY_get_raw_private_key(pkey, private.as_mut_ptr(), &mut priv_len) == 1
            && pub_len == public.len()
            && priv_len == private.len();
        if !pkey.is_null() {
            sys::EVP_PKEY_free(pkey);
        }
        ok
    };
    if !ok {
        clear_errors();
        return None;
    }
    Some((public, private))
}

/// A SHAKE256 computation fed in pieces (aws-lc-rs has no SHAKE): an
/// owned `EVP_MD_CTX`, freed (and cleansed) when dropped.
pub(super) struct Shake256(NonNull<sys::EVP_MD_CTX>);

// SAFETY: the context is owned and used only through `&mut self`.
unsafe impl Send for Shake256 {}

impl Drop for Shake256 {
    fn drop(&mut self) {
        // SAFETY: the one context we own, not used after this.
        unsafe { sys::EVP_MD_CTX_free(self.0.as_ptr()) }
    }
}

impl Shake256 {
    pub(super) fn new() -> Option<Self> {
        // SAFETY: a new context (checked) set up with the static SHAKE256
        // method; freed by `Drop` whatever happens next.
        unsafe {
            let ctx = NonNull::new(sys::EVP_MD_CTX_new()).map(Shake256)?;
            if sys::EVP_DigestInit_ex(ctx.0.as_ptr(), sys::EVP_shake256(), std::ptr::null_mut())
                != 1
            {
                clear_errors();
                return None;
            }
            Some(ctx)
        }
    }

    pub(super) fn update(&mut self, data: &[u8]) -> bool {
        // SAFETY: an initialised context; `data` readable for its length.
        let ok =
            unsafe { sys::EVP_DigestUpdate(self.0.as_ptr(), data.as_ptr().cast(), data.len()) };
        if ok != 1 {
            clear_errors();
        }
        ok == 1
    }

    /// As many output bytes as `out` holds.
    pub(super) fn finish(self, out: &mut [u8]) -> bool {
        // SAFETY: an initialised context; `out` writable for its length.
        let ok = unsafe { sys::EVP_DigestFinalXOF(self.0.as_ptr(), out.as_mut_ptr(), out.len()) };
        if ok != 1 {
            clear_errors();
        }
        ok == 1
    }
}

// --------------------------------------------------------------- ML-DSA --

/// An owned AWS-LC `EVP_PKEY` (an ML-DSA key pair or public key).
pub(super) struct Pkey(NonNull<sys::EVP_PKEY>);

// SAFETY: after construction the key is only read: EVP_PKEY_get_raw_*_key
// and EVP_PKEY_CTX_new (which takes its own reference); each operation
// runs on an EVP_PKEY_CTX of its own. EVP_PKEY_free runs in `Drop`, with
// exclusive access. aws-lc-rs shares its ML-DSA keys across threads the
// same way.
unsafe impl Send for Pkey {}
// SAFETY: as for `Send` above.
unsafe impl Sync for Pkey {}

impl Drop for Pkey {
    fn drop(&mut self) {
        // SAFETY: the one reference we own, not used after this; AWS-LC
        // wipes a private key as it frees it.
        unsafe { sys::EVP_PKEY_free(self.0.as_ptr()) }
    }
}

fn mldsa_nid(params: crate::crypto::MlDsaParams) -> c_int {
    use crate::crypto::MlDsaParams;
    (match params {
        MlDsaParams::MlDsa44 => sys::NID_MLDSA44,
        MlDsaParams::MlDsa65 => sys::NID_MLDSA65,
        MlDsaParams::MlDsa87 => sys::NID_MLDSA87,
    }) as c_int
}

impl Pkey {
    /// The ML-DSA key pair of a 32-byte seed (ML-DSA.KeyGen_internal).
    pub(super) fn mldsa_from_seed(
        params: crate::crypto::MlDsaParams,
        seed: &[u8; 32],
    ) -> Option<Self> {
        // SAFETY: `seed` is readable for 32 bytes and not kept; the result
        // is NULL or a new key we own.
        let p = unsafe {
            sys::EVP_PKEY_pqdsa_new_raw_private_key(mldsa_nid(params), seed.as_ptr(), seed.len())
        };
        Self::owned(p)
    }

    /// An ML-DSA public key of its raw encoding (length checked by AWS-LC).
    pub(super) fn mldsa_public(params: crate::crypto::MlDsaParams, public: &[u8]) -> Option<Self> {
        // SAFETY: as in `mldsa_from_seed`.
        let p = unsafe {
            sys::EVP_PKEY_pqdsa_new_raw_public_key(mldsa_nid(params), public.as_ptr(), public.len())
        };
        Self::owned(p)
    }

    fn owned(p: *mut sys::EVP_PKEY) -> Option<Self> {
        let k = NonNull::new(p).map(Pkey);
        if k.is_none() {
            clear_errors();
        }
        k
    }

    /// The raw public key (`len` bytes expected).
    pub(super) fn raw_public_key(&self, len: usize) -> Option<Vec<u8>> {
        let mut out = vec![0u8; len];
        let mut got = len;
        // SAFETY: `out` is writable for `got` bytes; the key is valid.
        let ok = unsafe {
            sys::EVP_PKEY_get_raw_public_key(self.0.as_ptr(), out.as_mut_ptr(), &mut got)
        };
        if ok != 1 || got != len {
            clear_errors();
            return None;
        }
        Some(out)
    }

    /// The raw (expanded) private key (`len` bytes expected), wiped when
    /// dropped.
    pub(super) fn raw_private_key(&self, len: usize) -> Option<zeroize::Zeroizing<Vec<u8>>> {
        let mut out = zeroize::Zeroizing::new(vec![0u8; len]);
        let mut got = len;
        // SAFETY: as in `raw_public_key`.
        let ok = unsafe {
            sys::EVP_PKEY_get_raw_private_key(self.0.as_ptr(), out.as_mut_ptr(), &mut got)
        };
        if ok != 1 || got != len {
            clear_errors();
            return None;
        }
        Some(out)
    }

    /// The ML-DSA signature (`sig_len` bytes) of an external μ: AWS-LC's
    /// EVP_PKEY_sign on an ML-DSA key signs its input as μ (FIPS 204
    /// section 6.2; hedged).
    pub(super) fn mldsa_sign_mu(&self, mu: &[u8; 64], sig_len: usize) -> Option<Vec<u8>> {
        let mut sig = vec![0u8; sig_len];
        let mut len = sig_len;
        // SAFETY: the context is checked, holds its own reference to the
        // key and is freed once; `mu` is readable for 64 bytes and `sig`
        // writable for `len` bytes.
        let ok = unsafe {
            let ctx = sys::EVP_PKEY_CTX_new(self.0.as_ptr(), std::ptr::null_mut());
            if ctx.is_null() {
                clear_errors();
                return None;
            }
            let ok = sys::EVP_PKEY_sign_init(ctx) == 1
                && sys::EVP_PKEY_sign(ctx, sig.as_mut_ptr(), &mut len, mu.as_ptr(), mu.len()) == 1;
            sys::EVP_PKEY_CTX_free(ctx);
            ok
        };
        if !ok || len != sig_len {
            clear_errors();
            return None;
        }
        Some(sig)
    }

    /// Whether `sig` is a valid ML-DSA signature of the external μ `mu`.
    pub(super) fn mldsa_verify_mu(&self, mu: &[u8; 64], sig: &[u8]) -> bool {
        // SAFETY: as in `mldsa_sign_mu`; `sig` is readable for its length.
        let ok = unsafe {
            let ctx = sys::EVP_PKEY_CTX_new(self.0.as_ptr(), std::ptr::null_mut());
            if ctx.is_null() {
                clear_errors();
                return false;
            }
            let ok = sys::EVP_PKEY_verify_init(ctx) == 1
                && sys::EVP_PKEY_verify(ctx, sig.as_ptr(), sig.len(), mu.as_ptr(), mu.len()) == 1;
            sys::EVP_PKEY_CTX_free(ctx);
            ok
        };
        if !ok {
            clear_errors();
        }
        ok
    }
}

#[cfg(all(test, not(feature = "fips")))]
mod tests {
    use super::HmacSha512;

    /// `HmacSha512` against aws-lc-rs's HMAC-SHA-512 for keys shorter
    /// than, as long as and longer than the block, and messages on both
    /// sides of the one-block path's limit (111 bytes), in one part and
    /// split in three.
    #[test]
    fn hmac_sha512_matches_hmac_on_both_paths() {
        let bytes = |n: usize, seed: usize| -> Vec<u8> {
            (0..n).map(|i| (i * 131 + seed * 7 + i / 3) as u8).collect()
        };
        for key_len in [0, 1, 32, 64, 127, 128, 129, 200] {
            let key = bytes(key_len, key_len);
            let ours = HmacSha512::new(&key).unwrap();
            let theirs = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA512, &key);
            for len in 0..=260 {
                let msg = bytes(len, len + 1);
                let expected = aws_lc_rs::hmac::sign(&theirs, &msg);
                let mut out = [0u8; 64];
                ours.mac(&[&msg], &mut out).unwrap();
                assert_eq!(&out[..], expected.as_ref(), "key {key_len}, message {len}");
                let (a, rest) = msg.split_at(len / 3);
                let (b, c) = rest.split_at(rest.len() / 2);
                let mut out = [0u8; 64];
                ours.mac(&[a, b, c], &mut out).unwrap();
                assert_eq!(
                    &out[..],
                    expected.as_ref(),
                    "key {key_len}, message {len} in parts"
                );
            }
            assert!(ours.mac(&[b"x"], &mut [0u8; 63]).is_err());
        }
    }
}

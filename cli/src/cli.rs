//! The command-line grammar (clap derive). Every subcommand carries
//! examples in its `--help`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

const TOP_EXAMPLES: &str = "\
Examples:
  sealbox init                                  # a key store in ~/.local/share/sealbox
  sealbox --store ./keys init                   # ... or anywhere else
  sealbox key create --alias alias/orders
  sealbox encrypt --key alias/orders --context dept=billing report.pdf -o report.pdf.sbx
  sealbox decrypt --context dept=billing report.pdf.sbx -o report.pdf
  sealbox audit verify

Configuration: flags, then environment variables (SEALBOX_STORE, SEALBOX_CONFIG,
SEALBOX_ROOT_KEY_FILE, SEALBOX_ROOT_KEY, SEALBOX_DATABASE_URL, SEALBOX_PRINCIPAL,
SEALBOX_JSON), then the
config file (--config, SEALBOX_CONFIG or ~/.config/sealbox/config.toml), then the
store's own config.toml (written by init), then defaults.

Exit codes: 0 ok, 1 failure, 2 usage error, 3 decryption failed, 4 key not found,
5 key disabled or pending deletion, 6 operation not allowed for this key,
7 signature or MAC does not verify, 8 audit log tampered, 9 key store or key file
cannot be used, 10 already exists, 11 access denied (key policy, grants), 12 key store
database unreachable (retry), 13 key metadata changed outside sealbox,
128+N killed by signal N.";

/// sealbox: keys that never leave the key store, and envelope encryption of
/// files in the AWS Encryption SDK message format.
#[derive(Debug, Parser)]
#[command(name = "sealbox", version, after_help = TOP_EXAMPLES, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options of every command.
#[derive(Debug, Args)]
pub struct Global {
    /// The key store directory [default: $XDG_DATA_HOME/sealbox, i.e. ~/.local/share/sealbox]
    #[arg(long, global = true, env = "SEALBOX_STORE", value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// A config file (TOML) [default: ~/.config/sealbox/config.toml if it exists]
    #[arg(long, global = true, env = "SEALBOX_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The root key file of a soft key store [default: <store>/root.key]
    #[arg(
        long,
        global = true,
        env = "SEALBOX_ROOT_KEY_FILE",
        value_name = "FILE"
    )]
    pub root_key_file: Option<PathBuf>,
    /// The principal this command acts for: whom key policies and grants decide about, and whom the audit trail names [default: $USER]
    #[arg(long, global = true, env = "SEALBOX_PRINCIPAL", value_name = "NAME")]
    pub principal: Option<String>,
    /// Print one JSON document on stdout (errors as JSON on stderr)
    #[arg(long, global = true, env = "SEALBOX_JSON", value_parser = clap::builder::BoolishValueParser::new())]
    pub json: bool,
    /// No progress bar and no notes on stderr
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a key store: a soft store sealed by a new root key file, or one bound to a PKCS#11 token
    #[command(after_help = "\
Examples:
  sealbox --store ./keys init
  sealbox --store ./keys init --root-key-file /secure/volume/root.key
  SEALBOX_ROOT_KEY=$(fetch-from-vault) sealbox --store ./keys init   # no root key file
  SEALBOX_PIN=1234 sealbox --store ./keys init --pkcs11-module /usr/lib/softhsm/libsofthsm2.so \\
      --token-label payments --pin-env SEALBOX_PIN
  SEALBOX_DATABASE_URL='postgresql://sealbox:PW@db:5432/keys?sslmode=verify-full' \\
      sealbox --store ./keys init                  # metadata and audit trail in PostgreSQL
  sealbox --store ./keys init --database 'postgresql://sealbox:PW@db/keys?sslmode=verify-full' \\
      --root-key-file /secure/copy-of-root.key     # another host joins that store

init never overwrites: an existing store, config or root key file is an error.
The root key file is written with mode 0600; keep a backup of it somewhere safe,
without it the keys of the store cannot be used. With a database, an existing
--root-key-file is used as it is: the root key of the store already in the database.")]
    Init(InitArgs),
    /// Create and manage keys
    #[command(subcommand)]
    Key(KeyCommand),
    /// Encrypt a file or stdin (AWS Encryption SDK message format)
    #[command(after_help = "\
Examples:
  sealbox encrypt --key alias/orders --context order=1234 orders.csv -o orders.csv.sbx
  tar c data/ | sealbox encrypt --key alias/backup -o - > data.tar.sbx
  sealbox encrypt --raw-aes-key aes.key --key-namespace acme --key-name 2026 in.bin -o in.bin.sbx
  sealbox encrypt --key alias/orders --raw-rsa-public-key recovery.pem \\
      --key-namespace recovery --key-name rsa-2026 in.bin -o in.bin.sbx   # two ways to decrypt

Output goes to a temporary file beside the destination and takes the final name only
when complete. Files written with a raw AES or RSA key decrypt with the AWS Encryption
SDKs' raw AES / raw RSA keyrings (same namespace and name).")]
    Encrypt(EncryptArgs),
    /// Decrypt a message written by sealbox or an AWS Encryption SDK
    #[command(after_help = "\
Examples:
  sealbox decrypt --context order=1234 orders.csv.sbx -o orders.csv
  sealbox decrypt data.tar.sbx -o - | tar x
  sealbox decrypt --raw-aes-key aes.key --key-namespace acme --key-name 2026 in.bin.sbx -o in.bin

Without key options the key store finds the key the message names. With --context,
every pair given must be in the message (and pairs that were authenticated but not
stored are supplied this way). Plaintext reaches its final name only after the whole
message, its end and its signature verified; on stdout, data arrives frame by frame
and only exit code 0 says the message was complete and authentic.")]
    Decrypt(DecryptArgs),
    /// Give a message new encrypted data keys without re-encrypting its body
    #[command(after_help = "\
Examples:
  sealbox rewrap --to-key alias/orders-2027 orders.sbx -o orders.2027.sbx
  sealbox rewrap --to-key alias/orders --in-place orders.sbx        # after key rotate
  sealbox rewrap --key alias/orders --to-key alias/archive --to-raw-rsa-public-key recovery.pem \\
      --to-key-namespace recovery --to-key-name rsa-2026 --in-place backup.sbx

The message is opened with the keys named as for decrypt (without key options the key
store finds the key the message names) and its data key wrapped again by every --to-*
key; only those can open the result. The header is rewritten and authenticated again;
the body is copied unchanged. Signed messages (0x0578) get a new signature, after the old
one verified. --in-place on an unsigned message whose new header keeps its length writes
only the header (through a journal that a crash leaves for the next --in-place to finish or
undo); otherwise the whole message goes to a temporary file renamed over the input.")]
    Rewrap(RewrapArgs),
    /// Sign a file or stdin with a SIGN_VERIFY key (prints the signature in base64)
    #[command(after_help = "\
Examples:
  sealbox sign --key alias/release release.tar.gz -o release.tar.gz.sig
  sealbox sign --key alias/release --algorithm RSASSA_PKCS1_V1_5_SHA_256 message.txt

The input is hashed here (any size) and the key store signs the digest;
Ed25519 keys (ED25519_SHA_512) sign the input itself, at most 4096 bytes.")]
    Sign(SignArgs),
    /// Verify a signature (exit 0 if valid, 7 if not)
    #[command(after_help = "\
Examples:
  sealbox verify --key alias/release --signature release.tar.gz.sig release.tar.gz
  sealbox verify --key alias/release --signature-base64 MEUCIQ... message.txt")]
    Verify(VerifyArgs),
    /// ECDH between a KEY_AGREEMENT key and a peer's public key (DeriveSharedSecret)
    #[command(after_help = "\
Examples:
  sealbox derive-shared-secret --key alias/agree --public-key peer.pem
  sealbox derive-shared-secret --key alias/agree --public-key peer.der -o secret.bin

The peer's key is a SubjectPublicKeyInfo (PEM or DER) on the key's curve. The output is
the raw shared secret (the x-coordinate, as AWS KMS returns it), printed in base64 unless
-o (written 0600): derive keys from it with a KDF.")]
    DeriveSharedSecret(DeriveSharedSecretArgs),
    /// Make a post-quantum (X-Wing: ML-KEM-768 + X25519) key pair for --pq-public-key / --pq-private-key
    #[command(after_help = "\
Examples:
  sealbox pq-keygen --private-key backup.pq.key --public-key backup.pq.pub
  sealbox encrypt --key alias/main --pq-public-key backup.pq.pub db.dump -o db.dump.sbx

The private key (32 bytes) is written 0600, the public key (1216 bytes) as it is; both raw
bytes unless --base64. Messages wrapped to the public key stay confidential against a future
quantum computer (provider id sealbox-pq; the AWS SDKs read such a message only through
another of its keys).")]
    PqKeygen(PqKeygenArgs),
    /// Compute or verify an HMAC with a GENERATE_VERIFY_MAC key (at most 4096 bytes)
    #[command(after_help = "\
Examples:
  sealbox mac --key alias/webhook payload.json
  sealbox mac --key alias/webhook --verify 3q2+7w... payload.json   # exit 0 or 7")]
    Mac(MacArgs),
    /// Grants: let a principal use a key beside its policy (create, list, retire, revoke)
    #[command(subcommand)]
    Grant(crate::access::GrantCommand),
    /// Read and verify the audit trail
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Versioned secrets (passwords, API keys) sealed under a key-store key
    #[command(subcommand)]
    Secret(SecretCommand),
    /// List the exit status of every kind of error (for scripts; with --json as JSON)
    #[command(after_help = "\
Examples:
  sealbox exit-codes
  sealbox exit-codes --json | jq '.[] | select(.kind == \"KeyDisabled\")'")]
    ExitCodes,
    /// Print a shell's completion script for sealbox (bash, zsh or fish)
    #[command(after_help = "\
Examples:
  sealbox completions bash > ~/.local/share/bash-completion/completions/sealbox
  sealbox completions zsh > ~/.zfunc/_sealbox        # a directory on $fpath
  sealbox completions fish > ~/.config/fish/completions/sealbox.fish")]
    Completions(CompletionsArgs),
    /// Write the man pages (sealbox.1 and one page per subcommand) into a directory
    #[command(hide = true)]
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The shells `sealbox completions` writes for.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The directory (created if missing)
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
}

/// The command-line grammar with the version line of this build: the
/// version, the crypto provider and the FIPS mode (`sealbox --version`,
/// and the man pages made from it).
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    Cli::command().version(
        VERSION
            .get_or_init(|| sealbox::build_info().to_string())
            .as_str(),
    )
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Keep the store's metadata and audit trail in this PostgreSQL database instead of keys.db (postgresql://user:password@host:port/db?sslmode=verify-full&sslrootcert=FILE); written to config.toml (mode 0600) as given [default: SEALBOX_DATABASE_URL, written without its password]
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// Bind the store to this PKCS#11 module instead of a soft root key
    #[arg(long, value_name = "PATH", requires = "token")]
    pub pkcs11_module: Option<PathBuf>,
    /// The token's label
    #[arg(long, group = "token", requires = "pkcs11_module")]
    pub token_label: Option<String>,
    /// The token's serial number
    #[arg(long, group = "token", requires = "pkcs11_module")]
    pub token_serial: Option<String>,
    /// Environment variable that holds the user PIN (the PIN itself is never stored)
    #[arg(long, value_name = "VAR", group = "pin", requires = "pkcs11_module")]
    pub pin_env: Option<String>,
    /// File (mode 0600) whose first line is the user PIN
    #[arg(long, value_name = "FILE", group = "pin", requires = "pkcs11_module")]
    pub pin_file: Option<PathBuf>,
    /// The policy of keys created without one: allow-all (every principal) or creator (only the creating principal); stored in the key store [default: allow-all]
    #[arg(long, value_name = "POLICY", value_parser = crate::access::parse_default_policy)]
    pub default_policy: Option<sealbox::keystore::DefaultKeyPolicy>,
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create a key (generated in the backend)
    #[command(after_help = "\
Examples:
  sealbox key create --alias alias/orders --description 'order records'
  sealbox key create --spec ECC_NIST_P256 --alias alias/release
  sealbox key create --spec HMAC_256 --alias alias/webhook
  sealbox key create --rotation-period-days 365 --tag team=payments
  sealbox key create --alias alias/tenant-data --policy policy.json")]
    Create(CreateArgs),
    /// List keys
    #[command(
        after_help = "Examples:\n  sealbox key list\n  sealbox key list --json | jq -r '.keys[].key_id'"
    )]
    List,
    /// Show everything about a key except its material
    #[command(after_help = "Examples:\n  sealbox key describe alias/orders")]
    Describe(KeyArg),
    /// Rotate a key now, or turn automatic rotation on or off
    #[command(after_help = "\
Examples:
  sealbox key rotate alias/orders                         # new version now
  sealbox key rotate alias/orders --automatic-days 90     # from now on every 90 days
  sealbox key rotate alias/orders --no-automatic

Old versions keep decrypting what they encrypted.")]
    Rotate(RotateArgs),
    /// Enable a disabled key
    #[command(after_help = "Examples:\n  sealbox key enable alias/orders")]
    Enable(KeyArg),
    /// Disable a key (nothing can use it until it is enabled again)
    #[command(after_help = "Examples:\n  sealbox key disable alias/orders")]
    Disable(KeyArg),
    /// Schedule the destruction of a key's material after a waiting period
    #[command(after_help = "\
Examples:
  sealbox key schedule-deletion alias/old --days 7

The key cannot be used while pending deletion; `cancel-deletion` brings it back
(disabled). After the waiting period the material is destroyed for good.")]
    ScheduleDeletion(ScheduleDeletionArgs),
    /// Cancel a scheduled deletion (the key comes back disabled)
    #[command(
        after_help = "Examples:\n  sealbox key cancel-deletion alias/old\n  sealbox key enable alias/old"
    )]
    CancelDeletion(KeyArg),
    /// Manage aliases
    #[command(subcommand)]
    Alias(AliasCommand),
    /// Import key material (BYOK)
    #[command(after_help = "\
Examples:
  head -c 32 /dev/urandom > aes.key && chmod 600 aes.key
  sealbox key import --spec AES_256 --material aes.key --alias alias/byok
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.pem
  sealbox key import --spec ECC_NIST_P256 --material ec.pem

Material: AES and HMAC keys as raw bytes, hex or base64; RSA, EC, Ed25519 and ML-DSA
keys as PKCS#8 (PEM `PRIVATE KEY` or DER). The file must not be readable by group or
others. With --valid-to the material expires then: the key is PendingImport until the
same material is imported again (`key import-material`).")]
    Import(ImportArgs),
    /// Import material into an imported key: the same material again after it
    /// expired or was deleted, or new material as a new version (AES_256)
    #[command(after_help = "\
Examples:
  sealbox key import-material alias/byok --material aes.key --valid-to 2027-06-30T00:00:00Z
  sealbox key import-material alias/byok --material new-aes.key     # a new version

Only the key's own material restores it; other material is refused (a new version
for AES_256 keys that are not pending import).")]
    ImportMaterial(ImportMaterialArgs),
    /// Delete the material of an imported key (PendingImport until imported again)
    #[command(after_help = "\
Examples:
  sealbox key delete-imported-material alias/byok
  sealbox key import-material alias/byok --material aes.key

Nothing encrypted under the key decrypts until the same material is imported again.")]
    DeleteImportedMaterial(KeyArg),
    /// GenerateDataKey for a recipient: the data key under KEY, and encrypted to
    /// the recipient's RSA public key (CMS EnvelopedData); never in the clear here
    #[command(after_help = "\
Examples:
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out enclave.pem
  openssl pkey -in enclave.pem -pubout -out enclave.pub.pem
  sealbox key generate-data-key alias/orders --recipient enclave.pub.pem \\
      --ciphertext-for-recipient dk.cms -o dk.blob
  openssl cms -decrypt -inform DER -in dk.cms -inkey enclave.pem -out dk.key

The blob (-o) decrypts with the key store again (`sealbox key decrypt`).")]
    GenerateDataKey(GenerateDataKeyArgs),
    /// Decrypt a key-store blob for a recipient: the plaintext comes out encrypted
    /// to the recipient's RSA public key (CMS EnvelopedData), never in the clear here
    #[command(after_help = "\
Examples:
  sealbox key decrypt dk.blob --recipient enclave.pub.pem -o dk.cms
  openssl cms -decrypt -inform DER -in dk.cms -inkey enclave.pem -out dk.key")]
    Decrypt(KeyDecryptArgs),
    /// Print the public key of an asymmetric key (PEM, or DER with --der)
    #[command(after_help = "\
Examples:
  sealbox key public-key alias/release > release.pub.pem
  sealbox key public-key alias/release --der -o release.pub.der")]
    PublicKey(PublicKeyArgs),
    /// Show or replace a key's policy (who may do what with it)
    #[command(subcommand)]
    Policy(crate::access::PolicyCommand),
}

#[derive(Debug, Args)]
pub struct KeyArg {
    /// Key ID or alias/NAME
    pub key: String,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// AES_256, RSA_2048, RSA_3072, RSA_4096, ECC_NIST_P256, ECC_NIST_P384, ECC_NIST_P521, ECC_SECG_P256K1, ECC_NIST_EDWARDS25519, HMAC_224, HMAC_256, HMAC_384, HMAC_512, ML_DSA_44, ML_DSA_65, ML_DSA_87
    #[arg(long, default_value = "AES_256")]
    pub spec: String,
    #[command(flatten)]
    pub new_key: NewKeyArgs,
    /// A tag (repeatable)
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    pub tags: Vec<String>,
    /// Rotate automatically with this period (AES_256 only)
    #[arg(long, value_name = "DAYS")]
    pub rotation_period_days: Option<u32>,
    #[command(flatten)]
    pub policy: crate::access::NewKeyPolicyArgs,
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    /// Key ID or alias/NAME
    pub key: String,
    /// Instead of rotating now, rotate automatically every DAYS days
    #[arg(long, value_name = "DAYS", conflicts_with = "no_automatic")]
    pub automatic_days: Option<u32>,
    /// Instead of rotating now, turn automatic rotation off
    #[arg(long)]
    pub no_automatic: bool,
}

#[derive(Debug, Args)]
pub struct ScheduleDeletionArgs {
    /// Key ID or alias/NAME
    pub key: String,
    /// The waiting period in days (7 to 30)
    #[arg(long, default_value_t = sealbox::keystore::DEFAULT_DELETION_WINDOW_DAYS)]
    pub days: u32,
}

#[derive(Debug, Subcommand)]
pub enum AliasCommand {
    /// Point a new alias at a key
    #[command(after_help = "Examples:\n  sealbox key alias create alias/orders 1f0c...")]
    Create { alias: String, key: String },
    /// Point an existing alias at another key
    #[command(after_help = "Examples:\n  sealbox key alias update alias/orders 9a2e...")]
    Update { alias: String, key: String },
    /// Delete an alias (the key is untouched)
    #[command(after_help = "Examples:\n  sealbox key alias delete alias/orders")]
    Delete { alias: String },
    /// List aliases
    #[command(after_help = "Examples:\n  sealbox key alias list")]
    List,
}

#[derive(Debug, Args)]
#[command(mut_arg("alias", |a| a.help("An alias for the new key")))]
pub struct ImportArgs {
    /// The key spec of the material
    #[arg(long)]
    pub spec: String,
    /// The file holding the material
    #[arg(long, value_name = "FILE")]
    pub material: PathBuf,
    /// When the material expires: RFC 3339 UTC (2027-06-30T00:00:00Z), Unix seconds, or +DAYSd
    #[arg(long, value_name = "TIME")]
    pub valid_to: Option<String>,
    #[command(flatten)]
    pub new_key: NewKeyArgs,
}

#[derive(Debug, Args)]
pub struct GenerateDataKeyArgs {
    /// Key ID or alias/NAME of an AES_256 key
    pub key: String,
    /// The recipient's RSA public key (2048 bits or more): SubjectPublicKeyInfo, PEM or DER
    #[arg(long, value_name = "FILE")]
    pub recipient: PathBuf,
    /// Where to write the data key for the recipient (DER CMS EnvelopedData)
    #[arg(long, value_name = "FILE")]
    pub ciphertext_for_recipient: PathBuf,
    /// Length of the data key in bytes (1..=1024)
    #[arg(long, default_value_t = 32)]
    pub bytes: usize,
    /// Encryption context pair (repeatable)
    #[arg(short = 'c', long = "context", value_name = "KEY=VALUE")]
    pub context: Vec<String>,
    /// Write the blob (the data key under KEY) to FILE instead of printing base64
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace existing output files
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct KeyDecryptArgs {
    /// A key-store blob (a file; - for stdin)
    pub blob: PathBuf,
    /// The recipient's RSA public key (2048 bits or more): SubjectPublicKeyInfo, PEM or DER
    #[arg(long, value_name = "FILE")]
    pub recipient: PathBuf,
    /// Encryption context pair the blob was made with (repeatable)
    #[arg(short = 'c', long = "context", value_name = "KEY=VALUE")]
    pub context: Vec<String>,
    /// Where to write the plaintext for the recipient (DER CMS EnvelopedData)
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Replace an existing output file
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ImportMaterialArgs {
    /// Key ID or alias/NAME of an imported key
    pub key: String,
    /// The file holding the material
    #[arg(long, value_name = "FILE")]
    pub material: PathBuf,
    /// When the material expires: RFC 3339 UTC, Unix seconds, or +DAYSd [default: never]
    #[arg(long, value_name = "TIME")]
    pub valid_to: Option<String>,
}

/// What `key create` and `key import` ask of the new key.
#[derive(Debug, Args)]
pub struct NewKeyArgs {
    /// ENCRYPT_DECRYPT, SIGN_VERIFY, GENERATE_VERIFY_MAC or KEY_AGREEMENT [default: the spec's]
    #[arg(long)]
    pub usage: Option<String>,
    /// An alias for the new key (alias/NAME)
    #[arg(long)]
    pub alias: Option<String>,
    /// Free text
    #[arg(long, default_value = "")]
    pub description: String,
}

#[derive(Debug, Args)]
pub struct PublicKeyArgs {
    /// Key ID or alias/NAME
    pub key: String,
    /// DER instead of PEM
    #[arg(long)]
    pub der: bool,
    /// Write to FILE instead of stdout
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace an existing output file
    #[arg(long)]
    pub force: bool,
}

/// Keys to wrap or unwrap data keys with.
#[derive(Debug, Args)]
pub struct KeyringArgs {
    /// A key-store key (ID or alias); repeat for more. On encrypt the first makes the data key
    #[arg(long = "key", value_name = "KEY")]
    pub keys: Vec<String>,
    /// A raw AES wrapping key file (16, 24 or 32 bytes raw, hex or base64; mode 0600)
    #[arg(long, value_name = "FILE", requires_all = ["key_namespace", "key_name"])]
    pub raw_aes_key: Option<PathBuf>,
    /// A raw RSA public key (PEM) to wrap data keys with
    #[arg(long, value_name = "PEM", requires_all = ["key_namespace", "key_name"], conflicts_with = "raw_aes_key")]
    pub raw_rsa_public_key: Option<PathBuf>,
    /// A raw RSA private key (PKCS#8 PEM; mode 0600) to unwrap (and wrap) data keys with
    #[arg(long, value_name = "PEM", requires_all = ["key_namespace", "key_name"], conflicts_with = "raw_aes_key")]
    pub raw_rsa_private_key: Option<PathBuf>,
    /// RSA padding: OAEP_SHA256_MGF1, OAEP_SHA1_MGF1, OAEP_SHA384_MGF1, OAEP_SHA512_MGF1, PKCS1
    #[arg(long, default_value = "OAEP_SHA256_MGF1")]
    pub rsa_padding: String,
    /// Raw ECDH (P-256/384/521, AWS-compatible): an EC private key (PKCS#8 PEM or DER; mode 0600).
    /// With --raw-ecdh-public-key it is the sender's static key; alone, the recipient's (decrypt)
    #[arg(long, value_name = "FILE", conflicts_with_all = ["raw_aes_key", "raw_rsa_public_key", "raw_rsa_private_key"])]
    pub raw_ecdh_private_key: Option<PathBuf>,
    /// Raw ECDH: the recipient's public key (SubjectPublicKeyInfo PEM or DER). Alone, every message
    /// gets a new ephemeral sender key (encrypt only)
    #[arg(long, value_name = "FILE", conflicts_with_all = ["raw_aes_key", "raw_rsa_public_key", "raw_rsa_private_key"])]
    pub raw_ecdh_public_key: Option<PathBuf>,
    /// Post-quantum: an X-Wing public key (1216 bytes; raw, hex or base64) to wrap the data key
    /// to as well (sealbox pq-keygen); combines with any other key
    #[arg(long, value_name = "FILE")]
    pub pq_public_key: Option<PathBuf>,
    /// Post-quantum: an X-Wing private key (32 bytes; raw, hex or base64; mode 0600) to unwrap with
    #[arg(long, value_name = "FILE")]
    pub pq_private_key: Option<PathBuf>,
    /// The raw key's namespace (the AWS SDKs' provider ID / key namespace)
    #[arg(long, value_name = "NAMESPACE")]
    pub key_namespace: Option<String>,
    /// The raw key's name (the AWS SDKs' key ID / key name)
    #[arg(long, value_name = "NAME")]
    pub key_name: Option<String>,
}

/// Which command a [`DataArgs`] belongs to.
#[derive(Debug, Clone, Copy)]
pub enum DataCommand {
    Encrypt,
    Decrypt,
}

/// `#[command(data_help(...))]`: each command words the help of
/// [`DataArgs`]' `input`, `output` and `context` for itself.
pub trait DataHelp {
    fn data_help(self, which: DataCommand) -> Self;
}

impl DataHelp for clap::Command {
    fn data_help(self, which: DataCommand) -> Self {
        let [input, output, context] = match which {
            DataCommand::Encrypt => [
                "The plaintext file, or - for stdin",
                "The output file, or - for stdout (required when stdout is a terminal)",
                "An encryption-context pair (repeatable); authenticated, stored in clear",
            ],
            DataCommand::Decrypt => [
                "The message file, or - for stdin",
                "The plaintext file (mode 0600), or - for stdout [default: stdout]",
                "A pair the message's encryption context must hold (repeatable)",
            ],
        };
        self.mut_arg("input", |a| a.help(input))
            .mut_arg("output", |a| a.help(output))
            .mut_arg("context", |a| a.help(context))
    }
}

/// What encrypt and decrypt share: the data's way in and out, the keys and
/// the encryption context. The help of `input`, `output` and `context`
/// comes from [`DataHelp`].
#[derive(Debug, Args)]
pub struct DataArgs {
    #[arg(default_value = "-")]
    pub input: PathBuf,
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace an existing output file
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub keyring: KeyringArgs,
    #[arg(long = "context", short = 'c', value_name = "KEY=VALUE")]
    pub context: Vec<String>,
    /// Threads that work on the frames of large inputs [default: every core; 1: one]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
}

#[derive(Debug, Args)]
#[command(data_help(DataCommand::Encrypt))]
pub struct EncryptArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// 0x0478 (default: committing) or 0x0578 (committing + ECDSA P-384 signature)
    #[arg(long)]
    pub suite: Option<String>,
    /// Plaintext bytes per frame
    #[arg(long, default_value_t = sealbox::message::DEFAULT_FRAME_LENGTH)]
    pub frame_length: u32,
}

#[derive(Debug, Args)]
#[command(data_help(DataCommand::Decrypt))]
pub struct DecryptArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Also accept messages written with non-committing suites (old data)
    #[arg(long)]
    pub allow_non_committing: bool,
}

#[derive(Debug, Args)]
pub struct RewrapArgs {
    /// The message file, or - for stdin
    #[arg(default_value = "-")]
    pub input: PathBuf,
    /// The rewrapped message's file, or - for stdout
    #[arg(short, long, value_name = "FILE", conflicts_with = "in_place")]
    pub output: Option<PathBuf>,
    /// Replace the input file (atomically; its permissions are kept)
    #[arg(long)]
    pub in_place: bool,
    /// Replace an existing output file
    #[arg(long)]
    pub force: bool,
    /// The keys that open the message (as for decrypt)
    #[command(flatten)]
    pub from: KeyringArgs,
    /// A pair the message's encryption context must hold (repeatable)
    #[arg(long = "context", short = 'c', value_name = "KEY=VALUE")]
    pub context: Vec<String>,
    /// Also accept messages written with non-committing suites (old data)
    #[arg(long)]
    pub allow_non_committing: bool,
    /// A key-store key (ID or alias) to wrap the data key with; repeatable
    #[arg(long = "to-key", value_name = "KEY")]
    pub to_keys: Vec<String>,
    /// A raw AES wrapping key file to wrap the data key with (mode 0600)
    #[arg(long, value_name = "FILE", requires_all = ["to_key_namespace", "to_key_name"])]
    pub to_raw_aes_key: Option<PathBuf>,
    /// A raw RSA public key (PEM) to wrap the data key with
    #[arg(long, value_name = "PEM", requires_all = ["to_key_namespace", "to_key_name"], conflicts_with = "to_raw_aes_key")]
    pub to_raw_rsa_public_key: Option<PathBuf>,
    /// The --to-raw-rsa-public-key padding
    #[arg(long, default_value = "OAEP_SHA256_MGF1")]
    pub to_rsa_padding: String,
    /// A recipient's EC public key (SubjectPublicKeyInfo PEM or DER, P-256/384/521) to wrap the
    /// data key to with raw ECDH (an ephemeral sender key)
    #[arg(long, value_name = "FILE", conflicts_with_all = ["to_raw_aes_key", "to_raw_rsa_public_key"])]
    pub to_raw_ecdh_public_key: Option<PathBuf>,
    /// An X-Wing public key (post-quantum, sealbox pq-keygen) to wrap the data key to as well
    #[arg(long, value_name = "FILE")]
    pub to_pq_public_key: Option<PathBuf>,
    /// The --to-raw-* key's namespace
    #[arg(long, value_name = "NAMESPACE")]
    pub to_key_namespace: Option<String>,
    /// The --to-raw-* key's name
    #[arg(long, value_name = "NAME")]
    pub to_key_name: Option<String>,
}

/// The key and message of `sign` and `verify`.
#[derive(Debug, Args)]
pub struct SignedMessageArgs {
    /// Key ID or alias/NAME of a SIGN_VERIFY key
    #[arg(long)]
    pub key: String,
    /// The message file, or - for stdin
    #[arg(default_value = "-")]
    pub input: PathBuf,
}

#[derive(Debug, Args)]
pub struct PqKeygenArgs {
    /// Where to write the 32-byte private key (mode 0600)
    #[arg(long, value_name = "FILE")]
    pub private_key: PathBuf,
    /// Where to write the 1216-byte public key
    #[arg(long, value_name = "FILE")]
    pub public_key: PathBuf,
    /// Write both as base64 text instead of raw bytes
    #[arg(long)]
    pub base64: bool,
    /// Replace existing files
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct DeriveSharedSecretArgs {
    /// Key ID or alias/NAME of a KEY_AGREEMENT key (ECC_NIST_P256, P384 or P521)
    #[arg(long)]
    pub key: String,
    /// The peer's public key: a SubjectPublicKeyInfo file, PEM or DER
    #[arg(long, value_name = "FILE")]
    pub public_key: PathBuf,
    /// ECDH [default: ECDH]
    #[arg(long)]
    pub algorithm: Option<String>,
    /// Write the raw shared secret to FILE (0600) instead of printing base64
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace an existing output file
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct SignArgs {
    #[command(flatten)]
    pub message: SignedMessageArgs,
    /// ECDSA_SHA_256 (P-256, secp256k1), ECDSA_SHA_384 (P-384), ECDSA_SHA_512 (P-521), ED25519_SHA_512 (Ed25519, RAW only), RSASSA_PSS_SHA_256|384|512, RSASSA_PKCS1_V1_5_SHA_256|384|512 [default: by key spec]
    #[arg(long)]
    pub algorithm: Option<String>,
    /// The input is already a digest for the algorithm's hash
    #[arg(long)]
    pub digest: bool,
    /// Write the raw signature to FILE instead of printing base64
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace an existing output file
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub message: SignedMessageArgs,
    /// The raw signature file
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "signature_base64"
    )]
    pub signature: Option<PathBuf>,
    /// The signature in base64
    #[arg(long, value_name = "B64", conflicts_with = "signature")]
    pub signature_base64: Option<String>,
    /// The algorithm it was made with [default: by key spec]
    #[arg(long)]
    pub algorithm: Option<String>,
    /// The input is already a digest for the algorithm's hash
    #[arg(long)]
    pub digest: bool,
}

#[derive(Debug, Args)]
pub struct MacArgs {
    /// Key ID or alias/NAME of a GENERATE_VERIFY_MAC key
    #[arg(long)]
    pub key: String,
    /// The message file (at most 4096 bytes), or - for stdin
    #[arg(default_value = "-")]
    pub input: PathBuf,
    /// HMAC_SHA_224, HMAC_SHA_256, HMAC_SHA_384 or HMAC_SHA_512 [default: by key spec]
    #[arg(long)]
    pub algorithm: Option<String>,
    /// Verify this MAC (base64) instead of printing one: exit 0 if it matches, 7 if not
    #[arg(long, value_name = "B64")]
    pub verify: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Print the last records of the audit log
    #[command(after_help = "\
Examples:
  sealbox audit tail
  sealbox audit tail -n 100 --json | jq 'select(.outcome == \"failed\")'
  sealbox audit tail --follow

With --json, one record per line (JSON lines), as stored, with its chain fields.
A SQLite store's log file is read directly (no root key needed, nothing is added to
it); a database store's trail is read from the database (its root key or token opens
it). --follow polls for new records until interrupted (Ctrl-C).")]
    Tail(TailArgs),
    /// Write every record of the current audit segment as JSON lines, as stored (for a SIEM)
    #[command(after_help = "\
Examples:
  sealbox audit export -o trail.jsonl
  sealbox audit export --after 41999 | ship-to-siem      # only what came after record 41999

Each line is the record exactly as stored, with its chain fields (seq, prev) and its
MAC, so the receiver can re-verify the chain. A file is written atomically, mode 0600.
The summary (records, first and last seq) goes to stderr when the records go to stdout.")]
    Export(ExportArgs),
    /// Verify the HMAC chain of the audit log (exit 0 if intact, 8 if not)
    #[command(after_help = "\
Examples:
  sealbox audit verify

Detects an edited, inserted, removed or reordered record, and a log whose end was cut
off. Needs the key store's root key (or token): the chain key lives there.")]
    Verify,
    /// Start a new audit log segment after the log was lost or damaged (audited; the old log is kept)
    #[command(after_help = "\
Examples:
  sealbox audit new-segment --reason 'log volume lost in incident 42'

A store whose log no longer holds the last record it anchored refuses to open (exit 8).
This command is the explicit way on: the old log is moved aside as evidence
(keys.db.audit.jsonl.segment-N-<time>; a database store keeps the old segment's rows in
its audit_log table) and the new log's first record, StartAuditSegment, names the old
segment's anchored head, where the log ended, and the reason.")]
    NewSegment(NewSegmentArgs),
}

#[derive(Debug, Args)]
pub struct NewSegmentArgs {
    /// Why (recorded in the new segment's first record)
    #[arg(long)]
    pub reason: String,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Only the records whose sequence number is greater than SEQ
    #[arg(long, value_name = "SEQ")]
    pub after: Option<u64>,
    /// Write to FILE (atomically, mode 0600) instead of stdout
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace an existing output file
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct TailArgs {
    /// How many records
    #[arg(short = 'n', long, default_value_t = 20)]
    pub lines: usize,
    /// Keep printing records as they are written
    #[arg(short, long)]
    pub follow: bool,
}

// ------------------------------------------------------------ secrets --

#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Create a secret, with its first value (CURRENT) from a file or stdin
    #[command(after_help = "\
Examples:
  printf '%s' \"$DB_PASSWORD\" | sealbox secret create prod/db/password --value-file -
  sealbox secret create prod/api-key --value-file api-key.txt --key alias/app --tag team=payments
  sealbox secret create prod/db/password --generate-password --length 40
  sealbox secret create tls/key --binary --value-file key.der

The value is never an argument (it would show in `ps`): a file, `-` for stdin, or a
generated password. It is stored exactly (a trailing newline is part of it: use printf,
not echo). Text must be UTF-8; --binary stores bytes. At most 65536 bytes. Without
--key the value is sealed under alias/sealbox/secrets (created on first use).")]
    Create(SecretCreateArgs),
    /// Print a secret's value (CURRENT, or --stage / --version-id) to stdout or a 0600 file
    #[command(after_help = "\
Examples:
  sealbox secret get prod/db/password
  PGPASSWORD=$(sealbox secret get prod/db/password) psql -h db -U app
  sealbox secret get prod/db/password --stage PREVIOUS
  sealbox secret get tls/key -o key.der          # written atomically, mode 0600
  sealbox secret get prod/db/password --json     # value in secret_string (or secret_binary, base64)

The value is written as stored, with no newline added.")]
    Get(SecretGetArgs),
    /// Store a new value (a new version, CURRENT unless --stage says otherwise)
    #[command(after_help = "\
Examples:
  printf '%s' \"$NEW\" | sealbox secret put prod/db/password --value-file -
  sealbox secret put prod/db/password --value-file new.txt --stage PENDING
  sealbox secret put prod/db/password --generate-password

The version that loses CURRENT becomes PREVIOUS. --client-request-token makes a retry
safe: the same token and value change nothing; another value is refused (exit 10).")]
    Put(SecretPutArgs),
    /// List secrets (never values)
    #[command(after_help = "\
Examples:
  sealbox secret list
  sealbox secret list --include-deleted --json | jq -r '.secrets[].name'")]
    List(SecretListArgs),
    /// Show a secret's metadata and versions (never values)
    #[command(after_help = "Examples:\n  sealbox secret describe prod/db/password")]
    Describe(SecretNameArg),
    /// Move or remove a staging label (CURRENT, PENDING, PREVIOUS or your own)
    #[command(after_help = "\
Examples:
  sealbox secret stage prod/db/password CURRENT --move-to V2 --remove-from V1   # V1 becomes PREVIOUS
  sealbox secret stage prod/db/password canary --move-to V3
  sealbox secret stage prod/db/password canary --remove-from V3

A label on another version must be named with --remove-from to move. CURRENT can only
be moved. All changes of one command are made at once.")]
    Stage(SecretStageArgs),
    /// Rotate a secret: a new random password, set and tested by a hook, then CURRENT
    #[command(after_help = "\
Examples:
  sealbox secret rotate prod/db/password --command /etc/sealbox/rotate-db-password
  sealbox secret rotate shared/token --no-target --length 48 --exclude-punctuation

The four steps of a rotation: a new random password is stored as PENDING; the hook
sets it in the target system (setSecret), then checks it (testSecret); only then is
it made CURRENT (the old CURRENT becomes PREVIOUS). If any step fails, CURRENT is
unchanged and the new version stays PENDING (exit status of the failure).

The hook (--command, run without a shell) gets the step in SEALBOX_ROTATION_STEP
(setSecret, testSecret), the secret in SEALBOX_SECRET_NAME, the new version in
SEALBOX_SECRET_VERSION_ID and the current one in SEALBOX_SECRET_CURRENT_VERSION_ID, and
the new value on stdin (never in its arguments or environment); exit 0 means done.
It may read the current value itself with `sealbox secret get`. --no-target rotates
with no system to update (a value that only sealbox's readers use).")]
    Rotate(SecretRotateArgs),
    /// Delete a secret after a recovery window (7 to 30 days), or at once
    #[command(after_help = "\
Examples:
  sealbox secret delete prod/old-api-key                 # 30 days to restore
  sealbox secret delete prod/old-api-key --recovery-window-days 7
  sealbox secret delete scratch/test --force-delete-without-recovery

While scheduled for deletion a secret cannot be read or written; `restore` brings
it back. After the window it is destroyed for good.")]
    Delete(SecretDeleteArgs),
    /// Cancel a secret's scheduled deletion
    #[command(after_help = "Examples:\n  sealbox secret restore prod/old-api-key")]
    Restore(SecretNameArg),
    /// Change a secret's description, or the key its new versions are sealed under
    #[command(after_help = "\
Examples:
  sealbox secret update prod/db/password --key alias/db-secrets
  sealbox secret update prod/db/password --description 'payments database, role app'

Existing versions stay sealed under the key that sealed them, and readable.")]
    Update(SecretUpdateArgs),
    /// Add or replace a secret's tags, or remove some (--remove KEY)
    #[command(after_help = "\
Examples:
  sealbox secret tag prod/db/password --tag team=payments --tag env=prod
  sealbox secret tag prod/db/password --remove env")]
    Tag(SecretTagArgs),
    /// A secret's resource policy: who may do what with it (get, put, delete)
    #[command(subcommand)]
    Policy(SecretPolicyCommand),
}

/// `sealbox secret policy ...`
#[derive(Debug, Subcommand)]
pub enum SecretPolicyCommand {
    /// Print a secret's resource policy (JSON; `null` when it has none)
    #[command(after_help = "Examples:\n  sealbox secret policy get prod/db/password")]
    Get(SecretNameArg),
    /// Attach a resource policy to a secret (key-policy grammar, secretsmanager: actions)
    #[command(after_help = "\
Examples:
  sealbox secret policy put prod/db/password policy.json

Actions are those of AWS Secrets Manager (secretsmanager:GetSecretValue,
secretsmanager:PutSecretValue, secretsmanager:*, ...); principals {\"Sealbox\": [...]} or \"*\".
With a policy, each operation on the secret needs its permission as well as its key's
(exit 11 otherwise). A policy that would leave you (--principal) unable to change it again is
refused (exit 2) unless --bypass-policy-lockout-safety-check.")]
    Put(SecretPolicyPutArgs),
    /// Remove a secret's resource policy (its key alone decides again)
    Delete(SecretNameArg),
}

#[derive(Debug, Args)]
pub struct SecretPolicyPutArgs {
    /// The secret's name
    pub name: String,
    /// The policy (JSON), or - for stdin
    #[arg(default_value = "-")]
    pub file: PathBuf,
    /// Accept a policy that leaves this principal unable to change it again
    #[arg(long)]
    pub bypass_policy_lockout_safety_check: bool,
}

#[derive(Debug, Args)]
pub struct SecretTagArgs {
    /// The secret's name
    pub name: String,
    /// A tag to add or replace (repeatable)
    #[arg(
        long = "tag",
        value_name = "KEY=VALUE",
        required_unless_present = "remove"
    )]
    pub tags: Vec<String>,
    /// A tag key to remove (repeatable)
    #[arg(long, value_name = "KEY", conflicts_with = "tags")]
    pub remove: Vec<String>,
}

#[derive(Debug, Args)]
pub struct SecretUpdateArgs {
    /// The secret's name
    pub name: String,
    /// The new description
    #[arg(long, required_unless_present = "key")]
    pub description: Option<String>,
    /// Key ID or alias/NAME that new versions are sealed under
    #[arg(long)]
    pub key: Option<String>,
}

#[derive(Debug, Args)]
pub struct SecretNameArg {
    /// The secret's name (1-512 of A-Z a-z 0-9 / _ + = . @ -)
    pub name: String,
}

/// Where a new value comes from.
#[derive(Debug, Args)]
pub struct SecretValueArgs {
    /// Read the value from FILE (`-`: stdin)
    #[arg(long, value_name = "FILE", conflicts_with = "generate_password")]
    pub value_file: Option<PathBuf>,
    /// The value is bytes, not UTF-8 text
    #[arg(long)]
    pub binary: bool,
    /// Generate a random password as the value
    #[arg(long)]
    pub generate_password: bool,
    #[command(flatten)]
    pub password: PasswordArgs,
}

/// What a generated password is made of.
#[derive(Debug, Args)]
pub struct PasswordArgs {
    /// Length of a generated password
    #[arg(long, default_value_t = 32)]
    pub length: usize,
    /// No punctuation in a generated password
    #[arg(long)]
    pub exclude_punctuation: bool,
    /// Characters a generated password never contains
    #[arg(long, value_name = "CHARS", default_value = "")]
    pub exclude_characters: String,
}

#[derive(Debug, Args)]
pub struct SecretCreateArgs {
    /// The secret's name (1-512 of A-Z a-z 0-9 / _ + = . @ -)
    pub name: String,
    #[command(flatten)]
    pub value: SecretValueArgs,
    /// Key ID or alias/NAME the value is sealed under [default: alias/sealbox/secrets]
    #[arg(long)]
    pub key: Option<String>,
    /// Free text
    #[arg(long, default_value = "")]
    pub description: String,
    /// A tag (repeatable)
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    pub tags: Vec<String>,
    /// The first version's ID (32-64 characters; a retry with it is safe)
    #[arg(long, value_name = "TOKEN")]
    pub client_request_token: Option<String>,
}

#[derive(Debug, Args)]
pub struct SecretGetArgs {
    /// The secret's name
    pub name: String,
    /// The version with this staging label [default: CURRENT]
    #[arg(long)]
    pub stage: Option<String>,
    /// This version
    #[arg(long, value_name = "ID")]
    pub version_id: Option<String>,
    /// Write the value to FILE (atomically, mode 0600) instead of stdout
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace an existing output file
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct SecretPutArgs {
    /// The secret's name
    pub name: String,
    #[command(flatten)]
    pub value: SecretValueArgs,
    /// A staging label of the new version (repeatable) [default: CURRENT]
    #[arg(long = "stage", value_name = "LABEL")]
    pub stages: Vec<String>,
    /// The version's ID (32-64 characters; a retry with it is safe)
    #[arg(long, value_name = "TOKEN")]
    pub client_request_token: Option<String>,
}

#[derive(Debug, Args)]
pub struct SecretListArgs {
    /// Also secrets scheduled for deletion
    #[arg(long)]
    pub include_deleted: bool,
}

#[derive(Debug, Args)]
pub struct SecretStageArgs {
    /// The secret's name
    pub name: String,
    /// The staging label
    pub stage: String,
    /// The version to put the label on
    #[arg(long, value_name = "ID")]
    pub move_to: Option<String>,
    /// The version that has the label now
    #[arg(long, value_name = "ID")]
    pub remove_from: Option<String>,
}

#[derive(Debug, Args)]
pub struct SecretRotateArgs {
    /// The secret's name
    pub name: String,
    /// The hook that sets and tests the new value in the target (an executable, run without a shell)
    #[arg(long, value_name = "PROGRAM", required_unless_present = "no_target")]
    pub command: Option<PathBuf>,
    /// Arguments of the hook (repeatable)
    #[arg(long = "arg", value_name = "ARG", requires = "command")]
    pub args: Vec<String>,
    /// Rotate with no target system to update
    #[arg(long, conflicts_with = "command")]
    pub no_target: bool,
    /// Seconds each run of the hook may take before it is killed (the step fails)
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 300,
        requires = "command"
    )]
    pub hook_timeout: u64,
    #[command(flatten)]
    pub password: PasswordArgs,
}

#[derive(Debug, Args)]
pub struct SecretDeleteArgs {
    /// The secret's name
    pub name: String,
    /// Days during which `restore` can bring it back (7 to 30) [default: 30]
    #[arg(
        long,
        value_name = "DAYS",
        conflicts_with = "force_delete_without_recovery"
    )]
    pub recovery_window_days: Option<u32>,
    /// Destroy it now, with no way back
    #[arg(long)]
    pub force_delete_without_recovery: bool,
}

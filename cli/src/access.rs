//! Access control (issue 16): `sealbox key policy get|put`, `key create
//! --policy`, `init --default-policy` and `sealbox grant
//! create|list|retire|revoke`. The principal every command acts for is
//! `--principal` / `SEALBOX_PRINCIPAL` / the config's `principal`
//! (default `$USER`); a refusal exits with status 11.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde_json::{json, Value};

use sealbox::keystore::policy::MAX_POLICY_BYTES;
use sealbox::keystore::{CreateKeyRequest, DefaultKeyPolicy, Grant, GrantRequest, KeyStore};

use crate::error::{CliError, CliResult};
use crate::input;
use crate::Out;

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Print a key's policy (JSON; the default policy for a key without its own)
    #[command(after_help = "\
Examples:
  sealbox key policy get alias/orders
  sealbox key policy get alias/orders > policy.json     # edit, then `policy put`

Needs kms:GetKeyPolicy. Without --json the policy is indented; with --json it is one
line. Either is accepted by `policy put`.")]
    Get(PolicyGetArgs),
    /// Replace a key's policy (AWS KMS key policy grammar; from FILE or stdin)
    #[command(after_help = "\
Examples:
  sealbox key policy put alias/orders policy.json
  sealbox key policy get alias/orders | jq '...' | sealbox key policy put alias/orders

Principals are named {\"Sealbox\": [\"name\", ...]} or \"*\"; actions as in AWS KMS
(kms:Decrypt, kms:GenerateDataKey*, kms:*). A policy that does not parse is refused
(exit 2) and changes nothing; so is one that would leave you (--principal) unable to
change it again, unless --bypass-policy-lockout-safety-check. Needs kms:PutKeyPolicy.")]
    Put(PolicyPutArgs),
}

#[derive(Debug, Args)]
pub struct PolicyGetArgs {
    /// Key ID or alias/NAME
    pub key: String,
}

#[derive(Debug, Args)]
pub struct PolicyPutArgs {
    /// Key ID or alias/NAME
    pub key: String,
    /// The policy (JSON), or - for stdin
    #[arg(default_value = "-")]
    pub file: PathBuf,
    /// Accept a policy that leaves this principal unable to change it again
    #[arg(long)]
    pub bypass_policy_lockout_safety_check: bool,
}

/// The policy options of `sealbox key create`.
#[derive(Debug, Args)]
pub struct NewKeyPolicyArgs {
    /// The key's policy (JSON file, or - for stdin) [default: the store's default policy]
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Accept a --policy that leaves this principal unable to change it
    #[arg(long, requires = "policy")]
    pub bypass_policy_lockout_safety_check: bool,
}

impl NewKeyPolicyArgs {
    /// `req` with the policy these options name.
    pub fn apply(&self, req: CreateKeyRequest) -> CliResult<CreateKeyRequest> {
        Ok(CreateKeyRequest {
            policy: self.policy.as_deref().map(read_policy).transpose()?,
            bypass_policy_lockout_safety_check: self.bypass_policy_lockout_safety_check,
            ..req
        })
    }
}

/// `init --default-policy`: allow-all or creator.
pub fn parse_default_policy(s: &str) -> Result<DefaultKeyPolicy, String> {
    s.parse::<DefaultKeyPolicy>().map_err(|e| match e {
        sealbox::Error::InvalidArgument(m) => m,
        other => other.to_string(),
    })
}

#[derive(Debug, Subcommand)]
pub enum GrantCommand {
    /// Let a principal use a key for some operations (prints the grant ID)
    #[command(after_help = "\
Examples:
  sealbox grant create alias/orders --grantee batch --operations Decrypt \\
      --context-subset tenant=t1 --retiring-principal ops
  sealbox grant create alias/orders --grantee app --operations Encrypt,GenerateDataKey \\
      --context-equals tenant=t1 --context-equals app=billing
  sealbox grant create alias/orders --grantee app --operations Decrypt --json | jq -r .grant_id

Operations are AWS KMS grant operations (Decrypt, Encrypt, GenerateDataKey,
GenerateDataKeyWithoutPlaintext, ReEncryptFrom, ReEncryptTo, Sign, Verify, GenerateMac,
VerifyMac, GetPublicKey, DescribeKey, CreateGrant, RetireGrant, ...). With
--context-equals the request's encryption context must be exactly the pairs given;
with --context-subset it must contain them. Needs kms:CreateGrant (or a grant with
CreateGrant at least as broad).")]
    Create(GrantCreateArgs),
    /// List a key's grants
    #[command(after_help = "\
Examples:
  sealbox grant list alias/orders
  sealbox grant list alias/orders --json | jq -r '.grants[].grant_id'")]
    List(GrantKeyArg),
    /// Retire a grant (its retiring principal, its grantee if it lists RetireGrant, or kms:RetireGrant)
    #[command(
        after_help = "Examples:\n  sealbox --principal ops grant retire alias/orders 3f1c..."
    )]
    Retire(GrantIdArgs),
    /// Revoke a grant (needs kms:RevokeGrant); takes effect for the next operation
    #[command(after_help = "\
Examples:
  sealbox grant revoke alias/orders 3f1c...

Other processes sharing a database store honour it within the propagation bound.")]
    Revoke(GrantIdArgs),
}

#[derive(Debug, Args)]
pub struct GrantCreateArgs {
    /// Key ID or alias/NAME
    pub key: String,
    /// The principal the grant lets act
    #[arg(long, value_name = "PRINCIPAL")]
    pub grantee: String,
    /// Grant operations, comma-separated (repeatable)
    #[arg(long, value_name = "OP,...", value_delimiter = ',', required = true)]
    pub operations: Vec<String>,
    /// A principal that may retire the grant besides the grantee
    #[arg(long, value_name = "PRINCIPAL")]
    pub retiring_principal: Option<String>,
    /// A name for the grant
    #[arg(long)]
    pub name: Option<String>,
    /// The request's encryption context must be exactly these pairs (repeatable)
    #[arg(long = "context-equals", value_name = "KEY=VALUE")]
    pub context_equals: Vec<String>,
    /// The request's encryption context must contain these pairs (repeatable)
    #[arg(
        long = "context-subset",
        value_name = "KEY=VALUE",
        conflicts_with = "context_equals"
    )]
    pub context_subset: Vec<String>,
}

#[derive(Debug, Args)]
pub struct GrantKeyArg {
    /// Key ID or alias/NAME
    pub key: String,
}

#[derive(Debug, Args)]
pub struct GrantIdArgs {
    /// Key ID or alias/NAME
    pub key: String,
    /// The grant's ID (from `grant create` or `grant list`)
    pub grant_id: String,
}

/// A policy document from a file or stdin, as text (the core parses it).
pub(crate) fn read_policy(path: &Path) -> CliResult<String> {
    let bytes = input::read_bounded(path, MAX_POLICY_BYTES)?;
    String::from_utf8(bytes).map_err(|_| {
        CliError::usage(format!(
            "the policy in {} is not UTF-8 text",
            path.display()
        ))
    })
}

fn failure(e: impl std::fmt::Display) -> CliError {
    CliError::failure(e.to_string())
}

pub fn policy(ks: &KeyStore, cmd: PolicyCommand, out: Out) -> CliResult<()> {
    match cmd {
        PolicyCommand::Get(a) => {
            let text = ks.get_key_policy(&a.key)?;
            let v: Value = serde_json::from_str(&text).map_err(failure)?;
            let pretty = serde_json::to_string_pretty(&v).map_err(failure)?;
            out.emit(v, || pretty)
        }
        PolicyCommand::Put(a) => {
            let text = read_policy(&a.file)?;
            ks.put_key_policy(&a.key, &text, a.bypass_policy_lockout_safety_check)?;
            out.emit(json!({"key": a.key, "policy_replaced": true}), || {
                format!("Replaced the policy of {}.", a.key)
            })
        }
    }
}

fn grant_json(g: &Grant) -> CliResult<Value> {
    serde_json::to_value(g).map_err(failure)
}

fn context_text(c: &sealbox::EncryptionContext) -> String {
    c.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn constraint_text(g: &Grant) -> String {
    match &g.constraints {
        None => "-".into(),
        Some(c) => match (&c.encryption_context_equals, &c.encryption_context_subset) {
            (Some(e), _) => format!("equals {}", context_text(e)),
            (None, Some(s)) => format!("subset {}", context_text(s)),
            (None, None) => "-".into(),
        },
    }
}

pub fn grant(ks: &KeyStore, cmd: GrantCommand, out: Out) -> CliResult<()> {
    match cmd {
        GrantCommand::Create(a) => {
            let equals = input::pairs(&a.context_equals, "--context-equals")?;
            let subset = input::pairs(&a.context_subset, "--context-subset")?;
            let req = GrantRequest {
                grantee_principal: a.grantee,
                operations: a.operations,
                retiring_principal: a.retiring_principal,
                name: a.name,
                encryption_context_equals: (!equals.is_empty()).then_some(equals),
                encryption_context_subset: (!subset.is_empty()).then_some(subset),
            };
            let id = ks.create_grant(&a.key, &req)?;
            out.emit(json!({"key": a.key, "grant_id": id}), || id.clone())
        }
        GrantCommand::List(a) => {
            let grants = ks.list_grants(&a.key)?;
            let v = json!({
                "key": a.key,
                "grants": grants.iter().map(grant_json).collect::<CliResult<Vec<_>>>()?,
            });
            out.emit(v, || {
                if grants.is_empty() {
                    return format!("No grants on {}.", a.key);
                }
                let mut t = format!(
                    "{:<36}  {:<16}  {:<28}  {:<16}  {}\n",
                    "GRANT ID", "GRANTEE", "OPERATIONS", "RETIRING", "CONSTRAINT"
                );
                for g in &grants {
                    t.push_str(&format!(
                        "{:<36}  {:<16}  {:<28}  {:<16}  {}\n",
                        g.grant_id,
                        g.grantee_principal,
                        g.operations.join(","),
                        g.retiring_principal.as_deref().unwrap_or("-"),
                        constraint_text(g)
                    ));
                }
                t
            })
        }
        GrantCommand::Retire(a) => {
            ks.retire_grant(&a.key, &a.grant_id)?;
            out.emit(
                json!({"key": a.key, "grant_id": a.grant_id, "retired": true}),
                || format!("Retired grant {} of {}.", a.grant_id, a.key),
            )
        }
        GrantCommand::Revoke(a) => {
            ks.revoke_grant(&a.key, &a.grant_id)?;
            out.emit(
                json!({"key": a.key, "grant_id": a.grant_id, "revoked": true}),
                || format!("Revoked grant {} of {}.", a.grant_id, a.key),
            )
        }
    }
}

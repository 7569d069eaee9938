"""Access control through Python (issue 16): principals, key policies with
encryption-context conditions, explicit deny, the lockout check, the
store's default policy, grants with constraints, retire and revoke, the
audit record of a denial, and a caching materials manager that does not
serve a principal that lost the key. The scenarios of core/tests/access.rs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import sealbox

ADMIN_ONLY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Admin",
            "Effect": "Allow",
            "Principal": {"Sealbox": ["admin"]},
            "Action": "kms:*",
            "Resource": "*",
        }
    ],
}

# admin: everything; app: the data plane for tenant t1 only, never for an
# "export" purpose; auditor: DescribeKey.
SPLIT = """{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "Admin", "Effect": "Allow", "Principal": {"Sealbox": "admin"},
     "Action": "kms:*", "Resource": "*"},
    {"Sid": "AppDataPlane", "Effect": "Allow", "Principal": {"Sealbox": ["app"]},
     "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
     "Resource": "*",
     "Condition": {"StringEquals": {"kms:EncryptionContext:tenant": "t1"}}},
    {"Sid": "NoExport", "Effect": "Deny", "Principal": "*",
     "Action": "kms:Decrypt", "Resource": "*",
     "Condition": {"StringEquals": {"kms:EncryptionContext:purpose": "export"}}},
    {"Sid": "Auditor", "Effect": "Allow", "Principal": {"Sealbox": "auditor"},
     "Action": "kms:DescribeKey", "Resource": "*"}
  ]
}"""


class Trail:
    """Every audit event of a store, whichever handle ran the operation."""

    def __init__(self) -> None:
        self.events: list[sealbox.AuditEvent] = []

    def last(self) -> sealbox.AuditEvent:
        return self.events[-1]


@pytest.fixture
def admin(tmp_path: Path) -> tuple[sealbox.KeyStore, Trail]:
    trail = Trail()
    ks = sealbox.KeyStore.open(
        tmp_path / "keys.db", root_key=sealbox.RootKey.generate(), principal="admin", audit_callback=trail.events.append
    )
    return ks, trail


def denied(call: Callable[[], object], trail: Trail, why: str) -> None:
    """`call` raises AccessDenied naming `why`, and the last audit record is
    a denial that names it too."""
    with pytest.raises(sealbox.AccessDenied) as e:
        call()
    assert why in str(e.value), (str(e.value), why)
    ev = trail.last()
    assert ev.outcome == "denied" and ev.outcome == sealbox.Outcome.DENIED, ev
    assert ev.error is not None and why in ev.error, ev


def test_principals_and_handles(admin: tuple[sealbox.KeyStore, Trail]) -> None:
    ks, trail = admin
    assert ks.principal == "admin"
    app = ks.as_principal("app")
    assert isinstance(app, sealbox.KeyStore) and app.principal == "app"
    assert ks.principal == "admin"
    # The same store: a key made through one handle is seen by the other,
    # and the audit callback added on one sees both.
    k = app.create_key().key_id
    assert ks.describe_key(k).key_id == k
    assert trail.last().principal == "admin" and trail.events[-2].principal == "app"
    for bad in ["", "x" * 257, "a\nb"]:
        with pytest.raises(sealbox.InvalidArgument):
            ks.as_principal(bad)


def test_the_data_plane_follows_the_policy_and_its_conditions(admin: tuple[sealbox.KeyStore, Trail]) -> None:
    ks, trail = admin
    key = ks.create_key(policy=SPLIT).key_id
    app = ks.as_principal("app")
    t1, t2 = {"tenant": "t1"}, {"tenant": "t2"}
    # Inside the condition: allowed, and the record names the principal.
    blob = app.encrypt(key, b"card", encryption_context=t1)
    assert trail.last().principal == "app" and trail.last().outcome == "allowed"
    assert app.decrypt(blob, encryption_context=t1) == b"card"
    with app.generate_data_key(key, encryption_context=t1) as dk:
        assert len(dk.plaintext) == 32
    app.generate_data_key_without_plaintext(key, encryption_context=t1)
    # Outside it: no statement allows.
    denied(lambda: app.encrypt(key, b"x", encryption_context=t2), trail, "no statement or grant allows kms:Encrypt")
    denied(lambda: app.generate_data_key(key), trail, "kms:GenerateDataKey")
    blob2 = ks.encrypt(key, b"other tenant", encryption_context=t2)
    denied(lambda: app.decrypt(blob2, encryption_context=t2), trail, "kms:Decrypt")
    # Explicit deny wins over the allow, for the admin too.
    export = {"tenant": "t1", "purpose": "export"}
    b2 = app.encrypt(key, b"x", encryption_context=export)
    denied(lambda: app.decrypt(b2, encryption_context=export), trail, "NoExport")
    denied(lambda: ks.decrypt(b2, encryption_context=export), trail, "NoExport")
    # Management is not the app's; the auditor may only describe.
    denied(lambda: app.disable_key(key), trail, "kms:DisableKey")
    denied(lambda: app.describe_key(key), trail, "kms:DescribeKey")
    auditor = ks.as_principal("auditor")
    assert auditor.describe_key(key).enabled
    denied(lambda: auditor.decrypt(blob, encryption_context=t1), trail, "kms:Decrypt")
    # A denied request changed nothing.
    assert ks.describe_key(key).key_state is sealbox.KeyState.ENABLED
    denied(lambda: ks.as_principal("nobody").decrypt(blob, encryption_context=t1), trail, '"nobody"')


def test_the_audit_log_records_a_denial_with_the_deciding_statement(tmp_path: Path) -> None:
    ks = sealbox.KeyStore.open(tmp_path / "k.db", root_key=sealbox.RootKey.generate(), principal="admin")
    key = ks.create_key(policy=SPLIT).key_id
    export = {"tenant": "t1", "purpose": "export"}
    blob = ks.encrypt(key, b"x", encryption_context=export)
    with pytest.raises(sealbox.AccessDenied):
        ks.as_principal("app").decrypt(blob, encryption_context=export)
    records = [json.loads(line) for _, line in ks.audit_records()]
    last = records[-1]
    assert last["operation"] == "Decrypt" and last["outcome"] == "denied", last
    assert last["principal"] == "app" and last["key_id"] == key
    assert "NoExport" in last["error"]
    assert ks.verify_audit_log().ok


# (action, what it runs, as a function of the fixture's keys and values)
Op = Callable[[sealbox.KeyStore], object]


def _operations(ks: sealbox.KeyStore) -> tuple[list[tuple[str, Op]], str]:
    pol = ADMIN_ONLY
    aes = ks.create_key(policy=pol).key_id
    ecc = ks.create_key(spec="ECC_NIST_P256", policy=pol).key_id
    rsa = ks.create_key(spec="RSA_2048", usage="ENCRYPT_DECRYPT", policy=pol).key_id
    hmac = ks.create_key(spec="HMAC_256", policy=pol).key_id
    other = ks.create_key(policy=pol).key_id
    c = {"a": "b"}
    blob = ks.encrypt(aes, b"x", encryption_context=c)
    rsa_ct = ks.encrypt(rsa, b"x", algorithm="RSAES_OAEP_SHA_256")
    sig = ks.sign(ecc, b"m", algorithm="ECDSA_SHA_256")
    mac = ks.generate_mac(hmac, b"m", algorithm="HMAC_SHA_256")
    revokable = ks.create_grant(aes, "someone", ["Decrypt"])
    retirable = ks.create_grant(aes, "someone", ["Encrypt"])
    ops: list[tuple[str, Op]] = [
        ("kms:DescribeKey", lambda k: k.describe_key(aes)),
        ("kms:DisableKey", lambda k: k.disable_key(other)),
        ("kms:EnableKey", lambda k: k.enable_key(other)),
        ("kms:ScheduleKeyDeletion", lambda k: k.schedule_key_deletion(other, 7)),
        ("kms:CancelKeyDeletion", lambda k: k.cancel_key_deletion(other)),
        ("kms:RotateKeyOnDemand", lambda k: k.rotate_key(aes)),
        ("kms:EnableKeyRotation", lambda k: k.enable_key_rotation(aes, 90)),
        ("kms:DisableKeyRotation", lambda k: k.disable_key_rotation(aes)),
        ("kms:UpdateKeyDescription", lambda k: k.update_key_description(aes, "d")),
        ("kms:TagResource", lambda k: k.tag_key(aes, {"t": "v"})),
        ("kms:UntagResource", lambda k: k.untag_key(aes, ["t"])),
        ("kms:CreateAlias", lambda k: k.create_alias("alias/ops", aes)),
        ("kms:UpdateAlias", lambda k: k.update_alias("alias/ops", other)),
        ("kms:DeleteAlias", lambda k: k.delete_alias("alias/ops")),
        ("kms:Encrypt", lambda k: k.encrypt(aes, b"x", encryption_context=c)),
        ("kms:Encrypt", lambda k: k.encrypt(rsa, b"x", algorithm="RSAES_OAEP_SHA_256")),
        ("kms:Decrypt", lambda k: k.decrypt(blob, encryption_context=c)),
        ("kms:Decrypt", lambda k: k.decrypt(rsa_ct, key_id=rsa, algorithm="RSAES_OAEP_SHA_256")),
        ("kms:ReEncryptFrom", lambda k: k.re_encrypt(blob, aes, source_encryption_context=c)),
        ("kms:GenerateDataKey", lambda k: k.generate_data_key(aes, encryption_context=c)),
        (
            "kms:GenerateDataKeyWithoutPlaintext",
            lambda k: k.generate_data_key_without_plaintext(aes, encryption_context=c),
        ),
        ("kms:Sign", lambda k: k.sign(ecc, b"m", algorithm="ECDSA_SHA_256")),
        ("kms:Verify", lambda k: k.verify(ecc, b"m", sig, algorithm="ECDSA_SHA_256")),
        ("kms:GetPublicKey", lambda k: k.get_public_key(ecc)),
        ("kms:GetPublicKey", lambda k: k.get_public_key_pem(ecc)),
        ("kms:GenerateMac", lambda k: k.generate_mac(hmac, b"m", algorithm="HMAC_SHA_256")),
        ("kms:VerifyMac", lambda k: k.verify_mac(hmac, b"m", mac, algorithm="HMAC_SHA_256")),
        ("kms:GetKeyPolicy", lambda k: k.get_key_policy(aes)),
        ("kms:PutKeyPolicy", lambda k: k.put_key_policy(aes, ADMIN_ONLY)),
        ("kms:ListGrants", lambda k: k.list_grants(aes)),
        ("kms:CreateGrant", lambda k: k.create_grant(aes, "x", ["Encrypt"])),
        ("kms:RevokeGrant", lambda k: k.revoke_grant(aes, revokable)),
        ("kms:RetireGrant", lambda k: k.retire_grant(aes, retirable)),
    ]
    return ops, other


def test_every_operation_has_an_allowed_and_a_denied_case(admin: tuple[sealbox.KeyStore, Trail]) -> None:
    ks, trail = admin
    ops, other = _operations(ks)
    nobody = ks.as_principal("nobody")
    for action, op in ops:
        # Denied first: nothing happens, the record says why and for whom.
        count = len(trail.events)
        denied(lambda: op(nobody), trail, action)
        assert len(trail.events) == count + 1, action
        assert trail.last().principal == "nobody", action
        # Then allowed for the admin.
        op(ks)
        assert trail.last().outcome == "allowed", action
        assert trail.last().principal == "admin", action
    # CreateKey and ListKeys are not governed by a key's policy.
    nobody.create_key()
    assert len(nobody.list_keys()) == 6
    # The admin's own sequence ended with `other` disabled (cancelled deletion).
    assert ks.describe_key(other).key_state is sealbox.KeyState.DISABLED


def test_lockout_check_bad_policies_and_the_default_policy(admin: tuple[sealbox.KeyStore, Trail]) -> None:
    ks, trail = admin
    key = ks.create_key(policy=json.loads(SPLIT)).key_id
    assert ks.get_key_policy(key)["Statement"][0]["Sid"] == "Admin"
    assert "AppDataPlane" in ks.get_key_policy(key, as_text=True)
    # A policy that would leave the admin unable to change it is refused...
    app_only = SPLIT.replace('"Principal": {"Sealbox": "admin"}', '"Principal": {"Sealbox": "app"}')
    with pytest.raises(sealbox.InvalidArgument, match="bypass_policy_lockout_safety_check"):
        ks.put_key_policy(key, app_only)
    with pytest.raises(sealbox.InvalidArgument, match="bypass_policy_lockout_safety_check"):
        ks.create_key(policy=app_only)
    assert "Admin" in json.dumps(ks.get_key_policy(key))
    # ...unless the caller says so; then the admin is locked out.
    ks.put_key_policy(key, app_only, bypass_policy_lockout_safety_check=True)
    denied(lambda: ks.get_key_policy(key), trail, "kms:GetKeyPolicy")
    app = ks.as_principal("app")
    assert app.get_key_policy(key)["Statement"][0]["Principal"] == {"Sealbox": "app"}
    # A bad policy is an invalid argument and changes nothing.
    with pytest.raises(sealbox.InvalidArgument):
        app.put_key_policy(key, '{"Statement": 3}')
    with pytest.raises(sealbox.InvalidArgument):
        app.put_key_policy(key, "not json")
    with pytest.raises(TypeError):
        app.put_key_policy(key, 42)  # type: ignore[arg-type]
    assert app.get_key_policy(key, as_text=True) == app.get_key_policy(key, as_text=True)
    assert "AppDataPlane" in app.get_key_policy(key, as_text=True)
    # A key made without a policy allows everyone (the behaviour before policies).
    open_key = ks.create_key().key_id
    ks.as_principal("nobody").encrypt(open_key, b"x")
    assert ks.get_key_policy(open_key)["Statement"][0]["Principal"] == "*"


def test_a_store_whose_default_policy_is_creator(tmp_path: Path) -> None:
    root = sealbox.RootKey.generate()
    db = tmp_path / "keys.db"
    with pytest.raises(sealbox.InvalidArgument):
        sealbox.KeyStore.open(db, root_key=root, default_policy="everyone")  # type: ignore[arg-type]
    team_a = sealbox.KeyStore.open(db, root_key=root, principal="team-a", default_policy="creator")
    k = team_a.create_key().key_id
    team_a.encrypt(k, b"x")
    with pytest.raises(sealbox.AccessDenied):
        team_a.as_principal("team-b").encrypt(k, b"x")
    # The setting is the store's: another handle, opened without it, follows it.
    team_b = sealbox.KeyStore.open(db, root_key=root, principal="team-b")
    kb = team_b.create_key().key_id
    team_b.encrypt(kb, b"x")
    with pytest.raises(sealbox.AccessDenied):
        team_b.as_principal("team-a").encrypt(kb, b"x")
    # Until a handle sets it back: new keys allow everyone again.
    again = sealbox.KeyStore.open(db, root_key=root, principal="team-b", default_policy="allow-all")
    kc = again.create_key().key_id
    again.as_principal("team-a").encrypt(kc, b"x")


def test_grants_allow_only_inside_their_constraints_until_retired_or_revoked(
    admin: tuple[sealbox.KeyStore, Trail],
) -> None:
    ks, trail = admin
    key = ks.create_key(policy=ADMIN_ONLY).key_id
    batch = ks.as_principal("batch")
    t1 = {"tenant": "t1", "job": "nightly"}
    t2 = {"tenant": "t2"}
    b1 = ks.encrypt(key, b"one", encryption_context=t1)
    b2 = ks.encrypt(key, b"two", encryption_context=t2)
    denied(lambda: batch.decrypt(b1, encryption_context=t1), trail, "no statement or grant")
    # Subset: the context must contain tenant=t1.
    subset = ks.create_grant(
        key, "batch", ["Decrypt"], retiring_principal="ops", name="nightly", encryption_context_subset={"tenant": "t1"}
    )
    assert batch.decrypt(b1, encryption_context=t1) == b"one"
    assert trail.last().outcome == "allowed"
    denied(lambda: batch.decrypt(b2, encryption_context=t2), trail, "no statement or grant")
    denied(lambda: batch.encrypt(key, b"x", encryption_context=t1), trail, "kms:Encrypt")
    # Equals: exactly that context.
    equals = ks.create_grant(key, "batch", ("Encrypt",), encryption_context_equals=t2)
    batch.encrypt(key, b"x", encryption_context=t2)
    denied(lambda: batch.encrypt(key, b"x", encryption_context={"tenant": "t2", "more": "1"}), trail, "kms:Encrypt")
    grants = {g.grant_id: g for g in ks.list_grants(key)}
    assert sealbox.Operation(trail.last().operation) is sealbox.Operation.LIST_GRANTS
    assert set(grants) == {subset, equals}
    g = grants[subset]
    assert g.key_id == key and g.grantee_principal == "batch" and g.operations == ("Decrypt",)
    assert g.retiring_principal == "ops" and g.name == "nightly" and g.issuing_principal == "admin"
    assert g.constraints == sealbox.GrantConstraints(None, {"tenant": "t1"})
    assert grants[equals].constraints == sealbox.GrantConstraints(t2, None)
    assert g.created_at.tzinfo is not None and g.created_at.year >= 2024
    assert g.as_dict()["created_at"].endswith("Z") and json.dumps(g.as_dict())
    # Retire: not by the grantee (the grant lacks RetireGrant), by the
    # retiring principal; it takes effect for the next call.
    denied(lambda: batch.retire_grant(key, subset), trail, subset)
    ks.as_principal("ops").retire_grant(key, subset)
    denied(lambda: batch.decrypt(b1, encryption_context=t1), trail, "no statement or grant")
    # Revoke: by the admin; the next call is refused.
    ks.revoke_grant(key, equals)
    denied(lambda: batch.encrypt(key, b"x", encryption_context=t2), trail, "kms:Encrypt")
    assert ks.list_grants(key) == []
    with pytest.raises(sealbox.KeyNotFound):
        ks.revoke_grant(key, equals)
    # Malformed grants are refused and make nothing.
    with pytest.raises(sealbox.InvalidArgument):
        ks.create_grant(key, "x", ["Launch"])
    with pytest.raises(sealbox.InvalidArgument):
        ks.create_grant(key, "x", ["Decrypt"], encryption_context_equals=t2, encryption_context_subset=t2)
    with pytest.raises(TypeError):
        ks.create_grant(key, "x", "Decrypt")
    assert ks.list_grants(key) == []


def test_a_caching_cmm_does_not_serve_a_principal_that_lost_the_key(admin: tuple[sealbox.KeyStore, Trail]) -> None:
    ks, _ = admin
    key = ks.create_key(policy=SPLIT).key_id
    app = ks.as_principal("app")
    cmm = sealbox.CachingMaterialsManager(app.keyring(key), max_age=600.0)
    t1 = {"tenant": "t1"}
    m1 = sealbox.encrypt(b"one", materials_manager=cmm, encryption_context=t1)
    sealbox.encrypt(b"two", materials_manager=cmm, encryption_context=t1)
    assert app.operation_count("GenerateDataKey") == 1, "the second came from the cache"
    assert cmm.hits == 1
    assert sealbox.decrypt(m1, materials_manager=cmm).plaintext == b"one"
    # The admin takes the app's statement away: the cache must not serve it.
    ks.put_key_policy(key, ADMIN_ONLY)
    with pytest.raises(sealbox.AccessDenied):
        sealbox.encrypt(b"three", materials_manager=cmm, encryption_context=t1)
    with pytest.raises(sealbox.DecryptionFailed):
        sealbox.decrypt(m1, materials_manager=cmm)

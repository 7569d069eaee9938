# Type stubs of the extension module sealbox._native (bindings/python/src).
# Import `sealbox`, not this module: the package wraps it.

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any, final

from typing_extensions import Buffer

from ._enums import AlgorithmSuite

_Path = str | os.PathLike[str]
_Context = dict[str, str]

RELEASE_THRESHOLD: int
# Defaults, owned by the core (one named constant each).
DEFAULT_FRAME_LENGTH: int
DEFAULT_MAX_ENCRYPTED_DATA_KEYS: int
DEFAULT_MAX_SESSIONS: int
DEFAULT_DELETION_WINDOW_DAYS: int
DEFAULT_ROTATION_PERIOD_DAYS: int

__version__: str

def build_info() -> tuple[str, str, bool]: ...
def _error_kinds() -> list[tuple[int, str]]: ...
def _raise_kind_for_test(code: int) -> None: ...

@final
class RootKey:
    @staticmethod
    def from_bytes(key: Buffer) -> RootKey: ...
    @staticmethod
    def from_file(path: _Path) -> RootKey: ...
    @staticmethod
    def from_env(name: str) -> RootKey: ...
    @staticmethod
    def generate() -> RootKey: ...
    def write_new_file(self, path: _Path) -> None: ...

@final
class Pkcs11:
    def __init__(
        self,
        module: _Path | None = None,
        *,
        token_label: str | None = None,
        token_serial: str | None = None,
        pin: str | Buffer | None = None,
        pin_env: str | None = None,
        pin_file: _Path | None = None,
        max_sessions: int = ...,
    ) -> None: ...
    @property
    def module(self) -> str: ...
    @property
    def token_label(self) -> str | None: ...
    @property
    def token_serial(self) -> str | None: ...

_Metadata = dict[str, Any]

@final
class KeyStore:
    @staticmethod
    def open(
        path: _Path,
        *,
        root_key: RootKey | None = None,
        pkcs11: Pkcs11 | None = None,
        audit_log: _Path | None = None,
        audit_sync: bool = False,
        principal: str | None = None,
        new_audit_segment: str | None = None,
        metadata_cache_ttl: float | None = None,
        default_policy: str | None = None,
    ) -> KeyStore: ...
    def add_audit_callback(self, callback: Callable[[dict[str, Any]], object]) -> None: ...
    @property
    def backend_kind(self) -> str: ...
    @property
    def audit_log_path(self) -> os.PathLike[str] | None: ...
    @property
    def audit_log_location(self) -> str | None: ...
    @property
    def metadata_cache_ttl(self) -> float: ...
    def audit_records(self, after: int | None = None, limit: int = 1000) -> list[tuple[int, str]]: ...
    def operation_count(self, operation: str) -> int: ...
    def resolve_key_id(self, key_id: str) -> str: ...
    def create_key(
        self,
        *,
        key_spec: str = "AES_256",
        key_usage: str | None = None,
        alias: str | None = None,
        description: str = "",
        tags: dict[str, str] | None = None,
        rotation_period_days: int | None = None,
        policy: str | None = None,
        bypass_policy_lockout_safety_check: bool = False,
    ) -> _Metadata: ...
    def import_key(
        self,
        material: Buffer,
        *,
        key_spec: str = "AES_256",
        key_usage: str | None = None,
        alias: str | None = None,
        description: str = "",
        tags: dict[str, str] | None = None,
        valid_to: int | None = None,
    ) -> _Metadata: ...
    def import_key_material(self, key_id: str, material: Buffer, valid_to: int | None = None) -> _Metadata: ...
    def delete_imported_key_material(self, key_id: str) -> _Metadata: ...
    def purge_expired_material(self) -> int: ...
    def describe_key(self, key_id: str) -> _Metadata: ...
    def list_keys_page(self, limit: int = 100, marker: str | None = None) -> tuple[list[_Metadata], str | None]: ...
    def list_keys(self) -> list[_Metadata]: ...
    def enable_key(self, key_id: str) -> _Metadata: ...
    def disable_key(self, key_id: str) -> _Metadata: ...
    def schedule_key_deletion(self, key_id: str, pending_window_days: int = 30) -> _Metadata: ...
    def cancel_key_deletion(self, key_id: str) -> _Metadata: ...
    def purge_expired_keys(self) -> list[str]: ...
    def rotate_key(self, key_id: str) -> int: ...
    def apply_due_rotations(self) -> int: ...
    def enable_key_rotation(self, key_id: str, rotation_period_days: int = 365) -> _Metadata: ...
    def disable_key_rotation(self, key_id: str) -> _Metadata: ...
    def update_key_description(self, key_id: str, description: str) -> None: ...
    def create_alias(self, alias: str, key_id: str) -> None: ...
    def update_alias(self, alias: str, key_id: str) -> None: ...
    def delete_alias(self, alias: str) -> None: ...
    def list_aliases(self) -> dict[str, str]: ...
    def tag_key(self, key_id: str, tags: dict[str, str]) -> None: ...
    def untag_key(self, key_id: str, tag_keys: list[str]) -> None: ...
    def encrypt(
        self,
        key_id: str,
        plaintext: Buffer,
        *,
        encryption_context: dict[str, str] | None = None,
        algorithm: str | None = None,
    ) -> bytes: ...
    def decrypt(
        self,
        ciphertext: Buffer,
        *,
        encryption_context: dict[str, str] | None = None,
        key_id: str | None = None,
        algorithm: str | None = None,
    ) -> bytes: ...
    def re_encrypt(
        self,
        ciphertext: Buffer,
        destination_key_id: str,
        *,
        source_encryption_context: dict[str, str] | None = None,
        destination_encryption_context: dict[str, str] | None = None,
    ) -> bytes: ...
    def generate_data_key(
        self,
        key_id: str,
        *,
        encryption_context: dict[str, str] | None = None,
        number_of_bytes: int = 32,
    ) -> tuple[bytearray, bytes, str, int]: ...
    def decrypt_for_recipient(
        self, ciphertext: Buffer, recipient_public_key: bytes, *, encryption_context: dict[str, str] | None = None
    ) -> bytes: ...
    def generate_data_key_for_recipient(
        self,
        key_id: str,
        recipient_public_key: bytes,
        *,
        encryption_context: dict[str, str] | None = None,
        number_of_bytes: int = 32,
    ) -> tuple[bytes, bytes, str, int]: ...
    def generate_data_key_without_plaintext(
        self,
        key_id: str,
        *,
        encryption_context: dict[str, str] | None = None,
        number_of_bytes: int = 32,
    ) -> bytes: ...
    def sign(self, key_id: str, message: Buffer, *, algorithm: str, message_type: str = "RAW") -> bytes: ...
    def verify(
        self, key_id: str, message: Buffer, signature: Buffer, *, algorithm: str, message_type: str = "RAW"
    ) -> bool: ...
    def get_public_key(self, key_id: str) -> bytes: ...
    def get_public_key_pem(self, key_id: str) -> str: ...
    def derive_shared_secret(self, key_id: str, peer_public_key: Buffer, *, algorithm: str = "ECDH") -> bytearray: ...
    def generate_mac(self, key_id: str, message: Buffer, *, algorithm: str) -> bytes: ...
    def verify_mac(self, key_id: str, message: Buffer, mac: Buffer, *, algorithm: str) -> bool: ...
    def generate_random(self, number_of_bytes: int) -> bytes: ...
    def verify_audit_log(self) -> tuple[int, tuple[int, str] | None]: ...
    @property
    def principal(self) -> str: ...
    def as_principal(self, principal: str) -> KeyStore: ...
    def put_key_policy(self, key_id: str, policy: str, *, bypass_policy_lockout_safety_check: bool = False) -> None: ...
    def get_key_policy(self, key_id: str) -> str: ...
    def create_grant(
        self,
        key_id: str,
        grantee_principal: str,
        operations: list[str],
        *,
        retiring_principal: str | None = None,
        name: str | None = None,
        encryption_context_equals: dict[str, str] | None = None,
        encryption_context_subset: dict[str, str] | None = None,
    ) -> str: ...
    def list_grants(self, key_id: str) -> list[dict[str, Any]]: ...
    def retire_grant(self, key_id: str, grant_id: str) -> None: ...
    def revoke_grant(self, key_id: str, grant_id: str) -> None: ...

class Keyring: ...

@final
class RawAesKeyring(Keyring):
    def __init__(self, key_namespace: str, key_name: str, wrapping_key: Buffer) -> None: ...

@final
class RawRsaKeyring(Keyring):
    def __init__(
        self,
        key_namespace: str,
        key_name: str,
        *,
        public_key_pem: str | Buffer | None = None,
        private_key_pem: str | Buffer | None = None,
        padding: str = "OAEP_SHA256_MGF1",
    ) -> None: ...

@final
class RawEcdhKeyring(Keyring):
    def __init__(
        self,
        scheme: str,
        curve: str,
        *,
        private_key: str | Buffer | None = None,
        public_key: str | Buffer | None = None,
    ) -> None: ...

@final
class PqKeyring(Keyring):
    def __init__(self, *, public_key: Buffer | None = None, private_key: Buffer | None = None) -> None: ...
    @staticmethod
    def generate_key_pair() -> tuple[bytearray, bytes]: ...
    @property
    def public_key(self) -> bytes: ...
    @property
    def key_id(self) -> bytes: ...

@final
class KeyStoreKeyring(Keyring):
    def __init__(self, key_store: object, key_id: str) -> None: ...

@final
class MultiKeyring(Keyring):
    def __init__(self, generator: Keyring | None = None, children: Sequence[Keyring] = ()) -> None: ...

class MaterialsManager: ...

@final
class DefaultMaterialsManager(MaterialsManager):
    def __init__(self, keyring: Keyring) -> None: ...

@final
class CachingMaterialsManager(MaterialsManager):
    def __init__(
        self,
        source: Keyring | MaterialsManager,
        *,
        max_age: float,
        max_messages: int | None = None,
        max_bytes: int | None = None,
        capacity: int = 1000,
        partition: str | None = None,
    ) -> None: ...
    @property
    def hits(self) -> int: ...
    @property
    def misses(self) -> int: ...
    def clear(self) -> None: ...

@final
class EncryptOptions:
    def __init__(
        self,
        *,
        keyring: Keyring | None = None,
        materials_manager: MaterialsManager | None = None,
        encryption_context: Mapping[str, str] | None = None,
        algorithm_suite: int | None = None,
        frame_length: int = ...,
        commitment_policy: str | None = None,
        max_encrypted_data_keys: int | None = ...,
        required_encryption_context_keys: Sequence[str] | None = None,
        threads: int | None = None,
    ) -> None: ...

@final
class DecryptOptions:
    def __init__(
        self,
        *,
        keyring: Keyring | None = None,
        materials_manager: MaterialsManager | None = None,
        encryption_context: Mapping[str, str] | None = None,
        commitment_policy: str | None = None,
        max_encrypted_data_keys: int | None = ...,
        max_body_size: int | None = None,
        threads: int | None = None,
    ) -> None: ...

def encrypt(
    plaintext: Buffer,
    keyring: Keyring | None,
    materials_manager: MaterialsManager | None,
    encryption_context: Mapping[str, str] | None,
    algorithm_suite: int | None,
    frame_length: int,
    commitment_policy: str | None,
    max_encrypted_data_keys: int | None,
    required_encryption_context_keys: Sequence[str] | None,
    threads: int | None,
    /,
) -> bytes: ...

@final
class DecryptResult:
    __match_args__ = ("plaintext", "encryption_context", "algorithm_suite")
    def __init__(self, plaintext: bytes, encryption_context: dict[str, str], algorithm_suite: AlgorithmSuite) -> None: ...
    @property
    def plaintext(self) -> bytes: ...
    @property
    def encryption_context(self) -> dict[str, str]: ...
    @property
    def algorithm_suite(self) -> AlgorithmSuite: ...

def decrypt(
    ciphertext: Buffer,
    keyring: Keyring | None,
    materials_manager: MaterialsManager | None,
    encryption_context: Mapping[str, str] | None,
    commitment_policy: str | None,
    max_encrypted_data_keys: int | None,
    max_body_size: int | None,
    threads: int | None,
    /,
) -> DecryptResult: ...

class StreamEncryptor:
    def __init__(self, options: EncryptOptions, plaintext_length: int | None = None) -> None: ...
    def update(self, data: Buffer) -> bytes: ...
    def finish(self) -> bytes: ...
    @property
    def algorithm_suite(self) -> int: ...

class StreamDecryptor:
    def __init__(self, options: DecryptOptions) -> None: ...
    def update(self, data: Buffer) -> bytes: ...
    def finish(self) -> bytes: ...
    @property
    def encryption_context(self) -> _Context | None: ...
    @property
    def algorithm_suite(self) -> int | None: ...

_RewrapSummary = tuple[int, _Context, int, int, tuple[int, int], int, bool]

def rewrap(
    message: Buffer,
    options: DecryptOptions,
    encrypt_with: Keyring,
    max_encrypted_data_keys: int | None = ...,
) -> tuple[bytes, _RewrapSummary]: ...

class StreamRewrapper:
    def __init__(
        self, options: DecryptOptions, encrypt_with: Keyring, max_encrypted_data_keys: int | None = ...
    ) -> None: ...
    def update(self, data: Buffer) -> bytes: ...
    def finish(self) -> _RewrapSummary: ...

def _panic_for_test() -> None: ...

# -- secrets (issue 21) -------------------------------------------------------

def secret_create(
    ks: KeyStore,
    name: str,
    value: str | Buffer | None = None,
    *,
    key_id: str | None = None,
    description: str = "",
    tags: dict[str, str] | None = None,
    client_request_token: str | None = None,
) -> tuple[str, str | None, list[str]]: ...
def secret_get(
    ks: KeyStore, name: str, version_id: str | None = None, version_stage: str | None = None
) -> tuple[str, str, list[str], int, str | bytes]: ...
def secret_put(
    ks: KeyStore,
    name: str,
    value: str | Buffer,
    *,
    version_stages: list[str] | None = None,
    client_request_token: str | None = None,
) -> tuple[str, str, list[str]]: ...
def secret_update_stage(
    ks: KeyStore,
    name: str,
    stage: str,
    move_to_version_id: str | None = None,
    remove_from_version_id: str | None = None,
) -> list[dict[str, Any]]: ...
def secret_list(
    ks: KeyStore, limit: int = 100, marker: str | None = None, include_planned_deletion: bool = False
) -> tuple[list[dict[str, Any]], str | None]: ...
def secret_list_versions(ks: KeyStore, name: str, include_deprecated: bool = False) -> list[dict[str, Any]]: ...
def secret_describe(ks: KeyStore, name: str) -> dict[str, Any]: ...
def secret_delete(
    ks: KeyStore, name: str, recovery_window_days: int | None = None, force_delete_without_recovery: bool = False
) -> int: ...
def secret_restore(ks: KeyStore, name: str) -> dict[str, Any]: ...
def secret_tag(ks: KeyStore, name: str, tags: dict[str, str]) -> None: ...
def secret_untag(ks: KeyStore, name: str, tag_keys: list[str]) -> None: ...
def secret_put_policy(
    ks: KeyStore, name: str, policy: str, bypass_policy_lockout_safety_check: bool = False
) -> None: ...
def secret_get_policy(ks: KeyStore, name: str) -> str | None: ...
def secret_delete_policy(ks: KeyStore, name: str) -> None: ...
def secret_update(
    ks: KeyStore, name: str, *, description: str | None = None, key_id: str | None = None
) -> dict[str, Any]: ...
def secret_rotate(ks: KeyStore, name: str, adapter: object) -> tuple[str, str, str]: ...
def purge_expired_secrets(ks: KeyStore) -> list[str]: ...
def random_password(
    ks: KeyStore,
    length: int = 32,
    *,
    exclude_characters: str = "",
    exclude_numbers: bool = False,
    exclude_punctuation: bool = False,
    exclude_uppercase: bool = False,
    exclude_lowercase: bool = False,
    include_space: bool = False,
    require_each_included_type: bool = True,
) -> str: ...

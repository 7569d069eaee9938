'use strict'
// The AWS Encryption SDK for JavaScript (@aws-crypto/client-node) as the
// interop test and the bench use it: one client (commitment required both
// ways), its identifiers of the two suites sealbox writes by default, and
// its raw AES keyring.

const {
  AlgorithmSuiteIdentifier,
  CommitmentPolicy,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
  buildClient,
} = require('@aws-crypto/client-node')

const aws = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)

/** The AWS SDK's identifier of each suite ID. */
const AWS_SUITES = {
  0x0478: AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY,
  0x0578: AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY_ECDSA_P384,
}

/** The AWS SDK's raw AES keyring over the 32-byte `wrappingKey`. */
function awsAesKeyring(keyNamespace, keyName, wrappingKey) {
  return new RawAesKeyringNode({
    keyNamespace,
    keyName,
    unencryptedMasterKey: new Uint8Array(wrappingKey),
    wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
    // Binds the context in UTF-8 byte order, as the specification says.
    utf8Sorting: true,
  })
}

module.exports = { aws, AWS_SUITES, awsAesKeyring }

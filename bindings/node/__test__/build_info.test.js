'use strict'
// One version for every package (issue 20): the addon reports the
// workspace version of Cargo.toml, package.json says the same, and the
// crypto provider and FIPS mode are those of the default build.

const { describe, it } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const { sealbox } = require('./helpers')

const root = path.join(__dirname, '..', '..', '..')

function workspaceVersion() {
  const toml = fs.readFileSync(path.join(root, 'Cargo.toml'), 'utf8')
  const section = toml.split('[workspace.package]')[1]
  return /^version = "([^"]+)"/m.exec(section)[1]
}

describe('buildInfo', () => {
  it('reports the one workspace version, the provider and the FIPS mode', () => {
    const info = sealbox.buildInfo()
    assert.equal(info.version, workspaceVersion())
    assert.equal(sealbox.version, info.version)
    assert.equal(require('../package.json').version, info.version)
    assert.equal(info.cryptoProvider, process.env.SEALBOX_EXPECT_PROVIDER || 'aws-lc')
    assert.equal(info.fipsMode, info.cryptoProvider.includes('FIPS'))
    assert.deepEqual(Object.keys(info).sort(), ['cryptoProvider', 'fipsMode', 'version'])
  })
})

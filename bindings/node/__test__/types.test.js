'use strict'
// The TypeScript types (hand-written sealbox.d.ts over the generated
// index.d.ts) against the real addon: __test__/types/usage.ts must compile
// under tsc --strict (its `@ts-expect-error` misuse must not), and the
// compiled code must run.

const { describe, it } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

describe('TypeScript types', () => {
  it('compile strictly, reject misuse, and describe what the addon does', async () => {
    // Two levels below the package, so that the compiled `require("../..")`
    // finds the package as the source's import does.
    const out = path.join(__dirname, '..', '.types-test', String(process.pid))
    try {
      const tsc = require.resolve('typescript/bin/tsc')
      const project = path.join(__dirname, 'types')
      try {
        execFileSync(process.execPath, [tsc, '-p', project, '--noEmit', 'false', '--outDir', out], { encoding: 'utf8' })
      } catch (e) {
        assert.fail(`tsc failed:\n${e.stdout}${e.stderr}`)
      }
      const compiled = path.join(out, 'usage.js')
      const { usage } = require(compiled)
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealbox-types-run-'))
      try {
        await usage(dir)
      } finally {
        fs.rmSync(dir, { recursive: true, force: true })
      }
    } finally {
      fs.rmSync(path.dirname(out), { recursive: true, force: true })
    }
  })
})

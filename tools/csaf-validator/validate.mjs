#!/usr/bin/env node
// Validates CSAF 2.0 documents with the BSI's @secvisogram/csaf-validator-lib: the strict
// JSON schema test and every mandatory test (section 6.1). Usage:
//   node validate.mjs advisory-1.json [advisory-2.json ...]
// Prints one line per document ("ok" or the findings) and exits 1 when any document
// fails, 2 on a usage or read error. Runs offline.
import { readFile } from 'node:fs/promises'
import validateStrict from '@secvisogram/csaf-validator-lib/validateStrict.js'
import * as mandatory from '@secvisogram/csaf-validator-lib/mandatoryTests.js'
import { csaf_2_0_strict } from '@secvisogram/csaf-validator-lib/schemaTests.js'

const tests = [csaf_2_0_strict, ...Object.values(mandatory)]
const files = process.argv.slice(2)
if (files.length === 0) {
  console.error('usage: node validate.mjs FILE.json [FILE.json ...]')
  process.exit(2)
}

let failed = 0
for (const file of files) {
  let doc
  try {
    doc = JSON.parse(await readFile(file, 'utf-8'))
  } catch (error) {
    console.error(`${file}: cannot read JSON: ${error.message}`)
    process.exit(2)
  }
  const result = await validateStrict(tests, doc)
  if (result.isValid) {
    console.log(`${file}: ok (${tests.length} tests)`)
    continue
  }
  failed += 1
  for (const test of result.tests) {
    for (const error of test.errors) {
      console.log(`${file}: ${test.name}: ${error.instancePath || '/'}: ${error.message}`)
    }
  }
}
process.exit(failed ? 1 : 0)

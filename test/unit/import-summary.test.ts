import {describe, expect, it} from 'vitest'

import {importSummary} from '../../src/cli/import-report.js'

const outcome = {atomic: false, committed: true, dryRun: false, durationMs: 120, read: 3, rejected: 0, rejections: []}
const verbs = (created: number, skipped = 0) => ({changed: [['created', created], ['updated', 0]] as const, unchanged: [['skipped', skipped]] as const})

describe('the summary of an import', () => {
  it('earns a ✓ only when rows were written and none rejected', () => {
    expect(importSummary(outcome, verbs(3), 'a.csv')).toEqual({success: true, text: 'Imported a.csv in 120 ms: 3 read, 3 created, 0 updated, 0 skipped, 0 rejected.'})
    expect(importSummary({...outcome, rejected: 1}, verbs(2), 'a.csv')).toEqual({success: false, text: 'Imported a.csv in part (120 ms): 3 read, 2 created, 0 updated, 0 skipped, 1 rejected.'})
    expect(importSummary({...outcome, rejected: 1}, verbs(0, 2), 'a.csv').text).toBe('Nothing written from a.csv (120 ms): 3 read, 0 created, 0 updated, 2 skipped, 1 rejected.')
    expect(importSummary(outcome, verbs(0, 3), 'a.csv')).toEqual({success: false, text: 'Nothing changed from a.csv (120 ms): 3 read, 0 created, 0 updated, 3 skipped, 0 rejected.'})
  })

  it('says what a dry run would do, and that a rolled-back atomic run wrote nothing', () => {
    expect(importSummary({...outcome, committed: false, dryRun: true}, verbs(2, 1), 'a.csv').text).toBe(
      'Dry run of a.csv (120 ms): 3 read, would create 2, would update 0, 1 skipped, 0 rejected. Nothing was written.',
    )
    expect(importSummary({...outcome, atomic: true, committed: false, rejected: 1}, verbs(2), 'a.csv')).toEqual({
      success: false,
      text: 'Rolled back: nothing written from a.csv (--atomic, 120 ms): 3 read, 1 rejected; fix the rejected rows and run it again.',
    })
  })
})

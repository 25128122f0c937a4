import {describe, expect, it} from 'vitest'

import {heartbeatTarget, heartbeatUrl} from '../../src/notifiers/heartbeat.js'

describe('the heartbeat URL', () => {
  it('is pinged as given after a success, with /fail appended to its path after a failure, its query kept', () => {
    const base = heartbeatTarget('https://hc-ping.com/5f3c1a2b?rid=1', '--heartbeat-url')
    expect(heartbeatUrl(base, 'success').href).toBe('https://hc-ping.com/5f3c1a2b?rid=1')
    expect(heartbeatUrl(base, 'fail').href).toBe('https://hc-ping.com/5f3c1a2b/fail?rid=1')
    expect(heartbeatUrl(heartbeatTarget('https://hc-ping.com/abc/', 'x'), 'fail').href).toBe('https://hc-ping.com/abc/fail')
  })

  it('must be an http(s) URL, and an error never repeats it', () => {
    for (const value of ['hc-ping.com/secret', 'ftp://example.com/secret', 'javascript:secret']) {
      expect(() => heartbeatTarget(value, 'SYNTHEX_HEARTBEAT_URL')).toThrow(/^Invalid SYNTHEX_HEARTBEAT_URL: give the http\(s\) URL/)
      try {
        heartbeatTarget(value, 'SYNTHEX_HEARTBEAT_URL')
      } catch (error) {
        expect(String((error as Error).message)).not.toContain('secret')
      }
    }
  })
})

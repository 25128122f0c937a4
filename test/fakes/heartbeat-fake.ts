import {type Answer, HttpFake, type Received} from './http-fake.js'

/**
 * A healthchecks.io style ping endpoint (healthchecks.io/docs/http_api): `GET /ping/<uuid>`
 * signals success and `GET /ping/<uuid>/fail` failure, each answered `200 OK`; an unknown
 * check is `404 not found`.
 */
export class HeartbeatFake extends HttpFake {
  static readonly CHECK = '5f3c1a2b-9d8e-4f7a-b6c5-0e1d2c3b4a59'

  /** The pings received for the check: `success` or `fail`, in order. */
  get pings(): Array<'fail' | 'success'> {
    return this.accepted.map((request) => (request.path.endsWith('/fail') ? 'fail' : 'success'))
  }

  get pingUrl(): string {
    return `${this.url}/ping/${HeartbeatFake.CHECK}`
  }

  protected answer(request: Received): Answer {
    const path = request.path.split('?')[0]
    const known = path === `/ping/${HeartbeatFake.CHECK}` || path === `/ping/${HeartbeatFake.CHECK}/fail`
    return known ? {body: 'OK', status: 200} : {body: 'not found', status: 404}
  }
}

import {type Answer, HttpFake, type Received} from './http-fake.js'

export interface SendGridMail {
  content: Array<{type: string; value: string}>
  from: {email: string}
  personalizations: Array<{to: Array<{email: string}>}>
  subject: string
}

/**
 * SendGrid v3 `POST /v3/mail/send` (docs.sendgrid.com): `202` with an empty body and an
 * X-Message-Id; `401 {"errors":[{"message":"The provided authorization grant is invalid..."}]}`;
 * `400 {"errors":[{"message","field","help"}]}` for a malformed mail.
 */
export class SendGridFake extends HttpFake {
  static readonly API_KEY = 'SG.fake-key.0123456789abcdefghijklmnop'

  get mails(): SendGridMail[] {
    return this.accepted.map((request) => request.json as SendGridMail)
  }

  protected answer(request: Received): Answer {
    if (request.path !== '/v3/mail/send') return {status: 404}
    if (request.headers.authorization !== `Bearer ${SendGridFake.API_KEY}`) {
      return {body: JSON.stringify({errors: [{field: null, help: null, message: 'The provided authorization grant is invalid, expired, or revoked'}]}), status: 401}
    }

    const mail = request.json as Partial<SendGridMail> | undefined
    const errors: Array<{field: string; message: string}> = []
    if (!mail?.personalizations?.length) errors.push({field: 'personalizations', message: 'The personalizations field is required and must have at least one personalization.'})
    if (!mail?.from?.email) errors.push({field: 'from.email', message: 'The from email does not contain a valid address.'})
    if (!mail?.subject) errors.push({field: 'subject', message: 'The subject is required.'})
    if (!mail?.content?.length) errors.push({field: 'content', message: 'Unless a valid template_id is provided, the content parameter is required.'})
    if (errors.length > 0) return {body: JSON.stringify({errors}), headers: {'content-type': 'application/json'}, status: 400}
    return {headers: {'x-message-id': `fake-${this.accepted.length + 1}`}, status: 202}
  }
}

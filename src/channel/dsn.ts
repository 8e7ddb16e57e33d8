/**
 * DSN parameters (RFC 3461 section 4): RET and ENVID on MAIL, NOTIFY and
 * ORCPT on RCPT. A sink sends no notifications; it checks the syntax, takes
 * the parameters out of the set that would get 555, and leaves them in the
 * recorded options (upper-cased, as smtpd records every parameter).
 */

type Params = Map<string, string | true>;

/** xtext (RFC 3461 section 4): printable ASCII but `+` and `=`, and `+XX` hex escapes. */
const XTEXT = /^(?:[!-*,-<>-~]|\+[0-9A-F]{2})+$/;

/** RFC 3461 4.3: `NEVER` alone, or any of SUCCESS, FAILURE, DELAY. */
const NOTIFY = /^(?:NEVER|(?:SUCCESS|FAILURE|DELAY)(?:,(?:SUCCESS|FAILURE|DELAY))*)$/;

/** Takes RET and ENVID out of `params`; returns the name of a malformed one, or undefined. */
export function checkDsnMailParams(params: Params): string | undefined {
  const ret = params.get('RET');
  if (ret !== undefined && ret !== 'FULL' && ret !== 'HDRS') return 'RET';
  const envid = params.get('ENVID');
  if (envid !== undefined && (envid === true || envid.length > 100 || !XTEXT.test(envid))) return 'ENVID';
  params.delete('RET');
  params.delete('ENVID');
  return undefined;
}

/** Takes NOTIFY and ORCPT out of `params`; returns the name of a malformed one, or undefined. */
export function checkDsnRcptParams(params: Params): string | undefined {
  const notify = params.get('NOTIFY');
  if (notify !== undefined && (notify === true || !NOTIFY.test(notify))) return 'NOTIFY';
  const orcpt = params.get('ORCPT');
  // addr-type ";" xtext (RFC 3461 4.2), e.g. rfc822;user@example.com.
  if (
    orcpt !== undefined &&
    (orcpt === true || !/^[A-Z0-9-]+;.+$/.test(orcpt) || !XTEXT.test(orcpt.slice(orcpt.indexOf(';') + 1)))
  ) {
    return 'ORCPT';
  }
  params.delete('NOTIFY');
  params.delete('ORCPT');
  return undefined;
}

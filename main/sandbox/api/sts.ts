/**
 * STS GetCallerIdentity (AWS Query protocol: `Action=GetCallerIdentity&Version=2011-06-15`).
 */
import type { CallerIdentity } from '../credentials.js';
import { ApiError, xmlEscape } from './errors.js';

export const STS_API_VERSION = '2011-06-15';
export const STS_ACTIONS = ['GetCallerIdentity'] as const;

/** Runs one STS action; returns the response XML (without the XML declaration) or throws an ApiError. */
export function handleStsAction(params: URLSearchParams, caller: CallerIdentity, requestId: string): string {
  const action = params.get('Action');
  if (!action) throw new ApiError('MissingAction', 'The request must contain the parameter Action.');
  if (action !== 'GetCallerIdentity') {
    throw new ApiError(
      'InvalidAction',
      `Could not find operation ${action.slice(0, 100)} for version ${STS_API_VERSION}. The sandbox implements: ${STS_ACTIONS.join(', ')}.`,
    );
  }
  return [
    `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/${STS_API_VERSION}/">`,
    '<GetCallerIdentityResult>',
    `<Arn>${xmlEscape(caller.arn)}</Arn>`,
    `<UserId>${xmlEscape(caller.userId)}</UserId>`,
    `<Account>${xmlEscape(caller.accountId)}</Account>`,
    '</GetCallerIdentityResult>',
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>`,
    '</GetCallerIdentityResponse>',
  ].join('');
}

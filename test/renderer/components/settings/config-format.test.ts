import { describe, expect, it } from 'vitest';
import {
  humanize,
  keyLabel,
  liveHint,
  matchesQuery,
  sectionTitle,
  sortSections,
  sourceTitle,
} from '../../../../renderer/components/settings/config-format.js';

describe('config-format', () => {
  it('labels keys in words, acronyms kept, the unit the field shows left out', () => {
    expect(humanize('max_sessions_per_instance')).toBe('Max sessions per instance');
    expect(humanize('sso_open_browser')).toBe('SSO open browser');
    expect(humanize('ca_bundle')).toBe('CA bundle');
    expect(keyLabel({ key: 'performance.ui_update_interval_ms', section: 'performance', unit: 'ms' })).toBe(
      'UI update interval',
    );
    expect(keyLabel({ key: 'aws.mfa_prompt_timeout_seconds', section: 'aws', unit: 'seconds' })).toBe(
      'MFA prompt timeout',
    );
    // Not when the name says something else, nor when the unit differs.
    expect(keyLabel({ key: 'logging.max_file_mb', section: 'logging', unit: 'MiB' })).toBe('Max file MB');
    expect(keyLabel({ key: 'session.health_check_interval', section: 'session', unit: 'ms' })).toBe(
      'Health check interval',
    );
  });

  it('orders and names sections', () => {
    expect(sortSections(['aws', 'session', 'zeta', 'ui', 'database', 'resources'])).toEqual([
      'ui',
      'resources',
      'aws',
      'session',
      'database',
      'zeta',
    ]);
    expect(sectionTitle('aws')).toBe('AWS');
    expect(sectionTitle('session')).toBe('Sessions');
    expect(sectionTitle('new_things')).toBe('New things');
  });

  it('explains sources and when changes apply', () => {
    expect(sourceTitle('env', { env: 'EC2_CONNECT_X' })).toBe(
      'Set by the environment variable EC2_CONNECT_X.',
    );
    expect(sourceTitle('file', { file: '/c.json' })).toBe('Set in the configuration file /c.json.');
    expect(sourceTitle('preset', { preset: 'ci' })).toBe('Set by the ci preset.');
    expect(liveHint(true)).toBe('Applies live');
    expect(liveHint(false)).toBe('Applies to new sessions or at restart');
  });

  it('matches every word of a query, case-insensitively', () => {
    expect(matchesQuery('', ['x'])).toBe(true);
    expect(matchesQuery('total SESSIONS', ['Max total sessions', null])).toBe(true);
    expect(matchesQuery('total proxy', ['Max total sessions'])).toBe(false);
    expect(matchesQuery('ec2_connect_max', [undefined, 'EC2_CONNECT_MAX_TOTAL_SESSIONS'])).toBe(true);
  });
});

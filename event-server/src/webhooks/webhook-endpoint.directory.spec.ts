import { describe, expect, it } from 'vitest';
import type { EventConfig } from '../config/event-config.js';
import { FIRST_LOAD_NEWS_MS, WebhookEndpointDirectory } from './webhook-endpoint.directory.js';
import type { WebhookEndpointRecord } from './webhook-endpoint.js';
import type { WebhookEndpointRepository } from './webhook-endpoint.repository.js';

function endpoint(id: string, enabledAt: number): WebhookEndpointRecord {
  const at = new Date(enabledAt);
  return {
    id,
    url: 'https://game.example/hook',
    events: ['claim.granted'],
    enabled: true,
    enabledAt: at,
    secrets: [],
    createdBy: 'admin',
    createdAt: at,
    updatedAt: at,
  };
}

/** A directory over a store whose enabled endpoints the test sets, and the endpoints it announced. */
function directoryOver(stored: WebhookEndpointRecord[]) {
  const repository = { findEnabled: () => Promise.resolve([...stored]) } as unknown as WebhookEndpointRepository;
  const config = { payout: { endpointCacheMs: 60_000 } } as EventConfig;
  const directory = new WebhookEndpointDirectory(config, repository);
  const announced: string[] = [];
  directory.onEnabled((found) => announced.push(`${found.id}@${found.enabledAt.getTime()}`));
  return { directory, announced };
}

describe('WebhookEndpointDirectory.onEnabled', () => {
  it('announces an endpoint once the copy starts listing it, not those the first load finds', async () => {
    const stored = [endpoint('old', 1)];
    const { directory, announced } = directoryOver(stored);
    await directory.refresh();
    expect(announced).toEqual([]);
    stored.push(endpoint('new', 2));
    await directory.refresh();
    await directory.refresh();
    expect(announced).toEqual(['new@2']);
  });

  it('announces on the first load an endpoint enabled within FIRST_LOAD_NEWS_MS: replicas stopped since may have left it out', async () => {
    const now = Date.now();
    const stored = [endpoint('recent', now - FIRST_LOAD_NEWS_MS + 60_000), endpoint('older', now - FIRST_LOAD_NEWS_MS - 60_000)];
    const { directory, announced } = directoryOver(stored);
    await directory.refresh();
    expect(announced).toEqual([`recent@${now - FIRST_LOAD_NEWS_MS + 60_000}`]);
    await directory.refresh();
    expect(announced).toHaveLength(1);
  });

  it('announces an endpoint enabled again since the copy last listed it (disabled and enabled between two loads)', async () => {
    const stored = [endpoint('e', 1)];
    const { directory, announced } = directoryOver(stored);
    await directory.refresh();
    stored[0] = endpoint('e', 5);
    await directory.refresh();
    expect(announced).toEqual(['e@5']);
  });

  it('announces an endpoint changed through this process as soon as it is enabled there', async () => {
    const stored: WebhookEndpointRecord[] = [];
    const { directory, announced } = directoryOver(stored);
    await directory.refresh();
    const created = endpoint('mine', 3);
    stored.push(created);
    await directory.changed('mine', created);
    // Saving it again (a secret rotation, a new URL) is no news: its enabledAt did not move.
    await directory.changed('mine', { ...created, url: 'https://game.example/other' });
    expect(announced).toEqual(['mine@3']);
    expect(directory.subscribers('claim.granted')).toEqual(['mine']);
  });
});

import { describe, expect, it } from 'vitest';
import type { EventConfig } from '../config/event-config.js';
import { WebhookEndpointDirectory } from './webhook-endpoint.directory.js';
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

/** `found`, which took `event` at `since` while enabled (PATCH {events}). */
function taking(found: WebhookEndpointRecord, event: string, since: number): WebhookEndpointRecord {
  return {
    ...found,
    events: [...found.events, event],
    eventsSince: [...(found.eventsSince ?? []), { event, since: new Date(since) }],
  };
}

/** A directory over a store whose enabled endpoints the test sets, and the endpoints it announced. */
function directoryOver(stored: WebhookEndpointRecord[], failures = 0) {
  let failing = failures;
  const findEnabled = () => (failing-- > 0 ? Promise.reject(new Error('store away')) : Promise.resolve([...stored]));
  const repository = { findEnabled } as unknown as WebhookEndpointRepository;
  const config = { payout: { endpointCacheMs: 60_000 } } as EventConfig;
  const directory = new WebhookEndpointDirectory(config, repository);
  const announced: string[] = [];
  directory.onEnabled((found, news) =>
    announced.push(`${found.id}@${(news.since ?? found.enabledAt).getTime()}${news.firstLoad ? ' (first load)' : ''}`),
  );
  return { directory, announced };
}

describe('WebhookEndpointDirectory.onEnabled', () => {
  it('announces an endpoint once the copy starts listing it, and every endpoint of the first load as such', async () => {
    const stored = [endpoint('old', 1)];
    const { directory, announced } = directoryOver(stored);
    await directory.refresh();
    expect(announced).toEqual(['old@1 (first load)']);
    stored.push(endpoint('new', 2));
    await directory.refresh();
    await directory.refresh();
    expect(announced).toEqual(['old@1 (first load)', 'new@2']);
  });

  it('announces the endpoints of a first load that came after a failed one as this process may have left them out', async () => {
    // Claims were served from the empty copy meanwhile: this process's own transitions lack the endpoint.
    const { directory, announced } = directoryOver([endpoint('e', 1)], 1);
    await directory.refresh();
    expect(announced).toEqual([]);
    await directory.refresh();
    expect(announced).toEqual(['e@1']);
  });

  it('announces an endpoint enabled again since the copy last listed it (disabled and enabled between two loads)', async () => {
    const stored = [endpoint('e', 1)];
    const { directory, announced } = directoryOver(stored);
    await directory.refresh();
    stored[0] = endpoint('e', 5);
    await directory.refresh();
    expect(announced).toEqual(['e@1 (first load)', 'e@5']);
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

  it('announces an endpoint that took another event type since the copy last listed it, from when it took it', async () => {
    const stored = [endpoint('e', 1)];
    const { directory, announced } = directoryOver(stored);
    await directory.refresh();
    stored[0] = taking(stored[0]!, 'claim.revoked', 7);
    await directory.refresh();
    // Dropping a type is no news, and taking it again starts it again.
    stored[0] = { ...stored[0], events: ['claim.granted'], eventsSince: [] };
    await directory.refresh();
    stored[0] = taking(stored[0], 'claim.revoked', 9);
    await directory.refresh();
    expect(announced).toEqual(['e@1 (first load)', 'e@7', 'e@9']);
    // A first load takes each endpoint from its enabling: replicas stopped since may have lacked every type.
    const { directory: another, announced: fromStart } = directoryOver([...stored]);
    await another.refresh();
    expect(fromStart).toEqual(['e@1 (first load)']);
  });
});

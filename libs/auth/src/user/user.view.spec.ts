import type { UserWithStats } from '@app/persistence';
import { toAdminUserView, toUserView } from './user.view';

const entity: UserWithStats = {
  id: '0123456789abcdef01234567',
  email: 'Ada@example.com',
  name: 'Ada',
  role: 'admin',
  disabled: false,
  passwordHash: '$2b$04$abcdefghijklmnopqrstuu0123456789abcdefghijklmnopqrstu',
  createdAt: new Date('2024-01-02T03:04:05.000Z'),
  updatedAt: new Date('2024-01-02T03:04:05.000Z'),
  threadCount: 3,
  apiKeyCount: 2,
  usage: { promptTokens: 10, completionTokens: 20 },
  usageToday: { promptTokens: 1, completionTokens: 2 },
  lastActiveAt: new Date('2024-02-03T04:05:06.000Z'),
};

describe(toUserView.name, () => {
  it('should give exactly the contract fields, never the hash', () => {
    expect(toUserView(entity)).toEqual({
      id: entity.id,
      email: 'Ada@example.com',
      name: 'Ada',
      role: 'admin',
      disabled: false,
      createdAt: '2024-01-02T03:04:05.000Z',
    });
    expect(JSON.stringify(toAdminUserView(entity))).not.toContain('$2b$');
    expect(toAdminUserView(entity)).toMatchObject({
      threadCount: 3,
      apiKeyCount: 2,
      usage: { promptTokens: 10, completionTokens: 20 },
      usageToday: { promptTokens: 1, completionTokens: 2 },
      lastActiveAt: '2024-02-03T04:05:06.000Z',
    });
    expect(toAdminUserView({ ...entity, lastActiveAt: null }).lastActiveAt).toBeNull();
  });
});
